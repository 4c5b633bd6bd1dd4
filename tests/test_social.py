"""Social spiders crawled for real (CLI, Scrapy, DuckDB) against local servers replaying each platform's answers.

Reddit, Mastodon and Bluesky answers are the real recordings in ../shared/realdata (re-enveloped only where a
test needs a listing around a real post); Hacker News has no public recording, so its pages are written in
Algolia's exact format by crawler/demo/replay/social.py. Each site also has an empty result, a 429 with
Retry-After, a malformed body and a deleted post; every source is crawled twice.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import feedparser
import pytest

from crawler.storage import Database, state
from crawler.demo.replay import social
from crawler.demo.replay.server import ReplayServer
from crawler.text.urls import platform_document_id
from helpers import rows, run_cli, write_topic
from realdata import REALDATA

REDDIT = REALDATA / "reddit-praw-cassettes" / "extracted"
MASTODON = REALDATA / "mastodon-py-cassettes" / "extracted"
BLUESKY = REALDATA / "bluesky-twitwi" / "bluesky-posts.json"
CRAWL = ["--set", "NLP_ENABLED=false", "--set", "AUTOTHROTTLE_ENABLED=false", "-q"]
OLD_POSTS = ["--set", "ENGAGEMENT_DAYS=36500"]  # the recordings are years old: snapshot them all
TRUNCATED = '{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "'
RATE_LIMITED = {"status": 429, "headers": {"Retry-After": "1"}, "body": '{"error": 429, "message": "Too Many Requests"}',
                "content_type": "application/json"}


def recording(path):
    return json.loads(path.read_text(encoding="utf-8"))["body"]


def serve(root, files: dict, routes: dict) -> ReplayServer:
    for path, body in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False), encoding="utf-8")
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    return ReplayServer(root).start()


def crawl_twice(tmp, server, source: dict, include: list[str], *options: str, topic_extra: str = ""):
    topic = write_topic(tmp / "topic.toml", [{"url": server.url, "download_delay": 0, **source}], include=include)
    if topic_extra:
        topic.write_text(topic.read_text(encoding="utf-8") + topic_extra, encoding="utf-8")
    db = tmp / "social.duckdb"
    results = []
    for _ in range(2):
        results.append(run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, *options))
        assert results[-1].returncode == 0, results[-1].stderr
        results.append(rows(db, "SELECT * FROM engagement ORDER BY doc_id"))
    first, first_snapshots, second, second_snapshots = results
    return {"db": db, "server": server, "first": first, "second": second, "topic": topic,
            "first_snapshots": first_snapshots, "second_snapshots": second_snapshots}


def assert_second_crawl_adds_only_snapshots(crawl, recent_docs: set[str]):
    """No duplicates, and each recent post seen again has exactly one snapshot per crawl."""
    db = crawl["db"]
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] == len({r["id"] for r in rows(db, "SELECT id FROM documents")})
    runs = rows(db, "SELECT DISTINCT run_id FROM crawl_runs ORDER BY run_id")
    assert len(runs) == 2
    assert not rows(db, "SELECT * FROM documents WHERE run_id = ?", [runs[1]["run_id"]])
    per_run = rows(db, "SELECT run_id, count(*) AS n, count(DISTINCT doc_id) AS docs FROM engagement GROUP BY run_id")
    assert len(per_run) == 2 and {r["n"] for r in per_run} == {r["docs"] for r in per_run} == {len(recent_docs)}
    assert {r["doc_id"] for r in crawl["first_snapshots"]} == recent_docs
    assert len(crawl["second_snapshots"]) == 2 * len(recent_docs)


def assert_rate_limit_waited(server, path_start: str, seconds: float = 0.9):
    hits = [t for (method, path, _), t in zip(server.requests, server.request_times) if path.startswith(path_start)]
    assert len(hits) >= 2, path_start
    assert hits[1] - hits[0] >= seconds  # the Retry-After was honoured before the retry


def errors_of(db) -> list[dict]:
    return rows(db, "SELECT url, reason FROM errors")


# -- Reddit ----------------------------------------------------------------------------------------------------

def _reddit_comments(tree: list) -> list[dict]:
    out, stack = [], list(tree)
    while stack:
        child = stack.pop()
        if child["kind"] == "t1":
            out.append(child["data"])
            if isinstance(child["data"].get("replies"), dict):
                stack.extend(child["data"]["replies"]["data"]["children"])
    return out


@pytest.fixture(scope="module")
def reddit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reddit")
    search = recording(REDDIT / "TestSubreddit.test_search__1.json")
    praw_thread = recording(REDDIT / "TestSubmission.test_comments__1.json")
    funny_thread = recording(REDDIT / "TestMore.test_comments__2.json")
    praw_post, funny_post = praw_thread[0]["data"]["children"][0], funny_thread[0]["data"]["children"][0]
    q = "sort=new&limit=100&raw_json=1"
    files = {"/_r/search.json": search, "/_r/empty.json": recording(REDDIT / "TestListingGenerator.test_no_items__1.json"),
             "/_r/new-1.json": social.reddit_listing([funny_post], after="t3_3hahrw"),  # newest first
             "/_r/new-2.json": social.reddit_listing([praw_post]),
             "/_r/2gmzqe.json": praw_thread, "/_r/3hahrw.json": funny_thread}
    spent = {"X-Ratelimit-Used": "600", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "1"}  # Reddit's headers
    routes = {f"/search.json?q=PRAW&{q}": {"file": "_r/search.json", "headers": spent},
              f"/search.json?q=nothing+here&{q}": {"file": "_r/empty.json"},
              f"/search.json?q=broken&{q}": {"body": TRUNCATED, "content_type": "application/json"},
              "/r/redditdev/new.json?limit=100&raw_json=1": {"file": "_r/new-1.json", "sequence": [RATE_LIMITED, {}]},
              "/r/redditdev/new.json?limit=100&raw_json=1&after=t3_3hahrw": {"file": "_r/new-2.json"},
              "/comments/2gmzqe.json": {"file": "_r/2gmzqe.json"}, "/comments/3hahrw.json": {"file": "_r/3hahrw.json"},
              "/api/v1/access_token": {"body": '{"access_token": "tok-123", "token_type": "bearer", "expires_in": 86400}',
                                       "content_type": "application/json"}}
    for hit in search["data"]["children"]:  # the search hits' threads: the real post, no comments recorded
        files[f"/_r/{hit['data']['id']}.json"] = social.reddit_thread(hit, [])
        routes[f"/comments/{hit['data']['id']}.json"] = {"file": f"_r/{hit['data']['id']}.json"}
    server = serve(tmp / "site", files, routes)
    source = {"name": "reddit", "kind": "reddit", "queries": ["PRAW", "nothing here", "broken"],
              "subreddits": ["redditdev"], "follow_links": False, "oauth_url": server.url,
              "lookback": "36500d"}  # years-old recordings: the second crawl reads them all again
    crawl = crawl_twice(tmp, server, source, ["PRAW", "Ba Dum Tsss"], *OLD_POSTS)
    crawl.update(search=search, threads={"2gmzqe": praw_thread, "3hahrw": funny_thread}, posts=[praw_post, funny_post])
    yield crawl
    server.stop()


def test_reddit_stores_on_topic_posts_and_their_comment_trees(reddit):
    db = reddit["db"]
    posts = [c["data"] for c in reddit["search"]["data"]["children"]] + [p["data"] for p in reddit["posts"]]
    on_topic = {p["name"] for p in posts if re.search(r"\b(praw|ba dum tsss)\b", p["title"] + " " + p["selftext"], re.I)}
    stored = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents WHERE kind = 'post'")}
    assert set(stored) == on_topic and {"t3_2gmzqe", "t3_3hahrw"} <= on_topic
    post = stored["t3_2gmzqe"]
    assert post["url"] == "https://www.reddit.com/r/redditdev/comments/2gmzqe/praw_https_enabled_praw_testing_needed/"
    assert post["published_at"] == datetime(2014, 9, 17, 6, 34, 31)  # created_utc 1410935671, in UTC
    assert post["author"] == reddit["posts"][0]["data"]["author"] and post["text_source"] == "api"
    assert post["platform"] == "reddit" and post["id"] == platform_document_id("reddit", "t3_2gmzqe")
    comments = [c for thread in reddit["threads"].values() for c in _reddit_comments(thread[1]["data"]["children"])]
    kept = {c["name"]: c for c in comments if c["body"] not in ("[deleted]", "[removed]")}
    assert len(kept) < len(comments)  # the recording holds deleted comments: they are skipped
    stored_comments = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents WHERE kind = 'comment'")}
    assert set(stored_comments) == set(kept)
    for name, comment in list(kept.items())[:50]:  # threads rebuild with SQL: parent ids are document ids
        assert stored_comments[name]["parent_id"] == platform_document_id("reddit", comment["parent_id"])
        assert stored_comments[name]["title"] == ("Ba Dum Tsss" if comment["link_id"] == "t3_3hahrw"
                                                  else "[PRAW] HTTPS enabled PRAW testing needed")
    [reply] = rows(db, "SELECT c.platform_id FROM documents c JOIN documents p ON c.parent_id = p.id "
                       "WHERE p.platform_id = 't1_cklfmye'")
    assert reply["platform_id"] == "t1_cklhv0f"


def test_reddit_pages_waits_for_retry_after_and_reports_bad_queries(reddit):
    db, server = reddit["db"], reddit["server"]
    assert_rate_limit_waited(server, "/r/redditdev/new.json?limit=100&raw_json=1")
    paths = [path for _, path, _ in server.requests]
    assert "/r/redditdev/new.json?limit=100&raw_json=1&after=t3_3hahrw" in paths  # the second page
    reasons = [e["reason"] for e in errors_of(db) if "q=broken" in e["url"]]
    assert reasons and all(r.startswith("malformed reddit API response") for r in reasons)
    assert not [e for e in errors_of(db) if "nothing+here" in e["url"] or "redditdev" in e["url"]]
    runs = rows(db, "SELECT status FROM crawl_runs")
    assert {r["status"] for r in runs} == {"partial"}  # one query failed, the others were stored
    state = {r["query"]: r for r in rows(db, "SELECT * FROM crawl_state WHERE source = 'reddit'")}
    assert set(state) == {"search:PRAW", "r/redditdev"}  # no mark for the broken query, none for an empty one
    assert state["r/redditdev"]["newest_id"] == "t3_3hahrw"
    agents = {headers.get("User-Agent") for _, _, headers in server.requests}
    assert agents and all(agent and agent.startswith("seedtrack/") for agent in agents)


def test_reddit_second_crawl_adds_no_duplicates_and_one_snapshot_per_post(reddit):
    recent = {r["id"] for r in rows(reddit["db"], "SELECT id FROM documents")}
    assert_second_crawl_adds_only_snapshots(reddit, recent)
    [snapshot] = rows(reddit["db"], "SELECT e.* FROM engagement_latest e JOIN documents d ON d.id = e.doc_id "
                                    "WHERE d.platform_id = 't3_3hahrw'")
    assert snapshot["score"] == reddit["posts"][1]["data"]["score"] and snapshot["replies"] == 543


def test_reddit_oauth_client_credentials_from_environment(reddit, tmp_path):
    db = tmp_path / "oauth.duckdb"
    env_secret = "s3cr3t-value-never-stored"
    first = len(reddit["server"].requests)
    result = run_cli("crawl", "--topic", reddit["topic"], "--db", db, *CRAWL, "--log-level", "DEBUG",
                     env={"REDDIT_CLIENT_ID": "client-abc", "REDDIT_CLIENT_SECRET": env_secret})
    server = reddit["server"]
    assert result.returncode == 0, result.stderr
    token_calls = [(m, h) for m, p, h in server.requests if p == "/api/v1/access_token"]
    assert token_calls and token_calls[-1][0] == "POST" and token_calls[-1][1]["Authorization"].startswith("Basic ")
    assert any(h.get("Authorization") == "Bearer tok-123" for _, p, h in server.requests if p.startswith("/search.json"))
    assert env_secret not in result.stdout + result.stderr
    assert env_secret.encode() not in db.read_bytes()
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] > 0
    # the search said the quota was spent, resetting in 1 s: the comment threads were asked for after that
    times = [(p, t) for (_, p, _), t in zip(server.requests, server.request_times)][first:]
    searched = max(t for p, t in times if p.startswith("/search.json?q=PRAW"))
    threads = [t for p, t in times if p.startswith("/comments/") and t > searched - 0.5]
    assert threads and min(threads) - searched >= 0.9
    assert "rate limit spent" in result.stderr


# -- Hacker News (Algolia format, written by crawler/demo/replay/social.py: there is no public recording) ----------

@pytest.fixture(scope="module")
def hackernews(replay, tmp_path_factory):
    site, manifest = replay
    tmp = tmp_path_factory.mktemp("hackernews")
    now = datetime.now(timezone.utc)
    articles = [a for a in manifest["articles"] if a["on_topic"] and a["lang"] == "en" and a["status"] == 200][:3]
    ages = [timedelta(hours=1), timedelta(days=3), timedelta(days=20)]  # the last is older than ENGAGEMENT_DAYS
    stories = [social.algolia_story(900 + i, f"Seedance 2.0: {a['title']}", site.url + a["canonical_path"], f"user{i}",
                                    now - age, points=10 * (i + 1), comments=1) for i, (a, age) in enumerate(zip(articles, ages))]
    comments = [social.algolia_comment(950 + i, story, story["story_id"], f"reader{i}",
                                       f"<p>Seen this? <a href=\"https://news.ycombinator.com/item?id=1\">x</a></p>",
                                       now - age + timedelta(minutes=30)) for i, (story, age) in enumerate(zip(stories, ages))]
    deleted = {**social.algolia_comment(999, stories[0], 900, None, None, now - timedelta(minutes=20)), "author": None}
    page0 = social.algolia_page([comments[0], stories[0], deleted, comments[1], stories[1]], 0, 2, "Seedance")
    page1 = social.algolia_page([comments[2], stories[2]], 1, 2, "Seedance")
    q = "tags=%28story%2Ccomment%29&hitsPerPage=100&page="
    routes = {f"/api/v1/search_by_date?query=Seedance&{q}0": {"file": "_hn/0.json", "sequence": [RATE_LIMITED, {}]},
              f"/api/v1/search_by_date?query=Seedance&{q}1": {"file": "_hn/1.json"},
              f"/api/v1/search_by_date?query=nothing&{q}0": {"file": "_hn/empty.json"},
              f"/api/v1/search_by_date?query=broken&{q}0": {"body": '{"message":"', "content_type": "application/json"},
              "/api/v1/search_by_date": {"file": "_hn/0.json"}}  # later crawls (numericFilters=...)
    server = serve(tmp / "site", {"/_hn/0.json": page0, "/_hn/1.json": page1,
                                  "/_hn/empty.json": social.algolia_page([], 0, 0, "nothing")}, routes)
    source = {"name": "hn", "kind": "hackernews", "queries": ["Seedance", "nothing", "broken"]}
    crawl = crawl_twice(tmp, server, source, ["Seedance"])
    crawl.update(stories=stories, comments=comments, deleted=deleted, site=site, articles=articles)
    yield crawl
    server.stop()


def test_hackernews_stores_stories_comments_and_the_articles_they_link(hackernews):
    db = hackernews["db"]
    docs = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents WHERE platform = 'hackernews'")}
    assert set(docs) == {"900", "901", "902", "950", "951", "952"}  # the deleted comment (999) is skipped
    assert docs["900"]["kind"] == "post" and docs["950"]["kind"] == "comment"
    assert docs["950"]["parent_id"] == docs["900"]["id"] and docs["950"]["title"] == docs["900"]["title"]
    assert docs["900"]["url"] == "https://news.ycombinator.com/item?id=900" and docs["900"]["author"] == "user0"
    articles = {r["url"]: r for r in rows(db, "SELECT * FROM documents WHERE kind = 'article'")}
    site = hackernews["site"]
    assert {site.url + a["canonical_path"] for a in hackernews["articles"]} == set(articles)
    assert all(a["text_source"] == "page" and a["found_via"].startswith("https://news.ycombinator.com/item?id=")
               for a in articles.values())
    assert_rate_limit_waited(hackernews["server"], "/api/v1/search_by_date?query=Seedance&tags=%28story%2Ccomment%29"
                                                   "&hitsPerPage=100&page=0")
    errors = errors_of(db)
    assert len(errors) == 2  # one per crawl: the malformed answer to the query "broken"
    assert all("query=broken" in e["url"] and e["reason"].startswith("malformed hackernews API response") for e in errors)


def test_hackernews_second_crawl_reads_from_the_look_back_window(hackernews):
    newest = hackernews["deleted"]["created_at_i"]  # the newest hit, though deleted, marks where the crawl got to
    later = [p for _, p, _ in hackernews["server"].requests if "numericFilters" in p]
    assert later and all(f"numericFilters=created_at_i%3E{newest - 2 * 86400}" in p for p in later)
    [state] = rows(hackernews["db"], "SELECT * FROM crawl_state WHERE source = 'hn'")
    assert state["query"] == "Seedance" and state["newest_id"] == "999"


def test_hackernews_engagement_only_for_recent_posts_once_per_crawl(hackernews):
    db = hackernews["db"]
    recent = {r["id"] for r in rows(db, "SELECT id FROM documents WHERE platform_id IN ('900', '901', '950', '951')")}
    assert_second_crawl_adds_only_snapshots(hackernews, recent)
    snapshot = {r["doc_id"]: r for r in hackernews["first_snapshots"]}[platform_document_id("hackernews", "901")]
    assert (snapshot["score"], snapshot["replies"], snapshot["likes"]) == (20, 1, None)
    day = rows(db, "SELECT sum(weighted_documents) AS w, sum(documents) AS n FROM timeline WHERE source = 'hn'")[0]
    assert day["w"] > day["n"]  # engagement-weighted counts in the timeline


# -- Bluesky (real post views from medialab/twitwi in the searchPosts envelope) ---------------------------------

SESSION = {"did": "did:plc:tester", "handle": "tester.bsky.social", "accessJwt": "jwt-access-1", "refreshJwt": "jwt-r"}
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture(scope="module")
def bluesky_views():
    return [view for view in json.loads(BLUESKY.read_text(encoding="utf-8")) if "record" in view]


@pytest.fixture(scope="module")
def bluesky(bluesky_views, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bluesky")
    views = bluesky_views
    gone = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://did:plc:gone/app.bsky.feed.post/3lgone", "notFound": True}
    q = "sort=latest&limit=100"
    files = {"/_b/1.json": social.bluesky_page(views[:50], cursor="p2"), "/_b/2.json": social.bluesky_page(views[50:100] + [gone]),
             "/_b/private.json": social.bluesky_page(views[100:]), "/_b/all.json": social.bluesky_page(views),
             "/_b/empty.json": {"posts": [], "hitsTotal": 0}}
    routes = {f"/xrpc/app.bsky.feed.searchPosts?q=HCERES&{q}": {"file": "_b/1.json", "sequence": [RATE_LIMITED, {}]},
              f"/xrpc/app.bsky.feed.searchPosts?q=HCERES&{q}&cursor=p2": {"file": "_b/2.json"},
              f"/xrpc/app.bsky.feed.searchPosts?q=nothing&{q}": {"file": "_b/empty.json"},
              f"/xrpc/app.bsky.feed.searchPosts?q=broken&{q}": {"body": "<html><body>502 Bad Gateway</body></html>",
                                                               "content_type": "application/json"},
              f"/xrpc/app.bsky.feed.searchPosts?q=private&{q}": {"file": "_b/private.json", "sequence": [
                  {"status": 403, "body": '{"error":"AuthMissing","message":"Authentication Required"}',
                   "content_type": "application/json"}, {}]},
              f"/xrpc/app.bsky.feed.searchPosts?q=members&{q}": {"status": 401, "content_type": "application/json",
                                                                "body": '{"error":"AuthMissing","message":"Authentication Required"}'},
              "/xrpc/app.bsky.feed.searchPosts": {"file": "_b/all.json"},  # later crawls (since=...)
              "/xrpc/com.atproto.server.createSession": {"body": json.dumps(SESSION), "content_type": "application/json"}}
    server = serve(tmp / "site", files, routes)
    source = {"name": "bsky", "kind": "bluesky", "queries": ["HCERES", "nothing", "broken", "private"],
              "auth_url": server.url, "follow_links": False, "lookback": "36500d"}  # years-old posts: read again
    env = {"BLUESKY_HANDLE": SESSION["handle"], "BLUESKY_APP_PASSWORD": APP_PASSWORD}
    topic = write_topic(tmp / "topic.toml", [{"url": server.url, "download_delay": 0, **source}], include=["HCERES", "Bluesky"])
    db = tmp / "social.duckdb"
    crawl = {"db": db, "server": server, "topic": topic, "views": views}
    for run in ("first", "second"):
        crawl[run] = run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, *OLD_POSTS, env=env)
        assert crawl[run].returncode == 0, crawl[run].stderr
        crawl[f"{run}_snapshots"] = rows(db, "SELECT * FROM engagement")
    yield crawl
    server.stop()


def _on_topic(views):
    return {v["uri"] for v in views if re.search(r"\b(hceres|bluesky)\b", v["record"].get("text", ""), re.I)}


def test_bluesky_stores_on_topic_posts_with_replies_and_engagement(bluesky):
    db, views = bluesky["db"], bluesky["views"]
    stored = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents")}
    assert set(stored) == _on_topic(views) and len(stored) >= 5
    for view in views:
        if view["uri"] not in stored:
            continue
        doc, record = stored[view["uri"]], view["record"]
        assert doc["author"] == view["author"]["handle"] and doc["text"] == record["text"].strip()
        assert doc["url"] == f"https://bsky.app/profile/{view['author']['handle']}/post/{view['uri'].rsplit('/', 1)[1]}"
        parent = (record.get("reply") or {}).get("parent", {}).get("uri")
        assert doc["kind"] == ("comment" if parent else "post")
        assert doc["parent_id"] == (platform_document_id("bluesky", parent) if parent else None)
    latest = {r["doc_id"]: r for r in rows(db, "SELECT * FROM engagement_latest")}
    view = next(v for v in views if v["uri"] in stored)
    assert latest[stored[view["uri"]]["id"]]["likes"] == view["likeCount"]


def test_bluesky_pages_by_cursor_waits_on_429_and_logs_in_with_an_app_password(bluesky):
    db, server = bluesky["db"], bluesky["server"]
    paths = [p for _, p, _ in server.requests]
    assert "/xrpc/app.bsky.feed.searchPosts?q=HCERES&sort=latest&limit=100&cursor=p2" in paths
    assert_rate_limit_waited(server, "/xrpc/app.bsky.feed.searchPosts?q=HCERES&sort=latest&limit=100")
    logins = [(m, h) for m, p, h in server.requests if p == "/xrpc/com.atproto.server.createSession"]
    assert logins and logins[0][0] == "POST"
    authorised = [p for _, p, h in server.requests if h.get("Authorization") == "Bearer jwt-access-1"]
    assert any("q=private" in p for p in authorised)
    private = _on_topic(bluesky["views"][100:])
    assert private <= {r["platform_id"] for r in rows(db, "SELECT platform_id FROM documents")}
    for result in (bluesky["first"], bluesky["second"]):  # credentials are never logged or stored
        assert APP_PASSWORD not in result.stdout + result.stderr and "jwt-access-1" not in result.stderr
    assert APP_PASSWORD.encode() not in db.read_bytes() and b"jwt-access-1" not in db.read_bytes()
    reasons = [e["reason"] for e in errors_of(db)]
    assert len(reasons) == 2 and all(r.startswith("malformed bluesky API response") for r in reasons)


def test_bluesky_second_crawl_asks_since_the_window_and_adds_only_snapshots(bluesky):
    later = [p for _, p, _ in bluesky["server"].requests if "since=" in p]
    assert any("q=HCERES" in p for p in later) and any("q=private" in p for p in later)
    assert not [p for p in later if "q=nothing" in p or "q=broken" in p]  # no mark: read from the start again
    stored = {r["id"] for r in rows(bluesky["db"], "SELECT id FROM documents")}
    assert_second_crawl_adds_only_snapshots(bluesky, stored)


def test_bluesky_without_credentials_reports_the_login_it_needs(bluesky, tmp_path):
    db = tmp_path / "anon.duckdb"
    topic = write_topic(tmp_path / "anon.toml", [{"name": "bsky", "kind": "bluesky", "url": bluesky["server"].url,
                                                  "queries": ["HCERES", "members"], "download_delay": 0,
                                                  "follow_links": False}], include=["HCERES", "Bluesky"])
    result = run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, env={"BLUESKY_APP_PASSWORD": ""})
    assert result.returncode == 0, result.stderr  # the other query was read
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] > 0
    assert rows(db, "SELECT status FROM crawl_runs")[0]["status"] == "partial"
    [error] = [e for e in errors_of(db) if "q=members" in e["url"]]
    assert "set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in error["reason"]


def test_bluesky_pseudonymised_authors_are_keyed_hashes_stable_within_the_database(bluesky, tmp_path):
    from crawler.spiders.social import pseudonym

    topic = tmp_path / "private.toml"
    text = bluesky["topic"].read_text(encoding="utf-8")
    assert "pseudonymise = false" in text  # the shipped topic's switch, turned on
    topic.write_text(text.replace("pseudonymise = false", "pseudonymise = true"), encoding="utf-8")
    db = tmp_path / "pseudo.duckdb"
    env = {"BLUESKY_HANDLE": SESSION["handle"], "BLUESKY_APP_PASSWORD": APP_PASSWORD}
    result = run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, env=env)
    assert result.returncode == 0, result.stderr
    [key] = rows(db, "SELECT key FROM pseudonym_key")
    assert state.pseudonym_key(Database(db)) == key["key"]  # made once, then the same for every later crawl
    docs = rows(db, "SELECT * FROM documents")
    handles = {v["uri"]: v["author"]["handle"] for v in bluesky["views"]}
    assert docs and all(d["author"] == pseudonym(handles[d["platform_id"]], key["key"]) for d in docs)
    export = tmp_path / "documents.csv"
    assert run_cli("export", "documents", "--db", db, "-o", export).returncode == 0
    text = export.read_text(encoding="utf-8")
    assert not [h for h in {handles[d["platform_id"]] for d in docs} if h in text]
    assert key["key"] not in text


# -- Mastodon (real responses of a Mastodon 4 server recorded by Mastodon.py) --------------------------------------

@pytest.fixture(scope="module")
def mastodon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mastodon")
    tag_page = json.loads((MASTODON / "test_hashtag_tl__2.json").read_text(encoding="utf-8"))
    public = recording(MASTODON / "test_public_tl__2.json")
    parent = recording(MASTODON / "test_status__1.json")
    missing = json.loads((MASTODON / "test_status_missing__0.json").read_text(encoding="utf-8"))
    when = datetime(2026, 8, 1, 14, 0, tzinfo=timezone.utc)
    replies = [social.mastodon_status("117020600000000001", "__BASE_URL__", "replier", "<p>A toot in reply</p>", when,
                                      reply_to=parent["id"]),
               social.mastodon_status("117020600000000002", "__BASE_URL__", "replier", "<p>toot to a gone toot</p>",
                                      when, reply_to="0")]
    link = tag_page["_link"][0].replace("http://localhost:3000", "__BASE_URL__")
    next_page = "/api/v1/timelines/tag/hoot?max_id=" + tag_page["body"][0]["id"]
    files = {"/_m/tag.json": tag_page["body"], "/_m/public.json": public, "/_m/replies.json": replies,
             "/_m/parent.json": parent, "/_m/empty.json": [],
             "/_m/search.json": {**recording(MASTODON / "test_search__0.json"), "statuses": public}}
    routes = {"/api/v1/timelines/tag/hoot": {"file": "_m/tag.json", "headers": {"Link": link}},
              next_page: {"file": "_m/public.json"},
              "/api/v1/timelines/tag/replies": {"file": "_m/replies.json", "sequence": [RATE_LIMITED, {}]},
              "/api/v1/timelines/tag/empty": {"file": "_m/empty.json"},
              "/api/v1/timelines/tag/broken": {"body": "[{\"id\": \"1\", ", "content_type": "application/json"},
              f"/api/v1/statuses/{parent['id']}": {"file": "_m/parent.json"},
              "/api/v2/search": {"file": "_m/search.json"},  # the real answer's envelope, the real statuses
              "/api/v1/statuses/0": {"status": missing["_status"], "body": json.dumps(missing["body"]),
                                     "content_type": "application/json"}}
    server = serve(tmp / "site", files, routes)
    source = {"name": "masto", "kind": "mastodon", "tags": ["hoot", "replies", "empty", "broken"]}
    crawl = crawl_twice(tmp, server, source, ["toot", "hoot"], *OLD_POSTS)
    crawl.update(tag_page=tag_page["body"], public=public, parent=parent, replies=replies)
    yield crawl
    server.stop()


def test_mastodon_reads_tag_timelines_by_link_header_and_replies_with_their_parents(mastodon):
    db, server = mastodon["db"], mastodon["server"]
    statuses = mastodon["tag_page"] + mastodon["public"] + [mastodon["parent"]]
    on_topic = {s["uri"] for s in statuses if re.search(r"\b(toot|hoot)\b", s["content"], re.I)}
    docs = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents")}
    reply_uris = {r["uri"].replace("__BASE_URL__", server.url) for r in mastodon["replies"]}
    assert set(docs) == on_topic | reply_uris
    first = mastodon["tag_page"][0]
    doc = docs[first["uri"]]
    assert doc["url"] == first["url"] and doc["author"] == f"{first['account']['acct']}@{server.url.split('//')[1]}"
    assert doc["text"] == "#hoot (hashtag toot)" and doc["kind"] == "post"
    assert first["language"] == "ja" and doc["lang"] == "en"  # detected from the text, as for articles
    answered, orphan = (docs[u] for u in sorted(reply_uris))
    assert answered["kind"] == orphan["kind"] == "comment"
    assert answered["parent_id"] == docs[mastodon["parent"]["uri"]]["id"]  # learnt from /api/v1/statuses/ID
    assert orphan["parent_id"] is None  # its parent was deleted (404)
    paths = [p for _, p, _ in server.requests]
    assert "/api/v1/timelines/tag/hoot?max_id=" + first["id"] in paths and "/api/v1/statuses/0" in paths
    assert_rate_limit_waited(server, "/api/v1/timelines/tag/replies")
    errors = errors_of(db)
    assert len(errors) == 2 and all("tag/broken" in e["url"] and "malformed mastodon" in e["reason"] for e in errors)
    state = {r["query"] for r in rows(db, "SELECT query FROM crawl_state")}
    host = server.url.split("//")[1]
    assert state == {f"{host} #hoot", f"{host} #replies"}


def test_mastodon_second_crawl_adds_no_duplicates_and_one_snapshot_per_post(mastodon):
    stored = {r["id"] for r in rows(mastodon["db"], "SELECT id FROM documents")}
    assert_second_crawl_adds_only_snapshots(mastodon, stored)
    latest = {r["doc_id"]: r for r in rows(mastodon["db"], "SELECT * FROM engagement_latest")}
    parent = mastodon["parent"]
    assert latest[platform_document_id("mastodon", parent["uri"])]["likes"] == parent["favourites_count"]


# -- topic file ------------------------------------------------------------------------------------------------

def _topic(source: str, extra: str = "") -> str:
    return f'[topic]\nname = "T"\n[terms]\ninclude = ["x"]\n{extra}\n[[source]]\nname = "s"\nurl = "https://h.example"\n{source}'


@pytest.mark.parametrize("source, problem", [
    ('kind = "reddit"\nsubreddits = "aivideo"', "subreddits must be a list of names"),
    ('kind = "bluesky"\nlookback = "two days"', "lookback bad interval"),
    ('kind = "mastodon"\ninstances = ["mastodon.social"]', "instances must be a list of http(s) URLs"),
    ('kind = "hackernews"\nmax_pages = 0', "max_pages must be a whole number >= 1"),
    ('kind = "feed"\nqueries = ["a"]', "queries only apply to kinds"),
])
def test_topic_social_source_options_are_checked(source, problem):
    from crawler.topic import TopicError, parse_topic

    with pytest.raises(TopicError, match=re.escape(problem)):
        parse_topic(_topic(source))


def test_topic_social_sources_search_the_topic_queries_and_privacy_switch_defaults_off():
    from crawler.topic import TopicError, load_topic, parse_topic

    topic = parse_topic(_topic('kind = "reddit"'))
    assert topic.sources[0].queries == ("x",) and topic.pseudonymise is False
    assert parse_topic(_topic('kind = "bluesky"', "[privacy]\npseudonymise = true")).pseudonymise is True
    with pytest.raises(TopicError, match="unknown key 'hash' in \\[privacy\\]"):
        parse_topic(_topic('kind = "bluesky"', "[privacy]\nhash = true"))
    shipped = {s.kind: s for s in load_topic().sources}
    assert {"reddit", "hackernews", "bluesky", "mastodon"} <= set(shipped)
    assert shipped["bluesky"].url == "https://public.api.bsky.app" and shipped["hackernews"].url == "https://hn.algolia.com"


# -- Telegram (t.me/s/NAME preview pages in Telegram's markup, written by crawler/demo/replay/social.py) -------------

@pytest.fixture(scope="module")
def telegram(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("telegram")
    now = datetime.now(timezone.utc)
    messages = [social.telegram_message("seedwatch", 10 + i + (i >= 3), f"Seedance clip number {i} <b>wow</b>",
                                        now - timedelta(hours=10 - i), views=f"{i + 1}.5K", reactions=("7", "1.2K"))
                for i in range(6)]
    messages.insert(3, social.telegram_message("seedwatch", 13, None, now - timedelta(hours=7)))  # photo, no text
    files = {"/_t/1.html": social.telegram_page("seedwatch", "Seed Watch", messages[4:], before=14),
             "/_t/2.html": social.telegram_page("seedwatch", "Seed Watch", messages[:4]),
             "/_t/empty.html": social.telegram_page("quiet", "Quiet", [])}
    routes = {"/s/seedwatch": {"file": "_t/1.html", "sequence": [RATE_LIMITED, {}]},
              "/s/seedwatch?before=14": {"file": "_t/2.html"}, "/s/quiet": {"file": "_t/empty.html"},
              "/s/nosuchchannel": {"body": '<html><body><div class="tgme_page"><div class="tgme_page_title">'
                                           "Telegram – a new era of messaging</div></div></body></html>"}}
    server = serve(tmp / "site", files, routes)
    source = {"name": "tg", "kind": "telegram", "channels": ["seedwatch", "quiet", "nosuchchannel"]}
    crawl = crawl_twice(tmp, server, source, ["Seedance"])
    yield crawl
    server.stop()


def test_telegram_reads_channel_previews_with_views_and_reactions(telegram):
    db, server = telegram["db"], telegram["server"]
    docs = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents ORDER BY platform_id")}
    assert set(docs) == {f"seedwatch/{n}" for n in (10, 11, 12, 14, 15, 16)}  # 13 is a photo without text
    doc = docs["seedwatch/12"]
    assert doc["url"] == "https://t.me/seedwatch/12" and doc["author"] == "seedwatch" and doc["kind"] == "post"
    assert doc["text"] == "Seedance clip number 2 wow" and doc["text_source"] == "api"
    snapshot = {r["doc_id"]: r for r in telegram["first_snapshots"]}[doc["id"]]
    assert (snapshot["views"], snapshot["likes"]) == (3500, 1207)
    assert "/s/seedwatch?before=14" in [p for _, p, _ in server.requests]
    assert_rate_limit_waited(server, "/s/seedwatch")
    errors = errors_of(db)
    assert len(errors) == 2 and all(e["url"].endswith("/s/nosuchchannel") and "not a Telegram channel" in e["reason"]
                                    for e in errors)
    assert {r["query"] for r in rows(db, "SELECT query FROM crawl_state")} == {"seedwatch"}


def test_telegram_second_crawl_adds_no_duplicates_and_one_snapshot_per_post(telegram):
    assert_second_crawl_adds_only_snapshots(telegram, {r["id"] for r in rows(telegram["db"], "SELECT id FROM documents")})


# -- YouTube: the Data API v3 (format written by crawler/demo/replay/social.py) and a real channel Atom feed ------------

YOUTUBE_KEY = "AIza-test-key-never-logged"


@pytest.fixture(scope="module")
def youtube(tmp_path_factory):
    from urllib.parse import urlencode

    tmp = tmp_path_factory.mktemp("youtube")
    now = datetime.now(timezone.utc)
    videos = [social.youtube_video(f"vid{i:08d}", f"Seedance 2.0 test {i}", f"Clip {i} made with Seedance",
                                   now - timedelta(hours=i + 1), views=1000 * (i + 1), likes=10 * i, comments=i)
              for i in range(5)]
    gone = social.youtube_video("gone0000000", "Seedance clip since deleted", "", now - timedelta(hours=2))

    def lookup(found):
        return "/youtube/v3/videos?" + urlencode({"part": "snippet,statistics", "id": ",".join(v["id"] for v in found),
                                                  "maxResults": 50})
    search = "/youtube/v3/search?part=snippet&q={}&type=video&order=date&maxResults=50"
    page1, page2 = videos[:2] + [gone], videos[2:]
    files = {"/_y/s1.json": social.youtube_search_page(page1, "CAIQAA"), "/_y/s2.json": social.youtube_search_page(page2),
             "/_y/all.json": social.youtube_search_page(videos), "/_y/v1.json": social.youtube_videos_page(videos[:2]),
             "/_y/v2.json": social.youtube_videos_page(page2), "/_y/vall.json": social.youtube_videos_page(videos),
             "/_y/empty.json": social.youtube_search_page([]),
             "/_y/channel.xml": (REALDATA / "feedjira-sample-feeds" / "youtube_atom.xml").read_text(encoding="utf-8")}
    routes = {search.format("Seedance"): {"file": "_y/s1.json", "sequence": [RATE_LIMITED, {}]},
              search.format("Seedance") + "&pageToken=CAIQAA": {"file": "_y/s2.json"},
              search.format("nothing"): {"file": "_y/empty.json"},
              search.format("broken"): {"body": '{"kind": "youtube#searchListResponse", "items": [', "content_type":
                                        "application/json"},
              "/youtube/v3/search": {"file": "_y/all.json"},  # later crawls (publishedAfter=...)
              lookup(page1): {"file": "_y/v1.json"}, lookup(page2): {"file": "_y/v2.json"},
              lookup(videos): {"file": "_y/vall.json"},
              "/feeds/videos.xml?channel_id=UCK8sQmJBp8GCxrOtXWBpyEA": {"file": "_y/channel.xml",
                                                                         "content_type": "application/atom+xml"},
              "/feeds/videos.xml?channel_id=UCbroken": {"body": "<html><body>Oops</body></html>"}}
    server = serve(tmp / "site", files, routes)
    source = {"name": "yt", "kind": "youtube", "queries": ["Seedance", "nothing", "broken"], "feeds_url": server.url,
              "channels": ["UCK8sQmJBp8GCxrOtXWBpyEA", "UCbroken"], "follow_links": False, "lookback": "36500d"}
    topic = write_topic(tmp / "topic.toml", [{"url": server.url, "download_delay": 0, **source}], include=["Seedance", "Google"])
    db = tmp / "social.duckdb"
    crawl = {"db": db, "server": server, "videos": videos}
    for run in ("first", "second"):
        crawl[run] = run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, *OLD_POSTS, "--log-level", "DEBUG",
                             env={"YOUTUBE_API_KEY": YOUTUBE_KEY})
        assert crawl[run].returncode == 0, crawl[run].stderr
        crawl[f"{run}_snapshots"] = rows(db, "SELECT * FROM engagement")
    yield crawl
    server.stop()


def test_youtube_api_videos_with_statistics_and_channel_feed_without_key(youtube):
    db, server = youtube["db"], youtube["server"]
    docs = {r["platform_id"]: r for r in rows(db, "SELECT * FROM documents")}
    api = {v["id"] for v in youtube["videos"]}
    assert api <= set(docs) and "gone0000000" not in docs  # deleted since the search: skipped
    feed = set(docs) - api
    entries = feedparser.parse((REALDATA / "feedjira-sample-feeds" / "youtube_atom.xml").read_bytes()).entries
    naming = {e.yt_videoid for e in entries if re.search(r"\bgoogle\b", e.title + " " + e.summary, re.I)}
    assert len(entries) == 15 and feed == naming and "5shykyfmb28" in feed  # the others are filtered as off-topic
    assert len(rows(db, "SELECT id FROM filtered")) == 15 - len(naming)
    doc = docs["5shykyfmb28"]
    assert doc["kind"] == "video" and doc["url"] == "https://www.youtube.com/watch?v=5shykyfmb28"
    assert doc["author"] == "Google" and doc["published_at"] == datetime(2015, 5, 4, 0, 1, 27)
    latest = {r["doc_id"]: r for r in rows(db, "SELECT * FROM engagement_latest")}
    assert (latest[doc["id"]]["views"], latest[doc["id"]]["likes"]) == (251497, 3546)
    video = docs["vid00000003"]
    assert (latest[video["id"]]["views"], latest[video["id"]]["likes"], latest[video["id"]]["replies"]) == (4000, 30, 3)
    assert_rate_limit_waited(server, "/youtube/v3/search?part=snippet&q=Seedance")
    assert any("pageToken=CAIQAA" in p for _, p, _ in server.requests)
    api_calls = [h for _, p, h in server.requests if p.startswith("/youtube/v3/")]
    assert api_calls and all(h.get("X-Goog-Api-Key") == YOUTUBE_KEY for h in api_calls)
    assert not [p for _, p, _ in server.requests if YOUTUBE_KEY in p]
    for result in (youtube["first"], youtube["second"]):
        assert YOUTUBE_KEY not in result.stdout + result.stderr
    assert YOUTUBE_KEY.encode() not in db.read_bytes()
    reasons = sorted({e["url"].rsplit("/", 1)[1][:30]: e["reason"][:24] for e in errors_of(db)}.items())
    assert reasons == [("search?part=snippet&q=broken&t", "malformed youtube API re"),
                       ("videos.xml?channel_id=UCbroken", "not a readable channel f")]


def test_youtube_second_crawl_asks_published_after_and_adds_only_snapshots(youtube):
    assert any("publishedAfter=" in p for _, p, _ in youtube["server"].requests)
    assert_second_crawl_adds_only_snapshots(youtube, {r["id"] for r in rows(youtube["db"], "SELECT id FROM documents")})


@pytest.mark.parametrize("value, seconds", [
    ("412", 412.0),  # Reddit: seconds until the reset
    ("1800000010", 10.0),  # Bluesky: a Unix time
    ("2027-01-15T08:00:10.000Z", 10.0),  # Mastodon: an ISO 8601 date
    ("soon", None),
])
def test_ratelimit_reset_header_forms(value, seconds):
    from crawler.downloadermiddlewares.ratelimit import reset_seconds

    now = 1800000000.0 if value.startswith("18") else datetime(2027, 1, 15, 8, tzinfo=timezone.utc).timestamp()
    assert reset_seconds(value, now=now) == seconds


def test_engagement_export_has_the_snapshots_and_never_the_key(telegram, tmp_path):
    out = tmp_path / "engagement.csv"
    result = run_cli("export", "engagement", "--db", telegram["db"], "-o", out)
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "doc_id,observed_at,likes,reposts,replies,views,score,run_id"
    assert len(lines) - 1 == len(telegram["second_snapshots"])
    refused = run_cli("export", "pseudonym_key", "--db", telegram["db"], "-o", tmp_path / "key.csv")
    assert refused.returncode == 2 and "cannot export 'pseudonym_key'" in refused.stderr


def test_mastodon_search_with_a_token_from_the_environment(mastodon, tmp_path):
    token = "mastodon-token-never-stored"
    topic = write_topic(tmp_path / "search.toml", [{"name": "masto", "kind": "mastodon", "url": mastodon["server"].url,
                                                    "queries": ["toot"], "tags": ["empty"], "download_delay": 0}],
                        include=["toot", "hoot"])
    db = tmp_path / "search.duckdb"
    first = len(mastodon["server"].requests)
    result = run_cli("crawl", "--topic", topic, "--db", db, *CRAWL, env={"MASTODON_TOKEN": token})
    assert result.returncode == 0, result.stderr
    searches = [(p, h) for _, p, h in mastodon["server"].requests[first:] if p.startswith("/api/v2/search")]
    assert searches and all(h.get("Authorization") == f"Bearer {token}" and "type=statuses" in p for p, h in searches)
    stored = {r["platform_id"] for r in rows(db, "SELECT platform_id FROM documents")}
    assert stored == {s["uri"] for s in mastodon["public"] if re.search(r"\b(toot|hoot)\b", s["content"], re.I)}
    assert token not in result.stdout + result.stderr and token.encode() not in db.read_bytes()
