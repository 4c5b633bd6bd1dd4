"""Tests for crawler.parsers.feeds on real feeds, sitemaps and feedparser's edge-case corpus (../shared/realdata)."""

import ast
import gzip
import json
import re
from datetime import datetime

import pytest

from crawler.text.dates import to_utc
from crawler.parsers.feeds import FeedError, parse_feed, parse_gdelt_artlist, parse_sitemap
from realdata import REALDATA

FEEDJIRA = REALDATA / "feedjira-sample-feeds"
FEEDPARSER = REALDATA / "feedparser-tests"
SITEMAPS = REALDATA / "crawler-commons-sitemaps-robots" / "sitemaps"
TRAFILATURA = REALDATA / "trafilatura-resources"
DOC_URI = "http://127.0.0.1:8097/base/"  # the document URI feedparser's own test server uses in its oracles


def feedjira(name: str) -> tuple[str | None, list]:
    return parse_feed((FEEDJIRA / name).read_bytes(), f"http://feeds.example/{name}")


def comment_field(text: str, name: str) -> str | None:
    """A `Name: value` line of a feedparser test file's header comment."""
    match = re.search(rf"^\s*{name}:\s*(.+?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


# -- parse_feed on real captured feeds (feedjira) ------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "title", "count", "first"),
    [
        ("TechCrunch.xml", "TechCrunch", 20, {
            "url": "http://feedproxy.google.com/~r/Techcrunch/~3/kTeeGj4FnwU/",
            "title": "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M",
            "author": "Leena Rao", "lang": "en", "published": datetime(2011, 11, 2, 17, 25, 27)}),
        ("FeedjiraBlog.xml", "Feedjira Blog", 1, {
            "url": "http://feedjira.com/blog/2014/03/17/feedjira-goes-one-point-oh.html",
            "title": "Feedjira Goes One-Point-Oh", "author": "Jon Allured", "lang": None,
            "published": datetime(2014, 3, 17)}),
        ("youtube_atom.xml", "Google", 15, {
            "url": "http://www.youtube.com/watch?v=5shykyfmb28", "title": "The Google app: Questions Title",
            "author": "Google", "lang": None, "published": datetime(2015, 5, 4, 0, 1, 27)}),
        ("InvalidDateFormat.xml", "Invalid date format feed", 2, {
            "url": "http://example.com/item0", "title": "Item 0 with an invalid date", "author": None,
            "lang": "en-US", "published": datetime(2017, 10, 16, 15, 10)}),
        # FeedBurner-proxied Atom; <published> is 08:00-05:00
        ("FeedBurnerXHTML.xml", "Fantasy Baseball - RotoAuthority.com", 10, {
            "url": "http://feedproxy.google.com/~r/RotoAuthorityFantasyBaseball/~3/oAyOtW4WnU4/stock-watch-aprils-finest.html",
            "title": "Stock Watch: April's Finest", "author": "Alex Steers McCrum", "lang": None,
            "published": datetime(2014, 4, 30, 13, 0)}),
        ("PaulDixExplainsNothing.xml", "Paul Dix Explains Nothing", 5, {
            "url": "http://feeds.feedburner.com/~r/PaulDixExplainsNothing/~3/519925023/making-a-ruby-c-library-even-faster.html",
            "title": "Making a Ruby C library even faster", "author": "Paul Dix", "lang": None,
            "published": datetime(2009, 1, 22, 15, 50, 22)}),
    ],
)
def test_parse_feed_real_feed_counts_and_first_entry(name, title, count, first):
    feed_title, entries = feedjira(name)
    assert feed_title == title
    assert len(entries) == count
    entry = entries[0]
    assert entry.url == first["url"]
    assert entry.title == first["title"]
    assert entry.author == first["author"]
    assert entry.lang == first["lang"]
    assert to_utc(entry.published_at) == first["published"]
    assert all(e.url.startswith("http") for e in entries)


def test_parse_feed_categories_become_keywords():
    _, entries = feedjira("FeedBurnerXHTML.xml")
    assert entries[0].keywords == ["Stock Watch", "Trading"]
    _, entries = feedjira("TechCrunch.xml")
    assert entries[0].keywords[0] == "TC"


def test_parse_feed_summary_prefers_description_and_keeps_html():
    _, entries = feedjira("TechCrunch.xml")
    assert entries[0].summary.startswith("<img ")  # sanitising is the validate stage's job, not the parser's
    assert "Angie’s List launched in 1995" in entries[0].summary


def test_parse_feed_invalid_date_element_uses_pubdate():
    # item 0 has an epoch number in <dc:date>, item 1 a <dc:date> ten hours after its <pubDate>
    _, entries = feedjira("InvalidDateFormat.xml")
    assert [to_utc(e.published_at) for e in entries] == [datetime(2017, 10, 16, 15, 10), datetime(2017, 10, 17, 12, 17)]


def test_parse_feed_youtube_entries_all_link_to_videos():
    _, entries = feedjira("youtube_atom.xml")
    assert len({e.url for e in entries}) == 15
    assert all(e.url.startswith("http://www.youtube.com/watch?v=") for e in entries)
    assert entries[0].summary.startswith("A question is the most powerful force in the world.")


# -- parse_feed on feedparser's ill-formed corpus ----------------------------------------------------------

@pytest.mark.parametrize(
    "name",
    [
        "aaa_illformed.xml",  # truncated </rss
        "rss_empty_document.xml",
        "undeclared_namespace.xml",
        "chardet/big5.xml",  # Big5 bytes, no encoding information, no entries
        # bozo, and feedparser's only entry has no link: nothing usable either
        "rss_incomplete_cdata.xml",
        "rdf_channel_empty_textinput.xml",
        "chardet/eucjp.xml",
    ],
)
def test_parse_feed_illformed_without_entries_raises(name):
    with pytest.raises(FeedError, match="not a readable feed"):
        parse_feed((FEEDPARSER / "illformed" / name).read_bytes(), "http://example.com/feed")


def test_parse_feed_illformed_with_entries_keeps_them():
    # bozo (unclosed </rss), but the entry is there: the corrupted &amp; must come out as a plain &
    _, entries = parse_feed((FEEDPARSER / "illformed" / "rss_item_link_corrupted_ampersands.xml").read_bytes(),
                            "http://example.com/feed")
    assert [e.url for e in entries] == ["http://link/get?a=1&b=2"]


def test_parse_feed_invalid_doctype_is_not_an_error():
    # Expect: not bozo and feed['title'] == 'found'
    title, entries = parse_feed((FEEDPARSER / "illformed" / "always_strip_doctype.xml").read_bytes(),
                                "http://example.com/feed")
    assert (title, entries) == ("found", [])


# -- parse_feed: encodings -------------------------------------------------------------------------------

def _encoding_case(name: str) -> tuple[bytes, str | None]:
    body = (FEEDPARSER / "encoding" / name).read_bytes()
    header = re.search(rb"Header:\s*Content-type:\s*([^\r\n]+)", body)
    return body, header.group(1).decode().strip() if header else None


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("euc-kr.xml", "\ub144"),  # declared euc-kr, no HTTP header
        ("http_i18n.xml", "Iñtërnâtiônàlizætiøn"),  # application/xml without charset: the declaration's utf-8
    ],
)
def test_parse_feed_encoding_decodes_feed_title(name, title):
    body, content_type = _encoding_case(name)
    assert parse_feed(body, "http://example.com/feed", content_type)[0] == title


@pytest.mark.parametrize("name", ["http_text_xml_charset_2.xml", "http_text_xml_charset_overrides_encoding_2.xml"])
def test_parse_feed_encoding_http_charset_overrides_declaration(name):
    # text/xml; charset=windows-1252 while the bytes carry no (or another) declaration
    body, content_type = _encoding_case(name)
    assert content_type == "text/xml; charset=windows-1252"
    _, entries = parse_feed(body, "http://example.com/feed", content_type)
    assert entries[0].summary == "This is a \xa3\u201ctest.\u201d"


@pytest.mark.parametrize(
    ("codec", "bom", "declared"),
    [
        ("utf-8", b"\xef\xbb\xbf", "utf-8"),
        ("utf-16-le", b"\xff\xfe", "utf-16"),
        ("utf-16-be", b"\xfe\xff", "utf-16"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32"),
    ],
)
def test_parse_feed_encoding_bom_decodes_text(codec, bom, declared):
    # the real http_i18n.xml feed re-encoded behind a byte order mark, served without a Content-Type
    text = (FEEDPARSER / "encoding" / "http_i18n.xml").read_text(encoding="utf-8")
    text = text.replace('encoding="utf-8"', f'encoding="{declared}"')
    title, _ = parse_feed(bom + text.encode(codec), "http://example.com/feed")
    assert title == "Iñtërnâtiônàlizætiøn"


def _not_bozo_encoding_files():
    for path in sorted((FEEDPARSER / "encoding").glob("*.xml")):
        body = path.read_bytes()
        for codec in ("utf-8", "utf-16", "utf-32", "latin-1"):
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                continue
            if "Description:" in text:
                break
        expect = comment_field(text, "Expect") or ""
        if expect.startswith("not bozo"):
            yield pytest.param(path.name, id=path.name)


@pytest.mark.parametrize("name", list(_not_bozo_encoding_files()))
def test_parse_feed_encoding_wellformed_cases_parse(name):
    # every case feedparser's oracle calls "not bozo" (BOMs, UTF-16/32, declared and HTTP charsets,
    # no Content-Type at all) must parse; most have no entries, which is not an error
    body, content_type = _encoding_case(name)
    title, entries = parse_feed(body, "http://example.com/feed", content_type)
    assert isinstance(entries, list)


def test_parse_feed_empty_feed_without_content_type_is_not_an_error():
    # a well-formed feed with no items, fetched from a server that sends no Content-Type
    body = (FEEDPARSER / "encoding" / "utf-16le-bom.xml").read_bytes()
    assert parse_feed(body, "http://example.com/feed", None) == (None, [])


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8"])
def test_parse_feed_non_xml_content_type_without_entries_raises(content_type):
    body = (FEEDPARSER / "encoding" / "bozo_http_text_plain.xml").read_bytes()
    with pytest.raises(FeedError, match="not an XML media type"):
        parse_feed(body, "http://example.com/feed", content_type)


# -- parse_feed: relative links and xml:base, with feedparser's oracles ------------------------------------

_ORACLE = re.compile(r"not bozo and entries\[0\]((?:\[[^\]]+\])+) == (.+)$")
_FIELDS = {"['link']": "url", "['links'][0]['href']": "url", "['summary']": "summary",
           "['description']": "summary", "['content'][0]['value']": "summary"}
_INJECTED_LINK = {"entry": '<entry><link rel="alternate" href="http://inject.example/x"/>',
                  "item": "<item><link>http://inject.example/x</link>"}


def _base_cases():
    for path in sorted((FEEDPARSER / "wellformed" / "base").glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        match = _ORACLE.search(comment_field(text, "Expect") or "")
        if match and match.group(1) in _FIELDS:
            yield pytest.param(path.name, _FIELDS[match.group(1)], ast.literal_eval(match.group(2)), id=path.name)


BASE_CASES = list(_base_cases())


def test_parse_feed_base_oracles_found():
    assert len(BASE_CASES) >= 25
    assert {field for _, field, _ in (case.values for case in BASE_CASES)} == {"url", "summary"}


@pytest.mark.parametrize(("name", "field", "expected"), BASE_CASES)
def test_parse_feed_resolves_relative_uris(name, field, expected):
    """Links and links inside summaries resolve against the Content-Location (here: the URL passed) or
    the document URI, as each file's Expect line says."""
    text = (FEEDPARSER / "wellformed" / "base" / name).read_text(encoding="utf-8")
    location = comment_field(text, "Header")
    url = location.split(":", 1)[1].strip() if location else DOC_URI + name
    if field == "summary":
        # parse_feed skips entries without a link; give the entry an absolute one
        text = re.sub(r"<(entry|item)>", lambda m: _INJECTED_LINK[m.group(1)], text, count=1)
    _, entries = parse_feed(text.encode("utf-8"), url)
    assert getattr(entries[0], field) == expected


@pytest.mark.parametrize(
    "name",
    ["entry_summary_xml_base.xml", "entry_summary_xml_base_inherit.xml", "entry_summary_xml_base_inherit_2.xml",
     "entry_content_xml_base.xml", "entry_content_xml_base_inherit.xml", "entry_content_xml_base_inherit_2.xml"],
)
def test_parse_feed_resolves_against_xml_base(name):
    # Expect: ...['base'] == 'http://example.com/test/': the relative href="test.html" resolves against it
    text = (FEEDPARSER / "wellformed" / "base" / name).read_text(encoding="utf-8")
    base = ast.literal_eval(comment_field(text, "Expect").split("==")[1].strip())
    text = text.replace("<entry>", _INJECTED_LINK["entry"], 1)
    _, entries = parse_feed(text.encode("utf-8"), "http://elsewhere.example/feed.xml")
    assert f'href="{base}test.html"' in entries[0].summary
    assert "elsewhere.example" not in entries[0].summary


def test_parse_feed_relative_item_link_resolves_against_feed_url():
    body = (FEEDPARSER / "wellformed" / "base" / "http_item_link_base_docuri.xml").read_bytes()
    _, entries = parse_feed(body, "https://news.example/section/feed.xml")
    assert entries[0].url == "https://news.example/relative/uri"


# -- parse_sitemap -----------------------------------------------------------------------------------------

def test_parse_sitemap_google_news_fields():
    kind, entries = parse_sitemap((SITEMAPS / "extension" / "shinpaideshou-news-sitemap.xml").read_bytes())
    assert kind == "urlset"
    assert len(entries) == 3
    first = entries[0]
    assert first.url == "https://shinpaideshou.wordpress.com/2017/04/25/job-opening-reischauer-policy-research-fellow/"
    assert first.title == "Job Opening: Reischauer Policy Research Fellow"
    assert first.outlet == "What can I do with a B.A. in Japanese Studies?"
    assert first.lang == "en"
    assert first.published_at == datetime(2017, 4, 25, 10, 0, 36)
    assert first.keywords == ["political science", "policy", "research fellow", "Johns Hopkins"]
    assert entries[2].title == "Job Opening: Lecturer in Japanese Studies, University of Leeds"


def test_parse_sitemap_newspaper_count_and_lastmod_in_utc():
    body = (SITEMAPS / "extension" / "hebdenbridgetimes-articles-sitemap.xml").read_bytes()
    kind, entries = parse_sitemap(body)
    assert kind == "urlset"
    assert len(entries) == body.count(b"<url>") == 74
    # <lastmod>2015-05-03T18:51:50+01:00</lastmod>; the nested <image:loc> is not taken for the page
    assert entries[0].url == "http://www.hebdenbridgetimes.co.uk/news/local/video-tour-de-yorkshire-in-calderdale-1-7242580"
    assert entries[0].published_at == datetime(2015, 5, 3, 17, 51, 50)
    assert not any("webimage" in e.url for e in entries)
    assert all(e.title is None and e.keywords == [] for e in entries)


def test_parse_sitemap_spec_news_sitemap():
    kind, entries = parse_sitemap((SITEMAPS / "extension" / "sitemap-news.xml").read_bytes())
    assert (kind, len(entries)) == ("urlset", 2)
    assert entries[0].title == "Companies A, B in Merger Talks"
    assert entries[0].outlet == "The Example Times"
    assert entries[0].keywords == ["business", "merger", "acquisition", "A", "B"]


def test_parse_sitemap_index():
    kind, entries = parse_sitemap((TRAFILATURA / "sitemap2.xml").read_bytes())
    assert kind == "index"
    assert [e.url for e in entries] == ["http://www.example.com/sitemap1.xml.gz", "http://www.example.com/sitemap2.xml.gz"]
    assert entries[0].published_at == datetime(2004, 10, 1, 18, 23, 17)


@pytest.mark.parametrize("name", ["sitemap.ns.xml", "sitemap.badns.xml"])
def test_parse_sitemap_prefixed_or_wrong_namespace(name):
    kind, entries = parse_sitemap((SITEMAPS / name).read_bytes())
    assert kind == "urlset"
    assert [e.url for e in entries] == ["http://www.example.com/1", "http://www.example.com/2"]  # <loc> text is stripped


def test_parse_sitemap_with_utf8_bom():
    body = (SITEMAPS / "extension" / "sitemap-news.xml").read_bytes()
    assert not body.startswith(b"\xef\xbb\xbf")
    kind, entries = parse_sitemap(b"\xef\xbb\xbf\r\n" + body)
    assert (kind, len(entries)) == ("urlset", 2)
    assert entries[1].url == parse_sitemap(body)[1][1].url


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((SITEMAPS / "sitemap-with-bom.txt").read_bytes(), "empty document"),  # a plain-text sitemap (with BOM)
        ((SITEMAPS / "atom.xml").read_bytes(), "root element is <feed>"),
        (b"", "not a readable sitemap"),
        (b"\x00\x01garbage\xff<<<", "not a"),
        (b"<html><body><p>Not Found</p></body></html>", "root element is <html>"),
    ],
    ids=["text-sitemap", "atom", "empty", "binary", "html"],
)
def test_parse_sitemap_garbage_raises(body, message):
    with pytest.raises(FeedError, match=message):
        parse_sitemap(body)


def test_parse_sitemap_trafilatura_plain_and_gzip_agree():
    plain_kind, plain = parse_sitemap((TRAFILATURA / "sitemap.xml").read_bytes())
    gz_kind, unzipped = parse_sitemap(gzip.decompress((TRAFILATURA / "sitemap.xml.gz").read_bytes()))
    assert plain_kind == gz_kind == "urlset"
    assert len(plain) == 84
    assert [e.url for e in unzipped] == [e.url for e in plain]
    assert plain[0].url == "https://www.sitemaps.org/"
    assert plain[0].published_at == datetime(2016, 11, 21)


# -- parse_gdelt_artlist -----------------------------------------------------------------------------------

GDELT_BODY = json.dumps({"articles": [
    {"url": "https://www.example.com/tech/seedance-2-launch", "url_mobile": "",
     "title": "ByteDance unveils Seedance 2.0 video model", "seendate": "20260214T083000Z",
     "socialimage": "https://www.example.com/img.jpg", "domain": "example.com", "language": "English",
     "sourcecountry": "United States"},
    {"url": "https://www.example.cn/ai/jimeng", "url_mobile": "https://m.example.cn/ai/jimeng",
     "title": "即梦 Seedance 2.0", "seendate": "20260213T230000Z", "socialimage": "",
     "domain": "example.cn", "language": "Chinese", "sourcecountry": "China"},
    {"url": "https://www.example.se/seedance", "title": "Seedance", "seendate": "20260212T120000Z",
     "domain": "example.se", "language": "Swedish", "sourcecountry": "Sweden"},
    {"url": "", "title": "no url"},
    "not an object",
]}).encode()


def test_parse_gdelt_artlist_documented_shape():
    entries = parse_gdelt_artlist(GDELT_BODY)
    assert [e.url for e in entries] == ["https://www.example.com/tech/seedance-2-launch",
                                        "https://www.example.cn/ai/jimeng", "https://www.example.se/seedance"]
    first = entries[0]
    assert first.title == "ByteDance unveils Seedance 2.0 video model"
    assert first.outlet == "example.com"
    assert to_utc(first.seen_at) == datetime(2026, 2, 14, 8, 30)
    assert first.published_at is None  # when GDELT saw it, not when it was published


def test_parse_gdelt_artlist_language_mapping():
    assert [e.lang for e in parse_gdelt_artlist(GDELT_BODY)] == ["en", "zh", None]  # Swedish is not mapped


@pytest.mark.parametrize("body", [b"{}", b"", b"  \n", b'{"articles": []}', b'{"articles": null}'])
def test_parse_gdelt_artlist_empty_result(body):
    assert parse_gdelt_artlist(body) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"Your search contained a phrase that was too short or too common. Please revise.", "did not return JSON"),
        (b"Invalid query: the query must contain at least one keyword.\n", "did not return JSON"),
        (b'[{"url": "https://a.example/"}]', "returned list"),
    ],
)
def test_parse_gdelt_artlist_error_body_raises(body, message):
    with pytest.raises(FeedError, match=message):
        parse_gdelt_artlist(body)
