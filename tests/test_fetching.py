"""Fetch only what changed, and never stop on bad input: conditional requests, broken servers, private addresses."""

from __future__ import annotations


from crawler.demo.replay.server import ReplayServer
from helpers import FAST, FEED, busy_site, rows, run_cli, write_topic


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


GUARDED_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Links</title><link>/</link>
<item><title>Seedance 2.0 here</title><link>/a.html</link></item>
<item><title>Seedance 2.0 on another loopback address</title><link>http://127.0.0.2:{port}/b.html</link></item>
<item><title>Seedance 2.0 on localhost</title><link>http://localhost:{port}/b.html?via=localhost</link></item>
<item><title>Seedance 2.0 on the LAN</title><link>http://10.255.255.1/c.html</link></item>
<item><title>Seedance 2.0 metadata</title><link>http://169.254.169.254/latest/meta-data/</link></item>
</channel></rss>"""


def test_fetching_private_addresses_are_not_followed_unless_allowed(tmp_path):
    site = busy_site(tmp_path / "site", {})
    db = tmp_path / "guard.duckdb"
    with ReplayServer(site) as server, ReplayServer(site, host="127.0.0.2") as other:
        (site / "links.xml").write_text(GUARDED_FEED.format(port=other.port), encoding="utf-8")
        topic = write_topic(tmp_path / "topic.toml", [{"name": "links", "kind": "feed", "url": server.url + "/links.xml"}])
        assert run_cli("crawl", "--topic", topic, "--db", db, *FAST).returncode == 0
        assert other.requests == [] and not any("via=localhost" in path for _m, path, _h in server.requests)
        errors = {row["url"]: row["reason"] for row in rows(db, "SELECT url, reason FROM errors")}
        blocked = {f"http://127.0.0.2:{other.port}/b.html", f"http://localhost:{other.port}/b.html?via=localhost",
                   "http://10.255.255.1/c.html", "http://169.254.169.254/latest/meta-data/"}
        assert set(errors) == blocked
        assert all("PrivateAddressBlocked" in reason and "not a public address" in reason for reason in errors.values())
        assert rows(db, "SELECT text_source FROM documents WHERE url = ?", [server.url + "/a.html"]) == [{"text_source": "page"}]

        text = topic.read_text(encoding="utf-8").replace("[crawl]\n", '[crawl]\nallow_private = ["127.0.0.2"]\n', 1)
        topic.write_text(text, encoding="utf-8")
        again = run_cli("crawl", "--topic", topic, "--db", tmp_path / "allowed.duckdb", *FAST)
        assert again.returncode == 0, again.stderr
        assert [path for _m, path, _h in other.requests if path != "/robots.txt"] == ["/b.html"]


BIG_PAGE = "<html><head><title>Seedance 2.0 big</title></head><body>" + "<p>Seedance 2.0 padding.</p>" * 20000 + "</body></html>"
CASES_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Cases</title><link>/</link>
""" + "".join(f"<item><title>Seedance 2.0 case {name}</title><link>/{name}.html</link><description>Case {name}.</description></item>\n"
              for name in ("a", "big", "loop", "slow", "cut", "nocharset", "wrongcharset", "garbled")) + "</channel></rss>"
ZH_PAGE = ("<html><head><meta charset=\"gb18030\"><title>即梦 Seedance 2.0 发布</title></head><body><article>"
           + "<p>字节跳动发布即梦 Seedance 2.0 视频模型，好莱坞片厂提出诉讼。</p>" * 12 + "</article></body></html>")


def test_fetching_bad_input_is_recorded_and_the_run_goes_on(tmp_path):
    site = busy_site(tmp_path / "site", {
        "/big.html": {"file": "_big.html"},
        "/loop.html": {"status": 302, "location": "/loop.html"},
        "/slow.html": {"delay": 6, "file": "a.html"},
        "/cut.html": {"file": "a.html", "truncate": 300},
        "/nocharset.html": {"file": "_zh.html", "content_type": "text/html", "charset": "gb18030"},
        "/wrongcharset.html": {"file": "_zh.html", "content_type": "text/html; charset=utf-8"},
        "/garbled.html": {"file": "_zh_nometa.html", "content_type": "text/html; charset=utf-8"},
        "/bad.xml": {"body": "<rss><channel><item><title>Seedance 2.0</tit", "content_type": "application/rss+xml"},
        "/gdelt": {"body": '{"articles": [{"url": ', "content_type": "application/json"},
        "/later.xml": {"status": 429, "headers": {"Retry-After": "3600"}, "body": "come back in an hour"},
    })
    (site / "cases.xml").write_text(CASES_FEED, encoding="utf-8")
    (site / "_big.html").write_text(BIG_PAGE, encoding="utf-8")
    (site / "_zh.html").write_bytes(ZH_PAGE.encode("gb18030"))
    (site / "_zh_nometa.html").write_bytes(ZH_PAGE.replace('<meta charset="gb18030">', "").encode("gb18030"))
    db = tmp_path / "bad.duckdb"
    with ReplayServer(site, validators=True) as server:
        topic = write_topic(tmp_path / "topic.toml", [
            {"name": "cases", "kind": "feed", "url": server.url + "/cases.xml"},
            {"name": "badxml", "kind": "feed", "url": server.url + "/bad.xml"},
            {"name": "badjson", "kind": "gdelt", "url": server.url + "/gdelt?q={query}", "queries": ["Seedance"],
             "download_delay": 0},
            {"name": "later", "kind": "feed", "url": server.url + "/later.xml"},
            {"name": "fine", "kind": "feed", "url": server.url + "/feed.xml"},
        ], include=["Seedance", "即梦"])
        result = run_cli("crawl", "--topic", topic, "--db", db, *FAST, "--set", "DOWNLOAD_TIMEOUT=2",
                         "--set", "DOWNLOAD_MAXSIZE=200000", "--set", "RETRY_TIMES=1", "--set", "BACKOFF_BASE_DELAY=0",
                         timeout=120)
        base = server.url
        assert [path for _m, path, _h in server.requests].count("/later.xml") == 1  # an hour: over BACKOFF_MAX_RETRY_AFTER
    assert result.returncode == 0, result.stderr  # some sources failed, not all
    errors = {row["url"].removeprefix(base): row["reason"] for row in rows(db, "SELECT url, reason FROM errors")}
    assert errors["/bad.xml"].startswith("not a readable feed")
    assert errors["/gdelt?q=Seedance"].startswith("GDELT did not return JSON")
    assert "larger than download max size" in errors["/big.html"]
    assert "max redirections" in errors["/loop.html"]
    assert "TimeoutError" in errors["/slow.html"]
    assert "ResponseFailed" in errors["/cut.html"] or "DataLoss" in errors["/cut.html"]
    assert errors["/garbled.html"].startswith("garbled text:")
    assert errors["/later.xml"] == "HTTP 429"
    assert set(errors) == {"/bad.xml", "/gdelt?q=Seedance", "/big.html", "/loop.html", "/slow.html", "/cut.html",
                           "/garbled.html", "/later.xml"}
    docs = {row["url"].removeprefix(base): row for row in rows(db, "SELECT url, text, text_source FROM documents")}
    assert "/garbled.html" in docs  # kept, as it reads
    failed = {"/big.html", "/loop.html", "/slow.html", "/cut.html"}
    assert failed <= {path for path, row in docs.items() if row["text_source"] == "feed"} <= failed | {"/garbled.html"}
    assert docs["/a.html"]["text_source"] == "page"
    for case in ("/nocharset.html", "/wrongcharset.html"):  # no charset, or a wrong one: the page's <meta> is read
        assert docs[case]["text_source"] == "page" and "字节跳动发布即梦" in docs[case]["text"]
    runs = {row["source"]: row["status"] for row in rows(db, "SELECT source, status FROM crawl_runs")}
    assert runs == {"cases": "partial", "badxml": "failed", "badjson": "failed", "later": "failed", "fine": "ok"}
    # only a run without errors keeps its feeds' validators: the others read their feeds in full next time,
    # so the pages that failed are tried again
    assert [row["url"].removeprefix(base) for row in rows(db, "SELECT url FROM http_validators")] == ["/feed.xml"]


def test_fetching_per_domain_limit_holds_across_sources(tmp_path):
    names = [f"p{n}" for n in range(6)]
    site = busy_site(tmp_path / "site", {f"/{n}.html": {"file": "a.html", "delay": 0.8} for n in names})
    for feed, half in (("one.xml", names[:3]), ("two.xml", names[3:])):
        items = "".join(f"<item><title>Seedance 2.0 {n}</title><link>/{n}.html</link></item>" for n in half)
        (site / feed).write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>{feed}</title>'
                                 f"<link>/</link>{items}</channel></rss>", encoding="utf-8")
    db = tmp_path / "limit.duckdb"
    with ReplayServer(site) as server:
        result = run_cli("crawl", "--db", db, "--feed", server.url + "/one.xml", "--feed", server.url + "/two.xml",
                         *FAST, "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
        assert result.returncode == 0, result.stderr
        starts = sorted(t for (_m, path, _h), t in zip(server.requests, server.request_times) if path[1:3] in names)
    assert len(starts) == 6
    # each page takes 0.8 s to answer: more than two started within 0.7 s means more than two at once
    busiest = max(sum(1 for other in starts if start - 0.7 < other <= start) for start in starts)
    assert busiest == 2  # two sources, one site: two requests in flight, not four


def test_fetching_sitemap_index_is_read_in_full_each_run(replay, tmp_path):
    site, _manifest = replay
    db = tmp_path / "sitemap.duckdb"
    with ReplayServer(site.root, validators=True) as server:  # the session's replay site, with validators
        topic = write_topic(tmp_path / "topic.toml", [{"name": "sitemap", "kind": "sitemap", "url": server.url + "/sitemap.xml"}])
        assert run_cli("crawl", "--topic", topic, "--db", db, *FAST).returncode == 0
        # the index is not conditional (its children change while it may not); the news sitemap is
        assert [row["url"] for row in rows(db, "SELECT url FROM http_validators")] == [server.url + "/sitemap-news.xml"]
