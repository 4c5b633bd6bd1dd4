"""Tests for crawler.parsers.newslinks: publisher URLs behind Google News and Bing News links."""

import json
from urllib.parse import parse_qs

import pytest

from crawler.parsers.newslinks import (
    GOOGLE_BATCHEXECUTE_URL,
    decode_bing_news_url,
    decode_google_news_url,
    encode_google_news_url,
    google_batchexecute_body,
    google_news_article_id,
    google_news_page_url,
    parse_google_batchexecute_response,
    parse_google_news_page,
    publisher_url,
)

# Real old-format links with their publisher URLs.
# BBC: example in SSujitX/google-news-url-decoder, decode_google_news_url.py (1-byte length,
# followed by a second field holding the AMP URL).
BBC_LINK = (
    "https://news.google.com/rss/articles/CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhk"
    "djE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA?oc=5"
)
BBC_URL = "https://www.bbc.com/news/articles/cjjjnxdv188o"
# Lenta / YouTube: NewsAPI "google-news" items in andrewfromtver/news_ag, app-data/news_ru.js.
LENTA_LINK = (
    "https://news.google.com/__i/rss/rd/articles/CBMiK2h0dHBzOi8vbGVudGEucnUvbmV3cy8yMDIxLzA1LzE0L2N6"
    "ZWNoX21mYS_SATFodHRwczovL20ubGVudGEucnUvbmV3cy8yMDIxLzA1LzE0L2N6ZWNoX21mYS9hbXAv?oc=5"
)
LENTA_URL = "https://lenta.ru/news/2021/05/14/czech_mfa/"
YOUTUBE_LINK = (
    "https://news.google.com/__i/rss/rd/articles/"
    "CBMiK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9WHA4TDN2Ykp5MHfSAQA?oc=5"
)
YOUTUBE_URL = "https://www.youtube.com/watch?v=Xp8L3vbJy0w"
# dynamo.kiev.ua: a public jest test asserting this link resolves to this URL (140-byte URL,
# so a 2-byte varint length).
DYNAMO_LINK = (
    "https://news.google.com/rss/articles/CBMijAFodHRwczovL2R5bmFtby5raWV2LnVhL3VrL25ld3MvNDQzNTE0LXpo"
    "dXJuYWxpc3QteWFybW9sZW5rby1pLXJlYnJvdi12ZWR1dC1wZXJlaG92b3J5LXNoY2hvZG8tZG9zdHJva292b2hvLXJvemly"
    "dmFubmlhLWtvbnRyYWt0aXYtei1hbC1haW5vbdIBAA"
)
DYNAMO_URL = (
    "https://dynamo.kiev.ua/uk/news/443514-zhurnalist-yarmolenko-i-rebrov-vedut-perehovory-"
    "shchodo-dostrokovoho-rozirvannia-kontraktiv-z-al-ainom"
)
# New opaque ids ("AU_yqL..." inside): examples in SSujitX/google-news-url-decoder,
# googlenewsdecoder/new_decoderv1.py (1-byte and 2-byte length).
NEW_FORMAT_LINKS = [
    "https://news.google.com/rss/articles/CBMiVkFVX3lxTE4zaGU2bTY2ZGkzdTRkSkJ0cFpsTGlDUjkxU2FBRURaTWU0"
    "c3QzVWZ1MHZZNkZ5Vzk1ZVBnTDFHY2R6ZmdCUkpUTUJsS1pqQTlCRzlzbHV3?oc=5",
    "https://news.google.com/rss/articles/CBMiqwFBVV95cUxNMTRqdUZpNl9hQldXbGo2YVVLOGFQdkFLYldlMUxUVlNE"
    "aElsYjRRODVUMkF3R1RYdWxvT1NoVzdUYS0xSHg3eVdpTjdVODQ5cVJJLWt4dk9vZFBScVp2ZmpzQXZZRy1ncDM5c2tRbXBV"
    "VHVrQnpmMGVrQXNkQVItV3h4dVQ1V1BTbjhnM3k2ZUdPdnhVOFk1NmllNTZkdGJTbW9NX0k5U3E2Tkk?oc=5",
]
BING_LINK = (
    "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=6aa82acf439047288f023edceb8b9cef"
    "&url=https%3a%2f%2fwww.theverge.com%2fai%2f123%2fopenai-model%3futm_source%3dbing"
    "&c=18124483902249883319&mkt=en-us"
)


@pytest.mark.parametrize(
    ("link", "expected"),
    [(BBC_LINK, BBC_URL), (LENTA_LINK, LENTA_URL), (YOUTUBE_LINK, YOUTUBE_URL), (DYNAMO_LINK, DYNAMO_URL)],
)
def test_decode_google_news_url_real_old_format_links(link, expected):
    assert decode_google_news_url(link) == expected


@pytest.mark.parametrize(("link", "expected"), [(YOUTUBE_LINK, YOUTUBE_URL), (DYNAMO_LINK, DYNAMO_URL)])
def test_encode_google_news_url_reproduces_real_google_ids(link, expected):
    assert google_news_article_id(encode_google_news_url(expected)) == google_news_article_id(link)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a",
        "https://www.example.org/news/2024/01/02/story.html?id=7&page=2",
        "https://lenta.ru/news/2021/05/14/caf\u00e9-\u0447\u0435\u0445\u0438\u044f/",
        "https://b\u00fccher.de/\u65b0\u95fb?q=\u00fc",
        "https://example.com/" + "long-path-segment/" * 20,  # > 127 bytes: 2-byte varint
        "https://example.com/" + "x" * 20000,  # 3-byte varint
    ],
)
def test_encode_google_news_url_round_trips(url):
    link = encode_google_news_url(url)
    assert link.startswith("https://news.google.com/rss/articles/CBMi")
    assert link.endswith("?oc=5")
    assert "=" not in google_news_article_id(link)
    assert decode_google_news_url(link) == url


@pytest.mark.parametrize("link", NEW_FORMAT_LINKS)
def test_decode_google_news_url_new_format_returns_none(link):
    assert google_news_article_id(link) is not None
    assert decode_google_news_url(link) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/rss/articles/CBMiK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9WHA4TDN2Ykp5MHfSAQA",
        "https://news.google.com/rss/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx1YlY4U0FtVnVHZ0pWVXlnQVAB",
        "https://news.google.com/rss/articles/%%%not-base64",
        "https://news.google.com/rss/articles/CBMi",
        "https://news.google.com/rss/articles/CBMi_wFodHRw",  # length beyond the data
        "https://news.google.com/",
        "not a url",
        "http://[broken/articles/CBMiXYZ",
    ],
)
def test_decode_google_news_url_rejects_other_links(url):
    assert decode_google_news_url(url) is None
    assert publisher_url(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.google.com/rss/articles/CBMiXYZ?oc=5", "CBMiXYZ"),
        ("https://news.google.com/articles/CBMiXYZ?hl=en-US&gl=US&ceid=US%3Aen", "CBMiXYZ"),
        ("https://news.google.com/read/CBMiXYZ", "CBMiXYZ"),
        ("https://news.google.com./articles/CBMiXYZ", "CBMiXYZ"),
        ("https://news.google.com/rss/articles/", None),
        ("https://news.google.com/rss/search?q=x", None),
        ("https://google.com/articles/CBMiXYZ", None),
    ],
)
def test_google_news_article_id_extracts_id(url, expected):
    assert google_news_article_id(url) == expected


def test_google_news_page_url_uses_rss_article_page():
    assert google_news_page_url("CBMiXYZ") == (
        "https://news.google.com/rss/articles/CBMiXYZ?hl=en-US&gl=US&ceid=US:en"
    )


GOOGLE_NEWS_PAGE = """<!doctype html><html lang="en-US"><head><title>Google News</title></head>
<body><c-wiz jsrenderer="qJgbSe" class="DiBGNd" jsdata="deferred-i1" data-p="%.@.]" jsmodel="hc6Ubd">
<div jscontroller="aLI87" jsaction="rcuQ6b:npT2md" data-n-a-id="CBMiVkFVX3lxTE4z"
 data-n-a-sg="AZ5r3eT0h7u9c-Q_kQ1zZx0K8Gq7A1PLvgm" data-n-a-ts="1727359124"
 data-n-au="https://news.google.com/rss/articles/CBMiVkFVX3lxTE4z"></div></c-wiz>
<c-wiz><div jscontroller="other"></div></c-wiz></body></html>"""


@pytest.mark.parametrize("html", [GOOGLE_NEWS_PAGE, GOOGLE_NEWS_PAGE.encode("utf-8")])
def test_parse_google_news_page_reads_signature_and_timestamp(html):
    assert parse_google_news_page(html) == ("AZ5r3eT0h7u9c-Q_kQ1zZx0K8Gq7A1PLvgm", "1727359124")


@pytest.mark.parametrize(
    "html",
    [
        "<html><body>Before you continue to Google</body></html>",
        '<div data-n-a-sg="S" data-n-a-ts="1"></div>',  # not inside c-wiz
        '<c-wiz><div jscontroller="x" data-n-a-sg="S"></div></c-wiz>',  # timestamp missing
    ],
)
def test_parse_google_news_page_missing_attributes_returns_none(html):
    assert parse_google_news_page(html) is None


def test_google_batchexecute_body_encodes_garturlreq():
    body = google_batchexecute_body("CBMiXYZ", "1727359124", "AZ5r&3=")
    assert GOOGLE_BATCHEXECUTE_URL == "https://news.google.com/_/DotsSplashUi/data/batchexecute"
    form = parse_qs(body, strict_parsing=True)
    assert list(form) == ["f.req"]
    [[envelope]] = json.loads(form["f.req"][0])
    assert envelope[0] == "Fbv4je" and envelope[3] == "generic"
    request = json.loads(envelope[1])
    assert request[0] == "garturlreq"
    assert request[1][0][7] == "US:en"
    assert request[2:] == ["CBMiXYZ", 1727359124, "AZ5r&3="]


def _rpc_row(url):
    payload = json.dumps(["garturlres", url, 1], separators=(",", ":"))
    return ["wrb.fr", "Fbv4je", payload, None, None, None, "generic"]


def _chunked(*rows):
    lines = [")]}'", ""]
    for row in rows:
        chunk = json.dumps(row, separators=(",", ":"))
        lines += [str(len(chunk)), chunk]
    return "\n".join(lines) + "\n"


PUBLISHER = "https://www.example-news.com/2024/09/26/story.html?id=5"
BATCHEXECUTE_RESPONSES = [
    # plain form: )]}' then one JSON array of rows
    ")]}'\n\n" + json.dumps([_rpc_row(PUBLISHER), ["di", 23], ["af.httprm", 22, "-1234", 5]]),
    # chunked form (rt=c): length line before each JSON chunk
    _chunked([_rpc_row(PUBLISHER)], [["di", 25], ["af.httprm", 25, "-4567", 5]]),
    # extra nesting level seen in some clients
    ")]}'\n\n" + json.dumps([[_rpc_row(PUBLISHER)]]),
]


@pytest.mark.parametrize("text", BATCHEXECUTE_RESPONSES)
def test_parse_google_batchexecute_response_extracts_url(text):
    assert parse_google_batchexecute_response(text) == PUBLISHER


@pytest.mark.parametrize(
    "text",
    [
        "",
        ")]}'\n\n" + json.dumps([["wrb.fr", "Fbv4je", None, None, None, [3], "generic"], ["di", 10]]),
        ")]}'\n\n" + json.dumps([["wrb.fr", "Other", json.dumps(["otherres", "https://x.example/"])]]),
        "<html>429 Too Many Requests</html>",
    ],
)
def test_parse_google_batchexecute_response_without_url_returns_none(text):
    assert parse_google_batchexecute_response(text) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (BING_LINK, "https://www.theverge.com/ai/123/openai-model?utm_source=bing"),
        ("https://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1"
         "&url=https%3a%2f%2fwww.lequipe.fr%2fFootball%2fom-psg&c=1&mkt=fr-fr",
         "https://www.lequipe.fr/Football/om-psg"),
        ("http://www.bing.com/news/apiclick.aspx?url=javascript%3Aalert(1)", None),
        ("http://www.bing.com/news/apiclick.aspx?ref=FexRss", None),
        ("http://www.bing.com/search?url=https%3a%2f%2fexample.com%2f", None),
        ("http://notbing.com/news/apiclick.aspx?url=https%3a%2f%2fexample.com%2f", None),
    ],
)
def test_decode_bing_news_url_extracts_publisher(url, expected):
    assert decode_bing_news_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (BING_LINK, "https://www.theverge.com/ai/123/openai-model?utm_source=bing"),
        (BBC_LINK, BBC_URL),
        (NEW_FORMAT_LINKS[0], NEW_FORMAT_LINKS[0]),
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ],
)
def test_publisher_url_decodes_known_wrappers_else_unchanged(url, expected):
    assert publisher_url(url) == expected
