"""Helpers for tests that run seedtrack for real: the CLI in a subprocess, topic files, database reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
