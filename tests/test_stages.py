"""Each pipeline stage driven alone with a real Scrapy crawler (scrapy.utils.test.get_crawler) and real data."""

import asyncio
import gzip
import json
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

import crawler.settings as project_settings
from crawler.storage import Database, DatabaseError
from crawler.items import Document
from crawler.text.language import count_words
from crawler.text.urls import document_id
from pipelines.dedup import DedupPipeline
from pipelines.extract import ExtractPipeline
from pipelines.nlp import NlpPipeline
from pipelines.relevance import RelevancePipeline
from pipelines.store import StorePipeline, document_row
from pipelines.validate import ValidatePipeline
from realdata import REALDATA

AEB = REALDATA / "scrapinghub-aeb"
PROJECT_SETTINGS = {name: getattr(project_settings, name) for name in dir(project_settings)
                    if name.isupper() and name not in ("ITEM_PIPELINES", "EXTENSIONS")}


def make_crawler(tmp_path, **settings):
    return get_crawler(settings_dict={**PROJECT_SETTINGS, "SEEDTRACK_DB": str(tmp_path / "seedtrack.duckdb"),
                                      "SEEDTRACK_RUN_ID": "run-test", **settings})


def doc(url: str = "https://news.example/a", **fields) -> Document:
    return Document(url=url, source="verge-ai", source_kind="feed", **fields)


def stored(url: str, **fields) -> Document:
    """A document as it reaches the store stage (validated, extracted, relevance checked)."""
    return doc(url, id=document_id(url), site="news.example", fetched_at=datetime(2026, 2, 14, 8, 0),
               published_at=datetime(2026, 2, 13, 20, 0), title="Seedance 2.0", text="Seedance 2.0 text",
               text_source="feed", word_count=3, lang="en", relevance="title: Seedance",
               matched_terms=["Seedance"], run_id="run-test", **fields)


# -- validate ---------------------------------------------------------------------------------------------------

@pytest.fixture
def validate(tmp_path):
    crawler = make_crawler(tmp_path)
    return crawler, ValidatePipeline.from_crawler(crawler)


def test_validate_normalises_document(validate):
    crawler, stage = validate
    item = stage.process_item(doc(
        "HTTPS://News.Example.com:443/tech/seedance?utm_source=rss&id=3#comments",
        title="  <b>Seedance 2.0</b> &amp; Hollywood ",
        summary="<p>ByteDance&#8217;s new <a href='/x'>video model</a>.</p>\n\n<img src='a.jpg'/>  Read more",
        author="<span>Jane Doe</span>",
        published_at="Thu, 12 Feb 2026 22:00:00 +0800",
    ))
    assert item.url == "https://news.example.com/tech/seedance?id=3"
    assert item.id == document_id("https://news.example.com/tech/seedance?id=3")
    assert re.fullmatch(r"[0-9a-f]{16}", item.id)
    assert item.site == "news.example.com"
    assert item.title == "Seedance 2.0 & Hollywood"
    assert item.summary == "ByteDance’s new video model. Read more"
    assert item.author == "Jane Doe"
    assert item.published_at == datetime(2026, 2, 12, 14, 0)
    assert item.fetched_at.tzinfo is None
    assert abs(item.fetched_at - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=1)
    assert item.run_id == "run-test"
    assert crawler.stats.get_value("validate/ok") == 1


@pytest.mark.parametrize(("hint", "lang"), [("en-US", "en"), ("zh_CN", "zh"), ("EN", "en"), (None, None)])
def test_validate_normalises_language_hint(validate, hint, lang):
    _crawler, stage = validate
    assert stage.process_item(doc(lang=hint)).lang == lang


def test_validate_same_id_for_reordered_query(validate):
    _, stage = validate
    first = stage.process_item(doc("https://news.example/a?x=1&y=2"))
    second = stage.process_item(doc("https://news.example/a?y=2&x=1&utm_medium=feed"))
    assert first.id == second.id
    assert second.url == "https://news.example/a?y=2&x=1"


def test_validate_keeps_given_id_and_time(validate):
    _, stage = validate
    item = stage.process_item(doc(id="platformid000001", fetched_at="2026-02-14T09:30:00+01:00", published_at=1771000000))
    assert item.id == "platformid000001"
    assert item.fetched_at == datetime(2026, 2, 14, 8, 30)
    assert item.published_at == datetime(2026, 2, 13, 16, 26, 40)  # epoch 1771000000


@pytest.mark.parametrize(
    "published",
    ["2029-01-01T00:00:00Z",  # more than a year after the fetch: a parsing accident
     "not a date", None],
)
def test_validate_drops_unusable_publication_date(validate, published):
    _, stage = validate
    item = stage.process_item(doc(fetched_at=datetime(2026, 2, 14), published_at=published))
    assert item.published_at is None


def test_validate_leap_day_fetch(validate):
    _, stage = validate
    item = stage.process_item(doc(fetched_at=datetime(2028, 2, 29, 12), published_at="2028-02-28T10:00:00Z"))
    assert item.published_at == datetime(2028, 2, 28, 10)


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "ftp://news.example/a", "mailto:someone@news.example", "http://", "/relative/path",
     "javascript:alert(1)", "http://[::1/broken", "http://news.example:99999/a", "https://news.example:port/"],
)
def test_validate_invalid_url_dropped(validate, url):
    crawler, stage = validate
    with pytest.raises(DropItem):
        stage.process_item(doc(url))
    assert crawler.stats.get_value("validate/invalid") == 1


def test_validate_unknown_kind_and_foreign_item_dropped(validate):
    _, stage = validate
    with pytest.raises(DropItem, match="unknown document kind 'podcast'"):
        stage.process_item(doc(kind="podcast"))
    with pytest.raises(DropItem, match="not a seedtrack Document: dict"):
        stage.process_item({"url": "https://news.example/a"})


# -- dedup ------------------------------------------------------------------------------------------------------

def test_dedup_second_same_id_dropped(tmp_path):
    crawler = make_crawler(tmp_path)
    stage = DedupPipeline.from_crawler(crawler)
    stage.open_spider()
    assert not (tmp_path / "seedtrack.duckdb").exists()  # nothing stored yet, nothing created
    first = doc(id="aaaaaaaaaaaaaaaa")
    assert stage.process_item(first) is first
    assert stage.process_item(doc(id="bbbbbbbbbbbbbbbb")).id == "bbbbbbbbbbbbbbbb"
    with pytest.raises(DropItem, match="duplicate"):
        stage.process_item(doc("https://news.example/other", id="aaaaaaaaaaaaaaaa"))
    assert crawler.stats.get_value("dedup/dropped") == 1


def test_dedup_drops_ids_already_in_database(tmp_path):
    url = "https://news.example/known"
    Database(tmp_path / "seedtrack.duckdb").store(
        documents=[document_row(stored(url))],
        filtered=[{"id": "ffffffffffffffff", "url": "https://news.example/f", "source": "s", "reason": "off topic",
                   "seen_at": datetime(2026, 2, 14), "run_id": None}])
    crawler = make_crawler(tmp_path)
    stage = DedupPipeline.from_crawler(crawler)
    stage.open_spider()
    for known in (document_id(url), "ffffffffffffffff"):
        with pytest.raises(DropItem):
            stage.process_item(doc(id=known))
    assert stage.process_item(doc(id="0123456789abcdef")).id == "0123456789abcdef"


# -- extract ----------------------------------------------------------------------------------------------------

def tokens(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def overlap(extracted: str, gold: str) -> tuple[float, float]:
    got, want = tokens(extracted), tokens(gold)
    common = sum((got & want).values())
    return common / sum(got.values()), common / sum(want.values())


@pytest.fixture(scope="module")
def ground_truth():
    return json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("page_id", "published"),
    [
        ("098bb3e96c0acdf36efdcde45fb9cca3f8c82c7cb2071b76097a1b96155f1eb2", datetime(2019, 11, 19)),  # LA Times
        ("1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892", datetime(2019, 11, 18)),  # TechCrunch
        ("156770d676ce79905198e1c8407f81e5ecfb617d9aa44712718707eb7e3b8e38", datetime(2019, 11, 19, 11, 56, 43)),  # The Hill, -0500
    ],
)
def test_extract_real_article_matches_ground_truth(tmp_path, ground_truth, page_id, published):
    crawler = make_crawler(tmp_path)
    stage = ExtractPipeline.from_crawler(crawler)
    gold = ground_truth[page_id]
    html = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
    item = stage.process_item(doc(gold["url"], summary="The feed's short summary.", html=html))
    precision, recall = overlap(item.text, gold["articleBody"])
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    assert item.text_source == "page"
    assert item.html is None  # the page is never carried further
    assert item.title  # taken from the page when the feed had none
    assert item.lang == "en"
    assert item.word_count == count_words(item.text) >= 200
    assert item.published_at == published  # from the page, in UTC, since the feed gave no date
    assert item.summary == "The feed's short summary."
    assert crawler.stats.get_value("extract/page") == 1


def test_extract_keeps_feed_title_and_date(tmp_path, ground_truth):
    page_id = "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892"
    html = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
    stage = ExtractPipeline.from_crawler(make_crawler(tmp_path))
    item = stage.process_item(doc(ground_truth[page_id]["url"], title="Feed title", author="Feed Author",
                                  published_at=datetime(2019, 11, 18, 20, 0), html=html))
    assert (item.title, item.author, item.published_at) == ("Feed title", "Feed Author", datetime(2019, 11, 18, 20, 0))
    assert item.text_source == "page"


@pytest.mark.parametrize("page", ["exotic_tags.html", "utf8.html"])  # 24 words; no main text at all
def test_extract_thin_page_keeps_feed_summary(tmp_path, page):
    crawler = make_crawler(tmp_path)
    stage = ExtractPipeline.from_crawler(crawler)
    html = (REALDATA / "trafilatura-resources" / page).read_text(encoding="utf-8", errors="replace")
    item = stage.process_item(doc(title="ByteDance launches Seedance 2.0",
                                  summary="The video model drew praise and a copyright complaint from studios.",
                                  html=html))
    assert item.text_source == "feed"
    assert item.text == ("ByteDance launches Seedance 2.0\n\n"
                         "The video model drew praise and a copyright complaint from studios.")
    assert item.word_count == 15
    assert item.lang == "en"
    assert item.html is None
    assert crawler.stats.get_value("extract/empty") == 1
    assert crawler.stats.get_value("extract/feed_only") == 1


def test_extract_cuts_huge_pages_before_extraction(tmp_path):
    crawler = make_crawler(tmp_path, EXTRACT_MAX_CHARS=5_000)
    paragraphs = "".join(f"<p>Paragraph {n} says Seedance 2.0 drew praise and copyright complaints alike.</p>"
                         for n in range(2_000))
    item = ExtractPipeline.from_crawler(crawler).process_item(doc(html=f"<html><body><article>{paragraphs}"))
    assert crawler.stats.get_value("extract/truncated") == 1
    assert item.text_source == "page" and item.html is None
    assert "Paragraph 10 " in item.text and "Paragraph 1999" not in item.text


def test_extract_without_page_uses_feed_or_nothing(tmp_path):
    stage = ExtractPipeline.from_crawler(make_crawler(tmp_path))
    item = stage.process_item(doc(title="即梦发布Seedance 2.0视频生成模型，引发好莱坞版权争议"))
    assert (item.text_source, item.lang) == ("feed", "zh")
    empty = stage.process_item(doc(lang="en"))
    assert (empty.text, empty.word_count, empty.text_source, empty.lang) == (None, 0, "feed", "en")


# -- relevance --------------------------------------------------------------------------------------------------

@pytest.fixture
def relevance(tmp_path):
    crawler = make_crawler(tmp_path)  # SEEDTRACK_TOPIC = None: the shipped Seedance topic
    return crawler, RelevancePipeline.from_crawler(crawler)


def test_relevance_stage_on_topic(relevance):
    crawler, stage = relevance
    item = stage.process_item(doc(title="Hollywood studios accuse ByteDance over Seedance 2.0",
                                  text="The Motion Picture Association said ..."))
    assert item.filtered_reason is None
    assert item.relevance.startswith("title: Seedance, Seedance 2.0")
    assert {"Seedance", "Seedance 2.0"} <= set(item.matched_terms)
    assert crawler.stats.get_value("relevance/kept") == 1


@pytest.mark.parametrize(
    ("title", "text", "reason"),
    [
        ("OpenAI updates Sora", "A video model from OpenAI.", "no topic term in title, summary or text"),
        ("Seedance 2.0 promo code inside", None, "excluded: title has 'promo code'"),
    ],
)
def test_relevance_stage_off_topic(relevance, title, text, reason):
    crawler, stage = relevance
    item = stage.process_item(doc(title=title, text=text))  # marked, not dropped: the store keeps it in `filtered`
    assert item.filtered_reason == reason
    assert item.relevance is None and item.matched_terms == []
    assert crawler.stats.get_value("relevance/filtered") == 1


def test_relevance_stage_reads_topic_setting(tmp_path):
    topic = tmp_path / "topic.toml"
    topic.write_text('[topic]\nname = "Kling"\n[terms]\ninclude = ["Kling"]\n'
                     '[[source]]\nname = "x"\nkind = "feed"\nurl = "https://x.example/feed"\n', encoding="utf-8")
    stage = RelevancePipeline.from_crawler(make_crawler(tmp_path, SEEDTRACK_TOPIC=str(topic)))
    assert stage.process_item(doc(title="Kling 2.1 released")).matched_terms == ["Kling"]
    assert stage.process_item(doc(title="Seedance 2.0 released")).filtered_reason


# -- store ------------------------------------------------------------------------------------------------------

def test_store_buffers_and_writes_on_close(tmp_path):
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=3, STORE_FLUSH_SECONDS=60)
    stage = StorePipeline.from_crawler(crawler)
    database = Database(tmp_path / "seedtrack.duckdb")

    async def crawl():
        stage.open_spider()
        first = stored("https://news.example/1", entities=[{"text": "ByteDance", "label": "ORG", "norm": "ByteDance",
                                                           "start_char": 0, "end_char": 9}], analysed=True)
        assert stage.process_item(first) is first
        stage.process_item(stored("https://news.example/2"))
        assert database.query("SELECT count(*) FROM documents")[1] == [(0,)]  # still buffered
        stage.process_item(stored("https://news.example/off", filtered_reason="no topic term in title"))
        await stage.drain()
        assert database.query("SELECT count(*) FROM documents")[1] == [(2,)]  # batch of 3 rows written
        stage.process_item(stored("https://news.example/3"))
        await stage.close_spider()

    asyncio.run(crawl())
    assert database.query("SELECT url FROM documents ORDER BY url")[1] == [
        ("https://news.example/1",), ("https://news.example/2",), ("https://news.example/3",)]
    assert database.query("SELECT url, reason, run_id FROM filtered")[1] == [
        ("https://news.example/off", "no topic term in title", "run-test")]
    assert database.query("SELECT doc_id, norm FROM entities")[1] == [(document_id("https://news.example/1"), "ByteDance")]
    assert database.query("SELECT analysed, matched_terms, text_source FROM documents WHERE url LIKE '%/1'")[1] == [
        (True, ["Seedance"], "feed")]
    stats = crawler.stats
    assert stats.get_value("store/new") == 3
    assert stats.get_value("store/filtered") == 1
    assert stats.get_value("store/batches") == 2
    assert stats.get_value("store/duplicates") is None


def test_store_counts_duplicates(tmp_path):
    Database(tmp_path / "seedtrack.duckdb").store(documents=[document_row(stored("https://news.example/1"))])
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=10)
    stage = StorePipeline.from_crawler(crawler)

    async def crawl():
        stage.open_spider()
        stage.process_item(stored("https://news.example/1"))
        stage.process_item(stored("https://news.example/2"))
        await stage.close_spider()

    asyncio.run(crawl())
    assert crawler.stats.get_value("store/new") == 1
    assert crawler.stats.get_value("store/duplicates") == 1


def test_store_flushes_after_flush_seconds(tmp_path):
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=100, STORE_FLUSH_SECONDS=0.05)
    stage = StorePipeline.from_crawler(crawler)
    database = Database(tmp_path / "seedtrack.duckdb")

    async def crawl():
        stage.open_spider()
        stage.process_item(stored("https://news.example/1"))
        await asyncio.sleep(0.5)
        assert database.query("SELECT count(*) FROM documents")[1] == [(1,)]  # written by the timer
        await stage.close_spider()

    asyncio.run(crawl())
    assert crawler.stats.get_value("store/new") == 1


HOLDER = ("import sys, time, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('locked', flush=True)\n"
          "time.sleep(float(sys.argv[2]))\ncon.close()\n")


@contextmanager
def locked_by_another_process(path, seconds: float):
    """Another process holds the DuckDB file for ``seconds``; yields that process."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_store_waits_for_a_locked_file_without_stalling_the_crawl(tmp_path):
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=1, STORE_FLUSH_SECONDS=0.2)
    stage = StorePipeline.from_crawler(crawler)
    stage.open_spider()
    stage.database.lock_timeout = 0.3  # the real Database, told not to wait a minute
    with locked_by_another_process(stage.database.path, 2) as holder:

        async def crawl():
            started = time.monotonic()
            stage.process_item(stored("https://news.example/1"))  # a batch of one: handed to the writer
            assert time.monotonic() - started < 0.25  # a write waiting for the lock (0.3 s) does not block
            started = time.monotonic()
            for _ in range(20):  # one second in which retries run every 0.2 s and each waits 0.3 s
                await asyncio.sleep(0.05)
            assert time.monotonic() - started < 1.8  # blocking retries would stretch it past 2.5 s
            holder.wait()  # the other process lets go of the file
            await asyncio.sleep(0.5)  # the next retry writes the rows
            await stage.close_spider()

        asyncio.run(crawl())
    assert crawler.stats.get_value("store/write_errors") >= 1
    assert Database(tmp_path / "seedtrack.duckdb").query("SELECT count(*) FROM documents")[1] == [(1,)]
    assert crawler.stats.get_value("store/new") == 1


def test_store_says_what_it_could_not_write(tmp_path):
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=100, STORE_FLUSH_SECONDS=60)
    stage = StorePipeline.from_crawler(crawler)
    stage.open_spider()
    stage.database.lock_timeout = 0.2
    with locked_by_another_process(stage.database.path, 30):

        async def crawl():
            stage.process_item(stored("https://news.example/1"))
            with pytest.raises(DatabaseError, match="1 documents and 0 filtered URLs could not be written"):
                await stage.close_spider()

        asyncio.run(crawl())
    assert crawler.stats.get_value("store/write_errors") == 2  # the flush, and one more try at close
    assert "1 documents and 0 filtered URLs" in crawler.stats.get_value("store/unwritten")  # run_crawl raises it
    assert Database(tmp_path / "seedtrack.duckdb").query("SELECT count(*) FROM documents")[1] == [(0,)]


def test_store_writes_what_the_database_accepts_and_records_refused_rows(tmp_path):
    crawler = make_crawler(tmp_path, STORE_BATCH_SIZE=100)
    crawler.spider = SimpleNamespace(name="test-source")
    stage = StorePipeline.from_crawler(crawler)
    bad = stored("https://news.example/bad")
    bad.fetched_at = None  # NOT NULL in the schema: DuckDB refuses the row

    async def crawl():
        stage.open_spider()
        stage.process_item(stored("https://news.example/good"))
        stage.process_item(bad)
        await stage.close_spider()

    asyncio.run(crawl())
    database = Database(tmp_path / "seedtrack.duckdb")
    assert database.query("SELECT url FROM documents")[1] == [("https://news.example/good",)]
    [(url, reason)] = database.query("SELECT url, reason FROM errors")[1]
    assert url == "https://news.example/bad" and "not stored" in reason and "NOT NULL" in reason
    assert crawler.stats.get_value("store/refused") == 1


# -- nlp (real spaCy model) -------------------------------------------------------------------------------------

NLP_SETTINGS = {"NLP_WORKERS": 0, "NLP_BATCH_SIZE": 4, "NLP_MAX_WAIT": 0.1}
ENGLISH = [
    "ByteDance launched Seedance 2.0 on Thursday, and the MPA said the model infringes copyrights.",
    "Charles Rivkin, chairman of the Motion Picture Association, criticised ByteDance in Los Angeles.",
    "The Walt Disney Company sent a cease-and-desist letter to ByteDance over Seedance.",
    "OpenAI's Sora and Google Veo 3 now compete with Seedance 2.0 from China.",
    "Netflix and Paramount joined the complaint against ByteDance.",
]


def nlp_doc(text: str, lang: str = "en", **fields) -> Document:
    return doc(f"https://news.example/{abs(hash(text))}", text=text, lang=lang, **fields)


@pytest.mark.model
def test_nlp_stage_tags_english_in_batches(tmp_path):
    crawler = make_crawler(tmp_path, **NLP_SETTINGS)
    stage = NlpPipeline.from_crawler(crawler)
    items = [nlp_doc(text) for text in ENGLISH]
    chinese = nlp_doc("字节跳动发布即梦Seedance 2.0视频模型，美国电影协会表示抗议。", lang="zh")
    french = nlp_doc("ByteDance a lancé Seedance 2.0, et la MPA proteste.", lang="fr")
    off_topic = nlp_doc("ByteDance and Netflix news.", filtered_reason="no topic term")

    async def crawl():
        return await asyncio.gather(*(stage.process_item(item) for item in [*items, chinese, french, off_topic]))

    results = asyncio.run(crawl())
    assert results == [*items, chinese, french, off_topic]  # every item comes back, in order
    assert all(item.analysed for item in items)
    found = [{(e["text"], e["label"], e["norm"]) for e in item.entities} for item in items]
    assert ("ByteDance", "ORG", "ByteDance") in found[0]
    assert ("MPA", "ORG", "Motion Picture Association") in found[0]
    assert ("Seedance 2.0", "PRODUCT", "Seedance 2.0") in found[0]
    assert ("Charles Rivkin", "PERSON", "Charles Rivkin") in found[1]
    assert ("The Walt Disney Company", "ORG", "Disney") in found[2]
    assert ("Seedance", "PRODUCT", "Seedance 2.0") in found[2]
    assert ("Google Veo 3", "PRODUCT", "Veo") in found[3]
    entity = items[0].entities[0]
    assert ENGLISH[0][entity["start_char"]:entity["end_char"]] == entity["text"]
    assert chinese.analysed  # segmented by jieba, entities found by the topic's names
    assert {(e["text"], e["norm"]) for e in chinese.entities} >= {("字节跳动", "ByteDance"), ("即梦", "Jimeng")}
    assert all(item.reception["stance"] in ("favor", "against", "neutral") for item in [*items, chinese])
    assert len({item.reception["nlp_version"] for item in [*items, chinese]}) == 1
    assert (french.analysed, french.entities, french.reception) == (False, [], None)  # stored, marked not analysed
    assert (off_topic.analysed, off_topic.entities) == (False, [])
    assert crawler.stats.get_value("nlp/analysed") == 6  # a full batch of 4, then 2 after NLP_MAX_WAIT
    assert crawler.stats.get_value("nlp/skipped") == 2


@pytest.mark.model
def test_nlp_stage_close_flushes_partial_batch(tmp_path):
    crawler = make_crawler(tmp_path, **{**NLP_SETTINGS, "NLP_MAX_WAIT": 30})
    stage = NlpPipeline.from_crawler(crawler)
    item = nlp_doc("The MPA and Disney wrote to ByteDance.")

    async def crawl():
        waiting = asyncio.ensure_future(stage.process_item(item))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # alone in its batch, waiting for more texts
        stage.close_spider()
        return await asyncio.wait_for(waiting, timeout=20)

    assert asyncio.run(crawl()) is item
    assert item.analysed
    assert {e["norm"] for e in item.entities} >= {"Motion Picture Association", "Disney", "ByteDance"}


@pytest.mark.model
def test_nlp_stage_skips_empty_text(tmp_path):
    crawler = make_crawler(tmp_path, **NLP_SETTINGS)
    stage = NlpPipeline.from_crawler(crawler)
    item = asyncio.run(stage.process_item(nlp_doc("", lang="en")))
    assert (item.analysed, crawler.stats.get_value("nlp/skipped")) == (False, 1)


def test_nlp_stage_can_be_disabled(tmp_path):
    with pytest.raises(NotConfigured):
        NlpPipeline.from_crawler(make_crawler(tmp_path, NLP_ENABLED=False))
