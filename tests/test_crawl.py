"""End-to-end crawls of the replay site with the real CLI, Scrapy, spaCy and DuckDB (no mocks)."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest

from crawler.text.urls import document_id
from helpers import rows, run_cli, site_sources, write_topic

@pytest.fixture(scope="module")
def crawled(replay, tmp_path_factory):
    """The whole replay site crawled twice into one database: (db, manifest, server, first, second run)."""
    server, manifest = replay
    tmp = tmp_path_factory.mktemp("crawl")
    topic = write_topic(tmp / "topic.toml", site_sources(server, manifest))
    db = tmp / "site.duckdb"
    options = ["--set", "AUTOTHROTTLE_ENABLED=false", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
    first = run_cli("crawl", "--topic", topic, "--db", db, *options)
    assert first.returncode == 0, first.stderr
    snapshot = rows(db, "SELECT id, title, text FROM documents ORDER BY id")
    second = run_cli("crawl", "--topic", topic, "--db", db, *options)
    assert second.returncode == 0, second.stderr
    return {"db": db, "manifest": manifest, "server": server, "first": first, "second": second,
            "snapshot": snapshot, "topic": topic}


def article_url(server, article):
    return server.url + article["canonical_path"]


def linked(article):
    return bool(article["in"])


def test_crawl_stores_each_on_topic_article_once(crawled):
    db, manifest, server = crawled["db"], crawled["manifest"], crawled["server"]
    stored = rows(db, "SELECT url, count(*) AS n FROM documents GROUP BY url")
    assert all(row["n"] == 1 for row in stored)
    urls = {row["url"] for row in stored}
    expected = {article_url(server, a) for a in manifest["articles"] if a["on_topic"] and linked(a)}
    assert expected <= urls, sorted(expected - urls)[:5]
    ids = {row["id"] for row in rows(db, "SELECT id FROM documents")}
    assert ids == {document_id(url) for url in urls}


def test_crawl_filters_off_topic_and_boilerplate_only_pages(crawled):
    db, manifest, server = crawled["db"], crawled["manifest"], crawled["server"]
    documents = {row["url"] for row in rows(db, "SELECT url FROM documents")}
    filtered = {row["url"]: row["reason"] for row in rows(db, "SELECT url, reason FROM filtered")}
    off_topic = [a for a in manifest["articles"] if not a["on_topic"] and linked(a) and a["status"] == 200]
    assert off_topic
    for article in off_topic:
        url = article_url(server, article)
        assert url not in documents
        assert url in filtered and "no topic term" in filtered[url]
    boilerplate = [a for a in off_topic if a["term_only_in_boilerplate"]]
    assert boilerplate, "the site must have pages naming the topic only in their sidebar"


def test_crawl_keeps_feed_text_when_the_page_fails(crawled):
    db, manifest, server = crawled["db"], crawled["manifest"], crawled["server"]
    errors = rows(db, "SELECT url, reason FROM errors")
    for case, status in (("page_404", "HTTP 404"), ("page_500", "HTTP 500")):
        slug = manifest["cases"][case]["slug"]
        article = next(a for a in manifest["articles"] if a["slug"] == slug)
        [document] = rows(db, "SELECT * FROM documents WHERE url = ?", [article_url(server, article)])
        assert document["text_source"] == "feed"
        assert document["title"] == article["title"]
        assert any(e["reason"] == status and e["url"].endswith(article["canonical_path"]) for e in errors)


def test_crawl_follows_redirects_canonical_links_and_drops_tracking(crawled):
    db, manifest, server = crawled["db"], crawled["manifest"], crawled["server"]
    urls = {row["url"] for row in rows(db, "SELECT url FROM documents")}
    assert not any("utm_" in url for url in urls)
    assert not any("/story/" in url for url in urls)
    for case in ("redirect", "canonical_differs"):
        slug = manifest["cases"][case]["slug"]
        article = next(a for a in manifest["articles"] if a["slug"] == slug)
        assert article_url(server, article) in urls


@pytest.mark.parametrize("source", ["google-news", "bing-news", "gdelt", "sitemap"])
def test_crawl_one_source_resolves_links_to_publisher_pages(crawled, source, tmp_path):
    server, manifest = crawled["server"], crawled["manifest"]
    db = tmp_path / "one.duckdb"
    result = run_cli("crawl", "--topic", crawled["topic"], "--db", db, "--source", source, "-q",
                     "--set", "NLP_ENABLED=false", "--set", "AUTOTHROTTLE_ENABLED=false")
    assert result.returncode == 0, result.stderr
    stored = rows(db, "SELECT source, url FROM documents")
    assert stored and {row["source"] for row in stored} == {source}
    assert all(row["url"].startswith(server.url + "/20") for row in stored)
    listed = {article_url(server, a) for a in manifest["articles"]
              if source in a["in"] and a["on_topic"] and a["status"] == 200}
    assert listed <= {row["url"] for row in stored}


def test_crawl_analyses_chinese_text(crawled):
    db, manifest = crawled["db"], crawled["manifest"]
    chinese = rows(db, "SELECT id, title, lang, analysed, stance, text FROM documents WHERE lang = 'zh'")
    expected = [a for a in manifest["articles"] if a["lang"] == "zh" and a["on_topic"] and linked(a)]
    assert len(chinese) == len(expected) > 0
    for row in chinese:
        assert row["analysed"] is True and row["stance"] in ("favor", "against", "neutral")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row["title"])
    norms = {r["norm"] for r in rows(db, "SELECT e.norm FROM entities e JOIN documents d ON d.id = e.doc_id "
                                         "WHERE d.lang = 'zh'")}
    assert "Seedance 2.0" in norms  # found by the topic's names in jieba-segmented text


def test_crawl_stores_stance_frames_and_actors(crawled):
    db, manifest = crawled["db"], crawled["manifest"]
    docs = rows(db, "SELECT id, url, stance, stance_score, stance_confidence, stance_evidence, nlp_version "
                    "FROM documents WHERE analysed")
    assert docs and len({d["nlp_version"] for d in docs}) == 1
    for d in docs:
        assert d["stance"] in ("favor", "against", "neutral") and -1 <= d["stance_score"] <= 1
        assert 0 <= d["stance_confidence"] <= 1 and isinstance(d["stance_evidence"], list)
    frames = rows(db, "SELECT f.frame, f.stance, f.score FROM frames f JOIN documents d ON d.id = f.doc_id")
    assert {f["frame"] for f in frames} >= {"copyright", "privacy", "geopolitics"}
    assert rows(db, "SELECT count(*) AS n FROM frames WHERE doc_id NOT IN (SELECT id FROM documents)")[0]["n"] == 0
    assert rows(db, "SELECT count(*) AS n FROM actors")[0]["n"] > 0
    # the replay site's articles are labelled: articles written for the topic score above those written against it
    labels = {article_url(crawled["server"], a): a["stance"] for a in manifest["articles"] if a["stance"]}
    scores = {label: [d["stance_score"] for d in docs if labels.get(d["url"]) == label] for label in ("favor", "against")}
    assert len(scores["favor"]) >= 4 and len(scores["against"]) >= 4
    assert sum(scores["favor"]) / len(scores["favor"]) > sum(scores["against"]) / len(scores["against"])
    timeline = rows(db, "SELECT favor, against, neutral, mean_stance, controversy FROM timeline")
    assert sum(t["favor"] + t["against"] + t["neutral"] for t in timeline) == len(docs)
    assert all(t["controversy"] is None or 0 <= t["controversy"] <= 1 for t in timeline)
    by_frame = rows(db, "SELECT frame, sum(documents) AS n FROM frame_timeline GROUP BY frame")
    assert {f["frame"]: f["n"] for f in by_frame} == {
        name: sum(1 for f in frames if f["frame"] == name) for name in {f["frame"] for f in frames}}


def test_crawl_tags_entities_with_topic_aliases(crawled):
    db = crawled["db"]
    assert rows(db, "SELECT count(*) AS n FROM documents WHERE lang = 'en' AND NOT analysed")[0]["n"] == 0
    entities = rows(db, "SELECT text, label, norm FROM entities")
    norms = {e["norm"] for e in entities}
    assert {"ByteDance", "Seedance 2.0"} <= norms
    for entity in entities:
        if entity["text"] in ("MPA", "the Motion Picture Association"):
            assert entity["norm"] == "Motion Picture Association"
    offsets = rows(db, "SELECT e.text, substr(d.text, e.start_char + 1, e.end_char - e.start_char) AS span "
                       "FROM entities e JOIN documents d ON d.id = e.doc_id LIMIT 200")
    assert all(row["text"] == row["span"] for row in offsets)


def test_crawl_dates_are_utc(crawled):
    db, manifest, server = crawled["db"], crawled["manifest"], crawled["server"]
    stored = {row["url"]: row["published_at"] for row in rows(db, "SELECT url, published_at FROM documents")}
    checked = 0
    for article in manifest["articles"]:
        url = article_url(server, article)
        if url in stored and stored[url] is not None and article["slug"] != manifest["cases"]["missing_date"]["slug"]:
            expected = datetime.fromisoformat(article["published_at"].replace("Z", "+00:00")).replace(tzinfo=None)
            assert abs((stored[url] - expected).total_seconds()) < 60 * 60 * 24, url
            assert stored[url].replace(second=0) == expected.replace(second=0), url
            checked += 1
    assert checked >= 10


def test_crawl_records_runs_and_prints_summary(crawled):
    db, manifest, first = crawled["db"], crawled["manifest"], crawled["first"]
    runs = rows(db, "SELECT * FROM crawl_runs ORDER BY started_at")
    names = {s["name"] for s in manifest["sources"]}
    assert len(runs) == 2 * len(names) and {r["source"] for r in runs} == names
    header = next(line for line in first.stdout.splitlines() if line.startswith("source"))
    assert header.split() == ["source", "kind", "status", "fetched", "new", "duplicates", "filtered", "errors", "seconds"]
    assert "database:" in first.stdout
    first_run = runs[: len(names)]
    stored = rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
    assert sum(r["new"] for r in first_run) == stored


def test_crawl_again_adds_nothing_and_loses_nothing(crawled):
    db = crawled["db"]
    assert rows(db, "SELECT id, title, text FROM documents ORDER BY id") == crawled["snapshot"]
    runs = rows(db, "SELECT run_id, sum(new) AS new, sum(duplicates) AS duplicates FROM crawl_runs "
                    "GROUP BY run_id ORDER BY min(started_at)")
    assert len(runs) == 2
    assert runs[1]["new"] == 0 and runs[1]["duplicates"] > 0
    # pages stored or filtered are not fetched again: the second run reads only feeds and APIs
    second_fetched = rows(db, "SELECT sum(fetched) AS n FROM crawl_runs WHERE run_id = ?", [runs[1]["run_id"]])[0]["n"]
    assert second_fetched <= len(crawled["manifest"]["sources"]) + 8


def test_crawl_again_does_not_refetch_redirected_or_canonicalised_links(replay, tmp_path):
    server, manifest = replay
    topic = write_topic(tmp_path / "topic.toml", [
        {"name": "pacific-tech", "kind": "feed", "url": server.url + "/feeds/pacific-tech.rdf"},
        {"name": "circuit-daily", "kind": "feed", "url": server.url + "/feeds/circuit-daily.rss"},
    ])
    db = tmp_path / "aliases.duckdb"
    redirect = manifest["cases"]["redirect"]["from"]
    tracked = manifest["cases"]["canonical_differs"]["feed_link"].split("?")[0]
    args = ("crawl", "--topic", topic, "--db", db, "-q", "--set", "NLP_ENABLED=false")
    assert run_cli(*args).returncode == 0
    aliases = {row["url"]: row["doc_id"] for row in rows(db, "SELECT url, doc_id FROM url_aliases")}
    assert server.url + redirect in aliases
    before = len(server.requests)
    assert run_cli(*args).returncode == 0
    second = [path for _method, path, _headers in server.requests[before:]]
    failed = {a["canonical_path"] for a in manifest["articles"] if a["status"] != 200}  # tried again, by design
    assert second and all(path.startswith(("/feeds/", "/robots.txt")) or path in failed for path in second), second
    assert redirect not in second and not any(path.startswith(tracked) for path in second)


def test_cli_sql_and_export_on_the_crawl(crawled, tmp_path):
    db = crawled["db"]
    result = run_cli("sql", "SELECT source, count(*) AS n FROM documents GROUP BY source ORDER BY source",
                     "--db", db, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert sum(row["n"] for row in data) == rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
    denied = run_cli("sql", "DROP TABLE documents", "--db", db)
    assert denied.returncode == 2 and "read-only" in denied.stderr
    out = tmp_path / "timeline.csv"
    exported = run_cli("export", "timeline", "--db", db, "--format", "csv", "-o", out)
    assert exported.returncode == 0, exported.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"day,source,documents,") and b"\r\n" in raw
    table = list(csv.DictReader(raw.decode().splitlines()))
    assert sum(int(row["documents"]) for row in table) == rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
