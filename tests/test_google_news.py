"""Google News links in the newer opaque format, resolved through Google's two-step lookup by a real crawl.

A local server plays news.google.com in Google's formats: the search RSS, the article page carrying the
signature and timestamp, and the ``batchexecute`` answer (shape from googlenewsdecoder; see test_newslinks).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import rows, run_cli, write_topic

GOOGLE_LINK = ("https://news.google.com/rss/articles/CBMiVkFVX3lxTE4zaGU2bTY2ZGkzdTRkSkJ0cFpsTGlDUjkxU2FBRURa"
               "TWU0c3QzVWZ1MHZZNkZ5Vzk1ZVBnTDFHY2R6ZmdCUkpUTUJsS1pqQTlCRzlzbHV3?oc=5")
FEED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator><title>"Seedance" - Google News</title><link>https://news.google.com/search?q=Seedance</link><language>en-US</language><item><title>MPA condemns Seedance 2.0 - Example News</title><link>{link}</link><guid isPermaLink="false">CBMiVkFVX3lxTE4z</guid><pubDate>Sat, 14 Feb 2026 08:30:00 GMT</pubDate><description>&lt;a href="{link}" target="_blank"&gt;MPA condemns Seedance 2.0&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Example News&lt;/font&gt;</description><source url="https://news.example">Example News</source></item></channel></rss>"""
PAGE = """<!doctype html><html><body><c-wiz jsrenderer="qJgbSe"><div jscontroller="aLI87" data-n-a-id="x"
 data-n-a-sg="AZ5r3eT0h7u9c-Q_kQ1zZx0K8Gq7A1PLvgm" data-n-a-ts="1727359124"></div></c-wiz></body></html>"""
ARTICLE = ("<html><head><title>MPA condemns Seedance 2.0</title></head><body><article><h1>MPA condemns Seedance 2.0"
           "</h1>" + "<p>The Motion Picture Association said ByteDance's Seedance 2.0 uses copyrighted works on a"
           " massive scale, and urged the company to stop.</p>" * 4 + "</article></body></html>")


class GoogleNews(BaseHTTPRequestHandler):
    def reply(self, status: int, body: str, kind: str = "text/html") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.log.append(("GET", self.path))
        if self.path.startswith("/rss/search"):
            self.reply(200, FEED.format(link=GOOGLE_LINK), "application/xml")
        elif self.path.startswith("/rss/articles/"):
            self.reply(self.server.page_status, PAGE if self.server.page_status == 200 else "Too Many Requests")
        elif self.path == "/story.html":
            self.reply(200, ARTICLE)
        else:
            self.reply(404, "not found")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.log.append(("POST", self.path))
        assert "garturlreq" in body and "AZ5r3eT0h7u9c" in body
        inner = json.dumps(["garturlres", f"http://127.0.0.1:{self.server.server_port}/story.html", 1])
        self.reply(200, ")]}'\n\n" + json.dumps([["wrb.fr", "Fbv4je", inner, None, None, None, "generic"]]),
                   "application/json")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def google(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), GoogleNews)
    server.log, server.page_status = [], 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    topic = write_topic(tmp_path / "topic.toml", [{
        "name": "google-news", "kind": "news_search", "url": base + "/rss/search?q={query}&hl=en-US",
        "queries": ["Seedance"], "google_base": base,
    }])
    yield server, topic, tmp_path / "google.duckdb"
    server.shutdown()


def crawl(topic, db):
    return run_cli("crawl", "--topic", topic, "--db", db, "-q", "--set", "NLP_ENABLED=false",
                   "--set", "ROBOTSTXT_OBEY=false")


def test_google_news_opaque_link_resolves_to_publisher_once(google):
    server, topic, db = google
    assert crawl(topic, db).returncode == 0
    [document] = rows(db, "SELECT url, title, text_source FROM documents")
    assert document["url"] == f"http://127.0.0.1:{server.server_port}/story.html"
    assert document["title"] == "MPA condemns Seedance 2.0" and document["text_source"] == "page"
    assert [row["url"] for row in rows(db, "SELECT url FROM url_aliases")] == [GOOGLE_LINK]
    assert ("POST", "/_/DotsSplashUi/data/batchexecute") in server.log
    server.log.clear()
    assert crawl(topic, db).returncode == 0
    assert [path for _method, path in server.log] == ["/rss/search?q=Seedance&hl=en-US"]  # no lookup again


def test_google_news_failed_lookup_keeps_the_entry_until_resolved(google):
    server, topic, db = google
    server.page_status = 429
    result = crawl(topic, db)
    assert result.returncode == 0, result.stdout
    [document] = rows(db, "SELECT url, title, text_source FROM documents")
    assert document == {"url": GOOGLE_LINK, "title": "MPA condemns Seedance 2.0", "text_source": "feed"}
    [error] = rows(db, "SELECT reason FROM errors")
    assert error["reason"].startswith("Google News lookup failed: HTTP 429")
    server.page_status = 200  # Google answers again: the next crawl resolves the link and replaces the row
    assert crawl(topic, db).returncode == 0
    [document] = rows(db, "SELECT url, text_source FROM documents")
    assert document == {"url": f"http://127.0.0.1:{server.server_port}/story.html", "text_source": "page"}
