"""Tests for crawler.topic: the shipped topic file and the loader's error messages."""

from urllib.parse import urlsplit

import pytest

from crawler.topic import (DEFAULT_TOPIC, SOURCE_KINDS, Source, TopicError, load_topic, parse_interval,
                           parse_topic)

GOOD = """\
[topic]
name = "Test topic"

[terms]
include = ["Seedance", "即梦"]

[[entity]]
name = "Motion Picture Association"
label = "ORG"
aliases = ["MPA"]

[[source]]
name = "search"
kind = "news_search"
url = "https://news.example/rss?q={query}"

[[source]]
name = "outlet"
kind = "feed"
url = "https://outlet.example/feed/"
interval = "2h"
follow = "all"
"""


def write(tmp_path, text):
    path = tmp_path / "topic.toml"
    path.write_text(text, encoding="utf-8")
    return path


# (toml text, expected line, fragment of the message)
BAD = {
    "toml-syntax": ("[topic]\nname = \"x\nslug = \"y\"\n", 2, "invalid TOML"),
    "toml-missing-bracket": (GOOD.replace('[[source]]\nname = "outlet"', '[[source]\nname = "outlet"'), 17,
                             "invalid TOML (column 9): Expected ']]'"),
    "toml-duplicate-key": (GOOD.replace('interval = "2h"', 'interval = "2h"\ninterval = "3h"'), 22, "invalid TOML"),
    "missing-topic-name": (GOOD.replace('name = "Test topic"\n', 'slug = "t"\n'), 1, "[topic] needs name"),
    "missing-include": (GOOD.replace('include = ["Seedance", "即梦"]', 'search = ["x"]'), 4, "[terms] needs include"),
    "empty-include": (GOOD.replace('include = ["Seedance", "即梦"]', "include = []"), 5, "[terms] include must not be empty"),
    "include-is-string": (GOOD.replace('include = ["Seedance", "即梦"]', 'include = "Seedance"'), 5,
                          "[terms] include: expected a list of non-empty strings"),
    "include-has-number": (GOOD.replace('include = ["Seedance", "即梦"]', 'include = ["Seedance", 2]'), 5,
                           "got ['Seedance', 2]"),
    "name-is-number": (GOOD.replace('name = "Test topic"', "name = 2"), 2, "[topic] name: expected a non-empty string"),
    "unknown-topic-key": (GOOD.replace('name = "Test topic"', 'name = "Test topic"\ntitel = "x"'), 3,
                          "unknown key 'titel' in [topic]; accepted: name, slug, description, languages"),
    "typo-sources-table": (GOOD.replace('[[source]]\nname = "outlet"', '[[sources]]\nname = "outlet"'), 17,
                           "unknown top-level table or key 'sources'"),
    "forgot-terms-header": (GOOD.replace("[terms]\n", ""), 4, "unknown key 'include' in [topic] (include belongs in [terms]"),
    "missing-terms": (GOOD.replace("[terms]\n", "").replace('include = ["Seedance", "即梦"]', ""), None, "missing [terms] table"),
    "no-sources": (GOOD[:GOOD.index("[[source]]")], None, "no [[source]] tables"),
    "source-without-url": (GOOD.replace('url = "https://outlet.example/feed/"\n', ""), 17, "source 'outlet': needs url"),
    "source-without-kind": (GOOD.replace('kind = "feed"\n', ""), 17, "needs kind"),
    "unknown-kind": (GOOD.replace('kind = "feed"', 'kind = "rss"'), 19,
                     "unknown kind 'rss'; use one of: feed, news_search, gdelt, sitemap, page"),
    "duplicate-source": (GOOD.replace('name = "outlet"', 'name = "search"'), 18,
                         "duplicate source name (first at line 12)"),
    "bad-source-name": (GOOD.replace('name = "outlet"', 'name = "Outlet Feed"'), 18, "name must match"),
    "ftp-url": (GOOD.replace("https://outlet.example/feed/", "ftp://outlet.example/feed/"), 20,
                "must be an absolute http:// or https:// URL"),
    "relative-url": (GOOD.replace("https://outlet.example/feed/", "/feed/"), 20, "http:// or https://"),
    "search-url-without-query": (GOOD.replace("?q={query}", "?q=seedance"), 15, "must contain {query}"),
    "query-in-feed-url": (GOOD.replace("feed/", "feed/?q={query}"), 20, "{query} is only filled in"),
    "unknown-placeholder": (GOOD.replace("{query}", "{q}"), 15, "unknown placeholder"),
    "bad-interval": (GOOD.replace('interval = "2h"', 'interval = "abc"'), 21, "bad interval 'abc'"),
    "zero-interval": (GOOD.replace('interval = "2h"', 'interval = "0m"'), 21, "bad interval '0m'"),
    "interval-is-number": (GOOD.replace('interval = "2h"', "interval = 3600"), 21, "expected a non-empty string"),
    "cron-four-fields": (GOOD.replace('interval = "2h"', 'cron = "0 * * *"'), 21, "bad cron '0 * * *'"),
    "cron-bad-chars": (GOOD.replace('interval = "2h"', 'cron = "0 * * * %"'), 21, "use 5 fields"),
    "interval-and-cron": (GOOD.replace('interval = "2h"', 'interval = "2h"\ncron = "0 * * * *"'), 22,
                          "interval or cron, not both"),
    "queries-on-feed": (GOOD.replace('interval = "2h"', 'queries = ["x"]'), 21, "queries only apply"),
    "enabled-is-string": (GOOD.replace('interval = "2h"', 'enabled = "no"'), 21, "expected true or false"),
    "bad-follow": (GOOD.replace('follow = "all"', 'follow = "everything"'), 22, "follow must be one of 'all', 'matching'"),
    "delay-not-number": (GOOD.replace('follow = "all"', 'follow = "all"\ndownload_delay = "fast"'), 23,
                         "download_delay must be a number >= 0"),
    "max-items-not-int": (GOOD.replace('follow = "all"', 'follow = "all"\nmax_items = "ten"'), 23,
                          "max_items must be a whole number >= 1"),
    "misspelled-option": (GOOD.replace('follow = "all"', 'folow = "all"'), 22, "unknown key 'folow'"),
    "bad-entity-label": (GOOD.replace('label = "ORG"', 'label = "ORGANIZATION"'), 9, "unknown label 'ORGANIZATION'"),
    "unknown-entity-key": (GOOD.replace('label = "ORG"', 'label = "ORG"\nalias = ["x"]'), 10,
                           "unknown key 'alias' in [entity]"),
    "alias-on-two-entities": (GOOD.replace('[[source]]\nname = "search"',
                                           '[[entity]]\nname = "Mpa Inc"\nlabel = "ORG"\naliases = ["mpa"]\n\n'
                                           '[[source]]\nname = "search"', 1), 12, "already names entity"),
    "source-as-plain-table": (GOOD[:GOOD.index("[[source]]")] + '[source]\nname = "x"\n', 12,
                              "must be written as [[source]] tables"),
    "missing-topic": (GOOD.replace('[topic]\nname = "Test topic"\n', ""), None, "missing [topic] table"),
    "topic-is-string": ('topic = "Seedance"\n' + GOOD.replace("[topic]\n", "[crawl]\n", 1), 1,
                        "topic must be written as a [topic] table"),
    "source-without-name": (GOOD.replace('name = "outlet"\n', ""), 17, "[[source]] needs name"),
    "entity-without-label": (GOOD.replace('label = "ORG"\n', ""), 7, "entity 'Motion Picture Association': needs label"),
    "bad-slug": (GOOD.replace('name = "Test topic"', 'name = "Test topic"\nslug = "Test Topic"'), 3, "slug 'Test Topic'"),
}


@pytest.mark.parametrize("text, line, fragment", BAD.values(), ids=BAD.keys())
def test_topic_bad_file_names_line_and_problem(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(TopicError) as info:
        load_topic(path)
    err = info.value
    assert (err.path, err.line) == (str(path), line)
    assert fragment in err.problem
    assert str(err) == (f"{path}:{line}: {err.problem}" if line else f"{path}: {err.problem}")


def test_topic_good_file_loads_with_defaults(tmp_path):
    topic = load_topic(write(tmp_path, GOOD))
    assert (topic.name, topic.slug, topic.description) == ("Test topic", "test-topic", "")
    assert topic.terms == ("Seedance", "即梦") and topic.search == topic.terms and topic.exclude == ()
    assert topic.languages == ("en",) and topic.user_agent is None and topic.contact is None
    search, outlet = topic.sources
    assert (search.line, search.interval, search.interval_seconds, search.queries) == (12, "1h", 3600, topic.search)
    assert search.cron is None and search.enabled is True and dict(search.options) == {}
    assert (outlet.line, outlet.interval_seconds, outlet.queries, dict(outlet.options)) == (17, 7200, (), {"follow": "all"})
    assert topic.raw["source"][1]["follow"] == "all"


def test_topic_cron_source_has_no_interval():
    topic = parse_topic(GOOD.replace('interval = "2h"', 'cron = "*/30 6-22 * * MON-FRI"'))
    assert topic.source("outlet").cron == "*/30 6-22 * * MON-FRI"
    assert topic.source("outlet").interval is None and topic.source("outlet").interval_seconds is None


def test_topic_source_queries_override_search():
    topic = parse_topic(GOOD.replace("{query}\"", '{query}"\nqueries = ["即梦 Seedance"]'))
    assert topic.source("search").queries == ("即梦 Seedance",)


def test_topic_unknown_source_lists_known_names():
    topic = parse_topic(GOOD, "mine.toml")
    with pytest.raises(TopicError, match=r"^mine.toml: unknown source 'nope'; known: search, outlet$"):
        topic.source("nope")


def test_topic_missing_file_says_so(tmp_path):
    with pytest.raises(TopicError, match="topic file not found") as info:
        load_topic(tmp_path / "absent.toml")
    assert info.value.line is None and info.value.path == str(tmp_path / "absent.toml")


def test_topic_parse_topic_names_string_source():
    with pytest.raises(TopicError, match=r"^<string>:1: unknown top-level"):
        parse_topic("[topik]\n")


@pytest.mark.parametrize("text, seconds", [("15m", 900), ("2h", 7200), ("90s", 90), ("1d", 86400)])
def test_topic_interval_parsing(text, seconds):
    assert parse_interval(text) == seconds
    assert Source("s", "feed", "https://x.example/", interval=text).interval_seconds == seconds


@pytest.mark.parametrize("text", ["abc", "15", "m", "1.5h", "-1h", "0s", "1w"])
def test_topic_interval_parsing_rejects(text):
    with pytest.raises(ValueError, match="bad interval"):
        parse_interval(text)


def test_topic_with_source_urls_replaces_only_named_sources():
    topic = parse_topic(GOOD)
    local = topic.with_source_urls({"outlet": "http://127.0.0.1:8123/feed.xml"})
    assert local.source("outlet").url == "http://127.0.0.1:8123/feed.xml"
    assert local.source("outlet").interval == "2h" and local.source("outlet").options["follow"] == "all"
    assert local.source("search") == topic.source("search")
    assert topic.source("outlet").url == "https://outlet.example/feed/"  # the original is unchanged


@pytest.mark.parametrize("urls, fragment", [
    ({"nope": "http://127.0.0.1/"}, "unknown source 'nope'"),
    ({"outlet": "file:///tmp/feed.xml"}, "http:// or https://"),
    ({"search": "http://127.0.0.1/rss"}, "must contain {query}"),
])
def test_topic_with_source_urls_rejects(urls, fragment):
    with pytest.raises(TopicError, match=fragment.replace("{", r"\{").replace("}", r"\}")):
        parse_topic(GOOD).with_source_urls(urls)


def test_topic_alias_map():
    aliases = parse_topic(GOOD).alias_map()
    for key in ("mpa", "the mpa", "motion picture association", "the motion picture association"):
        assert aliases[key] == "Motion Picture Association"
    assert "seedance" not in aliases  # terms are not entities


def test_topic_default_loads():
    topic = load_topic()
    assert topic.path == str(DEFAULT_TOPIC) and topic.slug == "seedance"
    assert {"Seedance", "Seedance 2.0", "即梦"} <= set(topic.terms)
    assert "ByteDance" not in topic.terms  # far too broad on its own
    assert set(topic.languages) == {"en", "zh"}
    assert topic.user_agent and topic.contact
    assert 20 <= len(topic.entities) <= 40


def test_topic_default_sources():
    sources = load_topic().sources
    assert len(sources) >= 15
    kinds = {s.kind for s in sources}
    assert kinds <= set(SOURCE_KINDS) and {"feed", "news_search", "gdelt"} <= kinds
    for source in sources:
        assert urlsplit(source.url).scheme in ("http", "https"), source.name
        assert source.enabled
        if source.kind in ("news_search", "gdelt"):
            assert "{query}" in source.url and source.queries, source.name
            assert 1800 <= source.interval_seconds <= 3600, source.name
        if source.kind == "feed":
            assert source.options.get("follow") == "all", source.name
            assert 3600 <= source.interval_seconds <= 6 * 3600, source.name


def test_topic_default_alias_map_resolves_story_names():
    aliases = load_topic().alias_map()
    assert aliases["mpa"] == "Motion Picture Association"
    assert aliases["the motion picture association"] == "Motion Picture Association"
    assert aliases["字节跳动"] == "ByteDance"
    assert aliases["即梦"] == "Jimeng"
    assert aliases["musk"] == "Elon Musk"
    assert aliases["抖音"] == "Douyin" != aliases["tiktok"]
