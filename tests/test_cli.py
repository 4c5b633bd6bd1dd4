"""The command line for real: demo, ad hoc feeds and pages, bad input, failures, robots.txt, real pages."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
from collections import Counter

import pytest

from crawler.demo.replay.server import ReplayServer
from helpers import rows, run_cli, write_topic
from realdata import REALDATA

QUIET = ("-q", "--set", "AUTOTHROTTLE_ENABLED=false")


def test_cli_demo_crawls_the_replay_site_and_prints_queries(tmp_path):
    db = tmp_path / "demo.duckdb"
    result = run_cli("demo", "--db", db, "--articles", "16", "-q")
    assert result.returncode == 0, result.stderr
    assert f"database: {db.resolve()}" in result.stdout
    queries = re.findall(r'seedtrack sql --db \S+ "(.+)"', result.stdout)
    assert len(queries) == 3
    for query in queries:
        answer = run_cli("sql", query, "--db", db, "--format", "json")
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout), query
    read = {r["source_kind"] for r in rows(db, "SELECT source_kind FROM crawl_runs WHERE fetched > 0")}
    assert {"feed", "news_search", "gdelt", "sitemap"} <= read  # which source stores an article first varies
    kinds = {row["source_kind"] for row in rows(db, "SELECT DISTINCT source_kind FROM documents")}
    assert "feed" in kinds
    again = run_cli("demo", "--db", db, "--articles", "16", "-q")
    assert again.returncode == 0, again.stderr
    assert rows(db, "SELECT count(DISTINCT run_id) AS n FROM crawl_runs")[0]["n"] == 1  # recreated, not appended


def test_cli_crawl_adhoc_feed_and_page(replay, tmp_path):
    server, manifest = replay
    db = tmp_path / "adhoc.duckdb"
    page = next(a for a in manifest["articles"] if a["on_topic"] and a["lang"] == "en" and a["status"] == 200)
    result = run_cli("crawl", "--db", db, "--feed", server.url + "/feeds/pacific-tech.rdf",
                     "--page", server.url + page["canonical_path"], *QUIET)
    assert result.returncode == 0, result.stderr
    sources = {row["source"] for row in rows(db, "SELECT DISTINCT source FROM documents")}
    assert sources == {"feed-1-127.0.0.1", "pages"} or sources == {"feed-1-127.0.0.1"}
    assert rows(db, "SELECT count(*) AS n FROM documents WHERE url = ?", [server.url + page["canonical_path"]])[0]["n"] == 1
    runs = {row["source"]: row for row in rows(db, "SELECT * FROM crawl_runs")}
    assert set(runs) == {"feed-1-127.0.0.1", "pages"}


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ('[topic]\nname = "X"\n[terms]\ninclude = ["x"\n', 4, ""),
        ('[topic]\nname = "X"\n[terms]\ninclude = ["x"]\n\n[[source]]\nname = "a"\nkind = "rss"\nurl = "http://x/"\n', 8, "kind"),
    ],
)
def test_cli_crawl_bad_topic_names_file_and_line(tmp_path, content, line, fragment):
    topic = tmp_path / "bad.toml"
    topic.write_text(content, encoding="utf-8")
    result = run_cli("crawl", "--topic", topic, "--db", tmp_path / "x.duckdb")
    assert result.returncode == 2
    assert f"{topic}:{line}:" in result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_crawl_unreachable_source_fails_and_is_recorded(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = tmp_path / "down.duckdb"
    result = run_cli("crawl", "--db", db, "--feed", f"http://127.0.0.1:{port}/feed.xml", *QUIET,
                     "--set", "RETRY_TIMES=0")
    assert result.returncode == 1
    [run] = rows(db, "SELECT * FROM crawl_runs")
    assert run["status"] == "failed" and run["errors"] == 1
    [error] = rows(db, "SELECT * FROM errors")
    assert "Connection" in error["reason"] and str(port) in error["url"]


def test_cli_crawl_malformed_feed_is_recorded_and_others_go_on(replay, tmp_path):
    server, _manifest = replay
    site = tmp_path / "site"
    site.mkdir()
    (site / "broken.xml").write_bytes(b"<rss><channel><item><title>Seedance</title><link>")
    db = tmp_path / "mixed.duckdb"
    with ReplayServer(site) as broken:
        topic = write_topic(tmp_path / "topic.toml", [
            {"name": "broken", "kind": "feed", "url": broken.url + "/broken.xml"},
            {"name": "good", "kind": "feed", "url": server.url + "/feeds/pacific-tech.rdf"},
        ])
        result = run_cli("crawl", "--topic", topic, "--db", db, *QUIET, "--set", "NLP_ENABLED=false")
    assert result.returncode == 0, result.stderr
    runs = {row["source"]: row for row in rows(db, "SELECT * FROM crawl_runs")}
    assert runs["broken"]["status"] == "failed" and runs["good"]["status"] == "ok"
    [error] = rows(db, "SELECT reason FROM errors WHERE source = 'broken'")
    assert "not a readable feed" in error["reason"]
    assert runs["good"]["new"] > 0


def test_cli_crawl_obeys_robots_for_concurrent_first_requests(replay, tmp_path):
    server, _manifest = replay
    db = tmp_path / "robots.duckdb"
    before = len(server.requests)
    pages = [f"{server.url}/private/account.html?n={n}" for n in range(6)]
    result = run_cli("crawl", "--db", db, *[arg for page in pages for arg in ("--page", page)], *QUIET)
    assert result.returncode == 1, result.stdout  # nothing could be fetched
    fetched = [path for _method, path, _headers in server.requests[before:] if path.startswith("/private/")]
    assert fetched == []
    assert rows(db, "SELECT count(*) AS n FROM errors WHERE reason LIKE '%robots.txt%'")[0]["n"] == 6


LATE_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Late</title><link>/</link>
<item><title>Seedance 2.0 faces a lawsuit</title><link>/late.html</link><description>Studios sue.</description></item>
<item><title>Studios sue a video start-up</title><link>/quiet.html</link><description>A lawsuit.</description></item>
</channel></rss>"""
PAGE_BODY = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
             + "".join(f"<p>Hollywood studios sued ByteDance over Seedance 2.0 on day {n}, saying the AI video"
                       f" model copies {n} of their films.</p>" for n in range(1, 5))
             + "</article></body></html>")


def test_cli_crawl_again_fetches_pages_that_failed_and_upgrades_them(tmp_path):
    site = tmp_path / "late"
    site.mkdir()
    (site / "feed.xml").write_text(LATE_FEED, encoding="utf-8")
    db = tmp_path / "late.duckdb"
    with ReplayServer(site) as server:
        args = ("crawl", "--db", db, "--feed", server.url + "/feed.xml", *QUIET, "--set", "NLP_ENABLED=false")
        assert run_cli(*args).returncode == 0  # both pages answer 404
        [late] = rows(db, "SELECT url, text_source FROM documents")
        assert late["text_source"] == "feed" and late["url"].endswith("/late.html")
        assert [r["url"].rsplit("/", 1)[1] for r in rows(db, "SELECT url FROM filtered")] == ["quiet.html"]
        for name, title in (("late.html", "Seedance 2.0 faces a lawsuit"), ("quiet.html", "Studios sue")):
            (site / name).write_text(PAGE_BODY.format(title=title), encoding="utf-8")
        assert run_cli(*args).returncode == 0  # the pages are back
        stored = {r["url"].rsplit("/", 1)[1]: r for r in rows(db, "SELECT url, text_source, text FROM documents")}
        assert set(stored) == {"late.html", "quiet.html"}
        assert all(r["text_source"] == "page" and "ByteDance" in r["text"] for r in stored.values())
        assert rows(db, "SELECT count(*) AS n FROM filtered")[0]["n"] == 0
        before = len(server.requests)
        assert run_cli(*args).returncode == 0  # read once: not fetched again
        assert [path for _m, path, _h in server.requests[before:]] == ["/feed.xml"]


def tokens(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def f1(found: str, gold: str) -> float:
    a, b = tokens(found), tokens(gold)
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def test_cli_crawl_real_article_pages_match_gold_text(tmp_path):
    """Real news pages (scrapinghub article-extraction-benchmark) served locally, crawled with --page."""
    gold = json.loads((REALDATA / "scrapinghub-aeb" / "ground-truth.json").read_text())
    site = tmp_path / "aeb"
    site.mkdir()
    chosen = [key for key in sorted(gold) if re.search(r"\bthe\b", gold[key]["articleBody"], re.I)][:20]
    for key in chosen:
        (site / f"{key}.html").write_bytes(gzip.decompress((REALDATA / "scrapinghub-aeb" / "html" / f"{key}.html.gz").read_bytes()))
    topic = write_topic(tmp_path / "topic.toml", [{"name": "none", "kind": "page", "url": "http://127.0.0.1/"}],
                        include=["the"])
    db = tmp_path / "aeb.duckdb"
    with ReplayServer(site) as server:
        pages = [arg for key in chosen for arg in ("--page", f"{server.url}/{key}.html")]
        result = run_cli("crawl", "--topic", topic, "--db", db, *pages, *QUIET, "--set", "NLP_ENABLED=false")
    assert result.returncode == 0, result.stderr
    stored = rows(db, "SELECT url, text, text_source FROM documents")
    assert len(stored) == len(chosen)
    assert all(row["text_source"] == "page" for row in stored)
    scores = [max(f1(row["text"], gold[key]["articleBody"]) for row in stored) for key in chosen]
    assert sum(scores) / len(scores) >= 0.85, scores
    canonical = {row["url"] for row in stored}
    assert sum(gold[key]["url"].split("?")[0] in canonical for key in chosen) >= 10  # rel=canonical followed


def test_cli_crawl_real_feed_keeps_entries_when_pages_are_gone(tmp_path):
    """A real TechCrunch RSS capture whose item links lead to pages this server does not have (404)."""
    site = tmp_path / "tc"
    site.mkdir()
    body = (REALDATA / "feedjira-sample-feeds" / "TechCrunch.xml").read_text(encoding="utf-8")
    (site / "feed.xml").write_text(body.replace("http://feedproxy.google.com/", "__BASE_URL__/"), encoding="utf-8")
    shutil.copy(REALDATA / "feedjira-sample-feeds" / "TechCrunch.xml", site / "original.xml")
    topic = write_topic(tmp_path / "topic.toml", [{"name": "tc", "kind": "feed", "url": "http://127.0.0.1/x"}],
                        include=["IPO"])
    db = tmp_path / "tc.duckdb"
    with ReplayServer(site) as server:
        result = run_cli("crawl", "--topic", topic, "--db", db, "--feed", server.url + "/feed.xml", *QUIET,
                         "--set", "NLP_ENABLED=false", "--set", "ROBOTSTXT_OBEY=false")
    assert result.returncode == 0, result.stderr
    stored = rows(db, "SELECT title, text_source, published_at FROM documents")
    ipo = [row for row in stored if "IPO" in (row["title"] or "")]
    assert ipo and all(row["text_source"] == "feed" for row in stored)
    assert all(row["published_at"].year == 2011 for row in stored)
    assert rows(db, "SELECT count(*) AS n FROM errors WHERE reason = 'HTTP 404'")[0]["n"] == 20
