"""The replay site (crawler.demo.replay.site) served by crawler.demo.replay.server.ReplayServer."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.robotparser import RobotFileParser

import feedparser
import pytest
import trafilatura

from crawler.parsers.newslinks import decode_bing_news_url, decode_google_news_url
from crawler.demo.replay.server import ReplayServer, bing_link
from crawler.demo.replay.site import build_site

DISCLAIMER = "Sample data written for the seedtrack demo — not real news"
TERMS = re.compile(r"seedance|jimeng|即梦", re.I)


def fetch(url: str, headers: dict | None = None):
    """(status, headers, body) without following redirects and without raising on errors."""
    parts = urllib.request.urlparse(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.headers, body


def get(url: str, headers: dict | None = None):
    """Follow redirects like a client would; returns the urllib response and its body."""
    resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10)
    return resp, resp.read()


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay-site")
    manifest = build_site(root, articles=40, seed=2026)
    with ReplayServer(root) as server:
        yield server, manifest


def members(manifest: dict, source: str) -> list[dict]:
    return [a for a in manifest["articles"] if source in a["in"]]


def source(manifest: dict, name: str) -> dict:
    return next(s for s in manifest["sources"] if s["name"] == name)


# --- the server on a hand-made root -------------------------------------------------------

@pytest.fixture
def small_root(tmp_path):
    (tmp_path / "page.html").write_text("<a href='__BASE_URL__/x'>é</a>", encoding="utf-8")
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    (tmp_path / "feed.atom").write_text("<feed/>", encoding="utf-8")
    (tmp_path / "data.json").write_text('{"u": "__BASE_URL__"}', encoding="utf-8")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "inner.txt").write_text("inner", encoding="utf-8")
    (tmp_path / "other.xml").write_text("<x>中文 __BASE_URL__</x>", encoding="utf-8")
    (tmp_path / "_secret.txt").write_text("hidden", encoding="utf-8")
    routes = {
        "/old": {"status": 301, "location": "/page.html"},
        "/abs": {"status": 302, "location": "__BASE_URL__/page.html"},
        "/gone": {"status": 410, "body": "<p>gone</p>"},
        "/alias.xml": {"file": "other.xml", "charset": "gb18030", "headers": {"X-Base": "__BASE_URL__"}},
        "/q": {"body": "path-only"},
        "/q?format=rss": {"body": "exact-query"},
        "/slow": {"body": "late", "delay": 0.3},
        "/zipped": {"file": "page.html", "gzip": True},
        "/typed": {"file": "dir/inner.txt", "content_type": "text/csv; charset=utf-8"},
    }
    (tmp_path / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    with ReplayServer(tmp_path) as server:
        yield server


def test_replay_server_serves_files_with_types_and_base_url(small_root):
    url = small_root.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    status, headers, body = fetch(url + "/page.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.decode("utf-8") == f"<a href='{url}/x'>é</a>"
    assert int(headers["Content-Length"]) == len(body)
    expected = {"/feed.rss": "application/rss+xml", "/feed.atom": "application/atom+xml",
                "/data.json": "application/json", "/other.xml": "application/xml"}
    for path, ctype in expected.items():
        status, headers, body = fetch(url + path)
        assert (status, headers["Content-Type"]) == (200, f"{ctype}; charset=utf-8")
    assert json.loads(fetch(url + "/data.json")[2]) == {"u": url}


def test_replay_server_head_sends_length_without_body(small_root):
    conn = http.client.HTTPConnection("127.0.0.1", small_root.port, timeout=5)
    conn.request("HEAD", "/page.html")
    resp = conn.getresponse()
    assert resp.status == 200
    assert int(resp.headers["Content-Length"]) == len(f"<a href='{small_root.url}/x'>é</a>".encode())
    assert resp.read() == b""
    conn.close()
    assert small_root.requests[-1][:2] == ("HEAD", "/page.html")


@pytest.mark.parametrize("path", ["/", "/dir", "/dir/", "/missing.html", "/_secret.txt", "/_routes.json",
                                  "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"])
def test_replay_server_refuses_listing_escape_and_hidden_files(small_root, path):
    status, _, body = fetch(small_root.url + path)
    assert status == 404
    assert b"root:" not in body and b"inner" not in body and b"hidden" not in body


def test_replay_server_routes_redirect_status_file_and_charset(small_root):
    url = small_root.url
    status, headers, _ = fetch(url + "/old")
    assert (status, headers["Location"]) == (301, "/page.html")
    status, headers, _ = fetch(url + "/abs")
    assert (status, headers["Location"]) == (302, f"{url}/page.html")
    assert fetch(url + "/gone")[::2] == (410, b"<p>gone</p>")
    status, headers, body = fetch(url + "/alias.xml")
    assert headers["Content-Type"] == "application/xml; charset=gb18030"
    assert headers["X-Base"] == url
    assert body == f"<x>中文 {url}</x>".encode("gb18030")
    status, headers, body = fetch(url + "/typed")
    assert (headers["Content-Type"], body) == ("text/csv; charset=utf-8", b"inner")


def test_replay_server_exact_query_route_wins_over_path(small_root):
    assert fetch(small_root.url + "/q?format=rss")[2] == b"exact-query"
    assert fetch(small_root.url + "/q?format=json")[2] == b"path-only"
    assert fetch(small_root.url + "/q")[2] == b"path-only"


def test_replay_server_gzips_only_when_accepted(small_root):
    status, headers, body = fetch(small_root.url + "/zipped", {"Accept-Encoding": "gzip, deflate"})
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(body)
    assert gzip.decompress(body).decode() == f"<a href='{small_root.url}/x'>é</a>"
    status, headers, body = fetch(small_root.url + "/zipped")
    assert headers.get("Content-Encoding") is None
    assert body.decode() == f"<a href='{small_root.url}/x'>é</a>"


def test_replay_server_delays_and_logs_requests(small_root):
    started = time.monotonic()
    assert fetch(small_root.url + "/slow", {"X-Test": "1"})[2] == b"late"
    assert time.monotonic() - started >= 0.3
    method, path, headers = small_root.requests[-1]
    assert (method, path, headers["X-Test"]) == ("GET", "/slow", "1")


def test_replay_server_stop_closes_the_port(tmp_path):
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    with ReplayServer(tmp_path) as server:
        url = server.url
        assert fetch(url + "/a.txt")[2] == b"a"
    with pytest.raises(OSError):
        fetch(url + "/a.txt")


def test_replay_server_cli_serves_until_interrupted(tmp_path):
    (tmp_path / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "crawler.demo.replay.server", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert fetch(url + "/robots.txt")[2] == b"User-agent: *\n"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


# --- the generated site --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["circuit-daily", "frame-ledger", "pacific-tech", "silicon-watch"])
def test_replay_feeds_parse_with_expected_entries(replay, name):
    server, manifest = replay
    src = source(manifest, name)
    resp, body = get(server.url + src["path"], {"Accept-Encoding": "gzip"})
    if resp.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    expected = members(manifest, name)
    assert len(feed.entries) == len(expected) == src["items"] > 0
    assert {e.title for e in feed.entries} == {a["title"] for a in expected}
    assert DISCLAIMER in feed.feed.get("subtitle", feed.feed.get("description", ""))


def test_replay_atom_feed_is_reached_by_redirect_and_gzipped(replay):
    server, manifest = replay
    status, headers, _ = fetch(server.url + "/frame-ledger/feed")
    assert (status, headers["Location"]) == (301, "/feeds/frame-ledger.atom")
    resp, body = get(server.url + "/frame-ledger/feed", {"Accept-Encoding": "gzip"})
    assert resp.geturl() == server.url + "/feeds/frame-ledger.atom"
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(gzip.decompress(body))
    links = {e.link for e in feed.entries}
    assert links == {server.url + a["links"]["frame-ledger"] for a in members(manifest, "frame-ledger")}
    assert all(e.get("published") and e.author for e in feed.entries)
    assert b'xml:base="__BASE_URL__/"' in (Path(server.root) / "feeds/frame-ledger.atom").read_bytes()


def test_replay_rss_feed_has_relative_utm_and_undated_items(replay):
    server, manifest = replay
    raw = (Path(server.root) / "feeds/circuit-daily.rss").read_text(encoding="utf-8")
    assert "<![CDATA[<p>" in raw and "<dc:creator>" in raw
    feed = feedparser.parse(get(server.url + "/feeds/circuit-daily.rss")[1])
    by_title = {e.title: e for e in feed.entries}
    cases = manifest["cases"]
    articles = {a["slug"]: a for a in manifest["articles"]}
    for slug in cases["relative_links"]["slugs"]:
        assert by_title[articles[slug]["title"]].link == articles[slug]["links"]["circuit-daily"]
    utm = [by_title[articles[s]["title"]].link for s in cases["utm_links"]["slugs"]]
    assert utm and all("utm_source=rss&utm_medium=feed" in link for link in utm)
    undated = by_title[articles[cases["missing_date"]["slug"]]["title"]]
    assert "published" not in undated
    zones = set(re.findall(r"<pubDate>.* (\S+)</pubDate>", raw))
    assert len(zones) >= 3


def test_replay_chinese_feed_is_gb18030(replay):
    server, manifest = replay
    resp, body = get(server.url + "/feeds/silicon-watch.xml")
    assert resp.headers["Content-Type"] == "application/rss+xml; charset=gb18030"
    assert body.startswith(b'<?xml version="1.0" encoding="GB18030"?>')
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    feed = feedparser.parse(body)
    assert feed.encoding.lower() == "gb18030"
    titles = {e.title for e in feed.entries}
    assert titles == {a["title"] for a in manifest["articles"] if a["lang"] == "zh"}
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in titles)


def test_replay_chinese_page_served_in_gb18030(replay):
    server, manifest = replay
    page = manifest["cases"]["non_utf8"]["page"]
    article = next(a for a in manifest["articles"] if a["canonical_path"] == page)
    resp, body = get(server.url + page)
    assert resp.headers["Content-Type"] == "text/html; charset=gb18030"
    html = body.decode("gb18030")
    assert '<meta charset="gb18030">' in html
    assert article["title"] in html and article["paragraphs"][0][:20] in html


def test_replay_google_news_links_decode_to_live_articles(replay):
    server, manifest = replay
    src = source(manifest, "google-news")
    resp, body = get(server.url + src["path"])
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
                           b'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
                           b'<title>"Seedance" - Google News</title>')
    feed = feedparser.parse(body)
    assert not feed.bozo
    expected = {a["canonical_path"]: a for a in members(manifest, "google-news")}
    assert len(feed.entries) == len(expected) == src["items"]
    seen = set()
    for entry in feed.entries:
        assert re.fullmatch(r"https://news\.google\.com/rss/articles/[\w-]+\?oc=5", entry.link)
        assert entry.id == entry.link.split("/articles/")[1].split("?")[0]
        article_url = decode_google_news_url(entry.link)
        assert article_url.startswith(server.url + "/")
        article = expected[article_url[len(server.url):]]
        assert entry.title == f"{article['title']} - {article['outlet']}"
        assert entry.source.title == article["outlet"] and entry.source.href == server.url
        assert f'<font color="#6f6f6f">{article["outlet"]}</font>' in entry.summary
        seen.add(article_url)
    for article_url in seen:
        assert get(article_url)[0].status == 200
    assert len(seen) == len(expected)


def test_replay_bing_links_carry_the_article_url(replay):
    server, manifest = replay
    feed = feedparser.parse(get(server.url + source(manifest, "bing-news")["path"])[1])
    assert not feed.bozo and feed.feed.title == "Seedance - BingNews"
    paths = set()
    for entry in feed.entries:
        assert entry.link.startswith("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=")
        article_url = decode_bing_news_url(entry.link)
        assert get(article_url)[0].status == 200
        paths.add(article_url[len(server.url):])
    assert paths == {a["canonical_path"] for a in members(manifest, "bing-news")}
    assert decode_bing_news_url(bing_link("http://h:1/a b?x=1")) == "http://h:1/a b?x=1"


def test_replay_gdelt_artlist_lists_articles_incl_chinese(replay):
    server, manifest = replay
    resp, body = get(server.url + source(manifest, "gdelt")["path"])
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    rows = json.loads(body)["articles"]
    assert len(rows) == len(members(manifest, "gdelt"))
    keys = {"url", "url_mobile", "title", "seendate", "socialimage", "domain", "language", "sourcecountry"}
    assert all(set(r) == keys and re.fullmatch(r"2026\d{4}T\d{6}Z", r["seendate"]) for r in rows)
    assert {"English", "Chinese"} <= {r["language"] for r in rows}
    assert all(get(r["url"])[0].status == 200 for r in rows)
    on_topic = {a["canonical_path"] for a in manifest["articles"] if a["on_topic"]}
    assert {r["url"][len(server.url):] for r in rows} <= on_topic


def test_replay_news_sitemap_behind_sitemap_index(replay):
    server, manifest = replay
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
    index = ET.fromstring(get(server.url + "/sitemap.xml")[1])
    locs = [e.text for e in index.findall("sm:sitemap/sm:loc", ns)]
    assert locs == [server.url + "/sitemap-news.xml"]
    urlset = ET.fromstring(get(locs[0])[1])
    urls = urlset.findall("sm:url", ns)
    assert {u.find("sm:loc", ns).text for u in urls} == {
        server.url + a["canonical_path"] for a in members(manifest, "sitemap")}
    for u in urls:
        news = u.find("news:news", ns)
        assert news.find("news:publication/news:name", ns).text
        assert news.find("news:publication/news:language", ns).text in {"en", "zh-cn"}
        datetime.fromisoformat(news.find("news:publication_date", ns).text)
        assert news.find("news:title", ns).text and news.find("news:keywords", ns).text


def test_replay_robots_disallows_private_only(replay):
    server, manifest = replay
    robots = RobotFileParser()
    robots.parse(get(server.url + "/robots.txt")[1].decode().splitlines())
    assert not robots.can_fetch("seedtrack", server.url + "/private/account.html")
    assert robots.can_fetch("seedtrack", server.url + manifest["articles"][0]["canonical_path"])
    assert robots.can_fetch("seedtrack", server.url + "/feeds/circuit-daily.rss")
    assert robots.site_maps() == [server.url + "/sitemap.xml"]


def test_replay_redirect_and_canonical_cases(replay):
    server, manifest = replay
    case = manifest["cases"]["redirect"]
    status, headers, _ = fetch(server.url + case["from"])
    assert (status, headers["Location"]) == (301, server.url + case["to"])
    resp, _ = get(server.url + case["from"])
    assert (resp.status, resp.geturl()) == (200, server.url + case["to"])
    case = manifest["cases"]["canonical_differs"]
    assert "utm_source=rss" in case["feed_link"]
    html = get(server.url + case["feed_link"])[1].decode()
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)
    assert canonical == server.url + case["canonical_path"] != server.url + case["feed_link"]


@pytest.mark.parametrize("case,status,feed", [("page_404", 404, "circuit-daily"), ("page_500", 500, "frame-ledger")])
def test_replay_error_pages_keep_feed_title_and_summary(replay, case, status, feed):
    server, manifest = replay
    slug = manifest["cases"][case]["slug"]
    article = next(a for a in manifest["articles"] if a["slug"] == slug)
    assert article["status"] == status
    got, _, body = fetch(server.url + article["canonical_path"])
    assert got == status and DISCLAIMER.encode() in body
    src = source(manifest, feed)
    resp, raw = get(server.url + src["path"], {"Accept-Encoding": "gzip"})
    entries = feedparser.parse(gzip.decompress(raw) if resp.headers.get("Content-Encoding") else raw).entries
    entry = next(e for e in entries if e.title == article["title"])
    assert article["paragraphs"][0] in entry.summary
    for name in ("google-news", "bing-news", "gdelt", "sitemap"):
        assert name not in article["in"]


def test_replay_overlap_two_feeds_and_sitemap(replay):
    server, manifest = replay
    case = manifest["cases"]["two_feeds_and_sitemap"]
    assert {"frame-ledger", "circuit-daily", "sitemap"} <= set(case["sources"])
    in_two = [a for a in manifest["articles"] if len({"frame-ledger", "circuit-daily", "pacific-tech"} & set(a["in"])) >= 2]
    assert len(in_two) >= 3 and sorted(a["slug"] for a in in_two) == manifest["cases"]["in_two_feeds"]


def test_replay_boilerplate_only_term_disappears_on_extraction(replay):
    server, manifest = replay
    flagged = [a for a in manifest["articles"] if a["term_only_in_boilerplate"]]
    assert flagged and sorted(a["slug"] for a in flagged) == manifest["cases"]["term_only_in_boilerplate"]
    for a in flagged:
        html = get(server.url + a["canonical_path"])[1].decode()
        assert not a["on_topic"] and TERMS.search(html)
        text = trafilatura.extract(html)
        assert a["paragraphs"][-1] in text and not TERMS.search(text)
    for a in manifest["articles"]:
        if a["status"] != 200 or a["term_only_in_boilerplate"]:
            continue
        html = get(server.url + a["canonical_path"])[1].decode(a["charset"])
        if a["on_topic"]:
            assert TERMS.search(trafilatura.extract(html))
        else:
            assert not TERMS.search(html), a["slug"]


def test_replay_pages_vary_date_markup(replay):
    server, manifest = replay
    seen = set()
    for a in manifest["articles"]:
        if a["status"] != 200:
            continue
        html = get(server.url + a["canonical_path"])[1].decode(a["charset"])
        meta = re.search(r'property="article:published_time" content="([^"]+)"', html)
        ld = re.search(r'"datePublished": "([^"]+)"', html)
        tag = re.search(r'<time datetime="([^"]+)"', html)
        found = [m for m in (meta, ld, tag) if m]
        assert len(found) == 1 and bool({"meta": meta, "jsonld": ld, "time": tag}[a["date_markup"]])
        stamp = datetime.fromisoformat(found[0].group(1))
        assert stamp == datetime.fromisoformat(a["published_at"].replace("Z", "+00:00"))
        assert "<article" in html and 'id="cookie-banner"' in html and "Most read" in html
        assert html.count(DISCLAIMER) >= 1 and 'id="comments"' in html
        seen.add((a["date_markup"], stamp.utcoffset()))
    assert {m for m, _ in seen} == {"meta", "jsonld", "time"}
    assert len({offset for _, offset in seen}) >= 3


def test_replay_manifest_describes_the_site(replay):
    _, manifest = replay
    articles = manifest["articles"]
    assert len(articles) == manifest["article_count"] == 40
    on = sum(a["on_topic"] for a in articles)
    assert 0.6 <= on / 40 <= 0.85 and any(a["lang"] == "zh" for a in articles)
    for a in articles:
        assert a["canonical_path"].startswith("/2026/0") and a["canonical_path"].endswith(".html")
        assert "2026-02-12T00:00:00Z" <= a["published_at"] <= "2026-03-31T23:59:59Z"
        assert 6 <= len(a["paragraphs"]) <= 12 and a["author"] and a["in"]
        assert bool(TERMS.search(a["title"] + " ".join(a["paragraphs"]))) == a["on_topic"]
    assert len({a["slug"] for a in articles}) == len({a["title"] for a in articles}) == 40
    text = " ".join(p for a in articles for p in a["paragraphs"])
    for name in ("ByteDance", "Motion Picture Association", "Elon Musk", "DeepSeek", "Pan Tianhong"):
        assert name in text
    assert {s["name"] for s in manifest["sources"]} == {
        "circuit-daily", "frame-ledger", "pacific-tech", "silicon-watch", "google-news", "bing-news", "gdelt", "sitemap"}


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_replay_build_is_deterministic(tmp_path):
    first = build_site(tmp_path / "a", articles=30, seed=7)
    second = build_site(tmp_path / "b", articles=30, seed=7)
    other = build_site(tmp_path / "c", articles=30, seed=8)
    assert first == second
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert other["articles"] != first["articles"]


def test_replay_build_replaces_its_own_site_only(tmp_path):
    site = tmp_path / "site"
    first = build_site(site, articles=20)
    second = build_site(site, articles=20, seed=99)
    old = {a["canonical_path"] for a in first["articles"] if a["status"] == 200}
    new = {a["canonical_path"] for a in second["articles"] if a["status"] == 200}
    assert old - new
    assert not any((site / p.lstrip("/")).exists() for p in old - new)
    assert all((site / p.lstrip("/")).is_file() for p in new)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        build_site(foreign)
    with pytest.raises(ValueError):
        build_site(tmp_path / "tiny", articles=5)


def test_replay_builds_2000_article_benchmark_site(tmp_path):
    manifest = build_site(tmp_path, articles=2000, seed=2026)
    articles = manifest["articles"]
    assert len(articles) == 2000 and len({a["canonical_path"] for a in articles}) == 2000
    served = [a for a in articles if a["status"] == 200]
    assert all((tmp_path / a["canonical_path"].lstrip("/")).is_file() for a in served)
    assert 0.65 <= sum(a["on_topic"] for a in articles) / 2000 <= 0.8
    assert sum(a["lang"] == "zh" for a in articles) == 100
    feeds = {s["name"]: s["items"] for s in manifest["sources"] if s["kind"] == "feed"}
    assert sum(feeds.values()) > 2000
    with ReplayServer(tmp_path) as server:
        feed = feedparser.parse(get(server.url + "/feeds/pacific-tech.rdf")[1])
        assert not feed.bozo and len(feed.entries) == feeds["pacific-tech"]
