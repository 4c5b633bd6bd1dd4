"""Helpers for tests that run seedtrack for real: the CLI in a subprocess, topic files, database reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable

import duckdb

from crawler.topic import DEFAULT_TOPIC

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 240, cwd: Path | None = None, stdin: str | None = None,
            env: dict[str, str] | None = None):
    """``seedtrack ARGS`` in a fresh process (a crawl needs its own Twisted reactor); ``env`` adds variables."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True, timeout=timeout,
        cwd=cwd or REPO, input=stdin, env={**os.environ, **env} if env else None,
    )


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def write_topic(path: Path, sources: Iterable[dict[str, Any]], include: list[str] | None = None) -> Path:
    """The default topic with its sources replaced by ``sources`` (and its terms by ``include``)."""
    text = DEFAULT_TOPIC.read_text(encoding="utf-8")
    text = text[: text.index("[[source]]")]
    if include is not None:
        start = text.index("include = [")
        end = text.index("]", start) + 1
        text = text[:start] + "include = " + toml_value(include) + text[end:]
    for source in sources:
        text += "\n[[source]]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in source.items())
    path.write_text(text, encoding="utf-8")
    return path


def rows(db: Path, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


# -- replay-site sources and small sites served by ReplayServer -------------------------------------

SEARCH_PATHS = {
    "google-news": "/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en",
    "bing-news": "/news/search?q={query}&format=rss",
    "gdelt": "/api/v2/doc/doc?query={query}&mode=artlist&format=json",
}
KINDS = {"google_news": "news_search", "bing_news": "news_search"}


def site_sources(server, manifest):
    sources = []
    for entry in manifest["sources"]:
        source = {"name": entry["name"], "kind": KINDS.get(entry["kind"], entry["kind"])}
        if entry["name"] in SEARCH_PATHS:
            source["url"] = server.url + SEARCH_PATHS[entry["name"]]
            source["queries"] = ["Seedance"]
        else:
            source["url"] = server.url + entry["path"]
        source["download_delay"] = 0
        sources.append(source)
    return sources


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Busy</title><link>/</link>
<item><title>Seedance 2.0 faces a lawsuit</title><link>/a.html</link><description>Studios sue.</description></item>
<item><title>Seedance 2.0 lands in CapCut</title><link>/b.html</link><description>A launch.</description></item>
</channel></rss>"""
PAGE = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "".join(f"<p>Hollywood studios sued ByteDance over Seedance 2.0 on day {n}, saying the AI video"
                  f" model copies {n} of their films.</p>" for n in range(1, 5))
        + "</article></body></html>")
FAST = ("-q", "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "NLP_ENABLED=false")


def busy_site(root, routes):
    root.mkdir()
    (root / "feed.xml").write_text(FEED, encoding="utf-8")
    for name in ("a", "b"):
        (root / f"{name}.html").write_text(PAGE.format(title=f"Seedance 2.0 story {name}"), encoding="utf-8")
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    return root


def wait_for(check, timeout: float = 180, what: str = "condition"):
    """Poll ``check`` until it returns something true; generous deadlines for a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
