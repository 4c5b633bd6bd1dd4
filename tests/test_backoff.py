"""Retries of the real crawler against a real local server: Retry-After on 429/503 and exponential back-off."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from crawler.downloadermiddlewares.backoff import retry_after_seconds
from crawler.demo.replay.server import ReplayServer
from helpers import FAST, busy_site, rows, run_cli

def times_of(server, path):
    return [t for (_m, p, _h), t in zip(server.requests, server.request_times) if p == path]


def test_backoff_honours_retry_after_and_backs_off_exponentially(tmp_path):
    site = busy_site(tmp_path / "site", {
        "/feed.xml": {"sequence": [{"status": 429, "headers": {"Retry-After": "2"}, "body": "slow down"}, {}]},
        "/a.html": {"sequence": [{"status": 503, "body": "busy"}, {"status": 503, "body": "busy"}, {}]},
    })
    db = tmp_path / "busy.duckdb"
    with ReplayServer(site) as server:
        result = run_cli("crawl", "--db", db, "--feed", server.url + "/feed.xml", *FAST,
                         "--set", "BACKOFF_BASE_DELAY=0.4")
        assert result.returncode == 0, result.stderr
        feed, page = times_of(server, "/feed.xml"), times_of(server, "/a.html")
    assert len(feed) == 2 and feed[1] - feed[0] >= 2.0  # waited as long as the server asked
    assert len(page) == 3
    assert page[1] - page[0] >= 0.4 and page[2] - page[1] >= 0.8  # 0.4 s, then twice that
    stored = rows(db, "SELECT url, text_source FROM documents ORDER BY url")
    assert [(r["url"].rsplit("/", 1)[1], r["text_source"]) for r in stored] == [("a.html", "page"), ("b.html", "page")]
    assert rows(db, "SELECT count(*) AS n FROM errors")[0]["n"] == 0
    assert rows(db, "SELECT status FROM crawl_runs")[0]["status"] == "ok"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), (b"0", 0.0), ("", None), ("soon", None), ("-5", None),
     (format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc), usegmt=True), 30.0),
     (format_datetime(datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc), usegmt=True), 0.0)],
)
def test_backoff_reads_retry_after_seconds_and_dates(value, expected):
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(value, now=now) == expected
