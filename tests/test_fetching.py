"""Fetch only what changed, and never stop on bad input: conditional requests, broken servers, private addresses."""

from __future__ import annotations

import json

from crawler.replay.server import ReplayServer
from helpers import rows, run_cli
from test_backoff import FAST, FEED, busy_site


def paths_since(server, before: int) -> list[str]:
    return [path for _m, path, _h in server.requests[before:] if path != "/robots.txt"]


def test_fetching_conditional_requests_skip_unchanged_feeds(tmp_path):
    site = busy_site(tmp_path / "site", {})
    db = tmp_path / "cond.duckdb"
    with ReplayServer(site, validators=True) as server:
        args = ("crawl", "--db", db, "--feed", server.url + "/feed.xml", *FAST)
        assert run_cli(*args).returncode == 0
        [stored] = rows(db, "SELECT url, etag, last_modified FROM http_validators")
        assert stored["url"] == server.url + "/feed.xml" and stored["etag"] and stored["last_modified"]

        before = len(server.requests)
        assert run_cli(*args).returncode == 0
        assert paths_since(server, before) == ["/feed.xml"]
        _method, _path, headers = server.requests[-1]
        assert headers["If-None-Match"] == stored["etag"] and headers["If-Modified-Since"] == stored["last_modified"]
        last = rows(db, "SELECT status, fetched, errors, duplicates FROM crawl_runs ORDER BY started_at DESC LIMIT 1")[0]
        assert last == {"status": "ok", "fetched": 1, "errors": 0, "duplicates": 0}  # a 304: nothing parsed

        (site / "c.html").write_text((site / "a.html").read_text().replace("story a", "story c"), encoding="utf-8")
        changed = FEED.replace("</channel>", "<item><title>Seedance 2.0 again</title><link>/c.html</link></item></channel>")
        (site / "feed.xml").write_text(changed, encoding="utf-8")
        before = len(server.requests)
        assert run_cli(*args).returncode == 0
        assert paths_since(server, before) == ["/feed.xml", "/c.html"]  # changed: read, and only its new page fetched
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] == 3
    assert rows(db, "SELECT etag FROM http_validators")[0]["etag"] != stored["etag"]


def test_fetching_validators_are_kept_only_after_a_run_without_errors(tmp_path):
    site = busy_site(tmp_path / "site", {"/b.html": {"status": 500, "body": "oops"}})
    db = tmp_path / "cond-err.duckdb"
    with ReplayServer(site, validators=True) as server:
        args = ("crawl", "--db", db, "--feed", server.url + "/feed.xml", *FAST, "--set", "BACKOFF_BASE_DELAY=0")
        assert run_cli(*args).returncode == 0
        assert rows(db, "SELECT count(*) AS n FROM http_validators")[0]["n"] == 0
        before = len(server.requests)
        assert run_cli(*args).returncode == 0  # the feed is read again, and the failed page tried again
        assert paths_since(server, before)[:1] == ["/feed.xml"] and "/b.html" in paths_since(server, before)
        assert "If-None-Match" not in server.requests[before][2]
