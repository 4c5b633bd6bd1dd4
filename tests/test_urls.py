"""Tests for crawler.text.urls: canonical URLs, document ids and URL predicates."""

import re

import pytest

from crawler.text.urls import (
    canonicalize_url,
    document_id,
    is_http_url,
    platform_document_id,
    url_domain,
)

GOOGLE_NEWS_LINK = (
    "https://news.google.com/rss/articles/"
    "CBMiK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9WHA4TDN2Ykp5MHfSAQA?oc=5"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters go, the others keep their original order
        ("https://example.com/a?utm_source=rss&b=2&a=1&utm_medium=feed",
         "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?z=9&fbclid=IwAR0x&y=8&gclid=abc",
         "https://example.com/a?z=9&y=8"),
        ("https://example.com/a?UTM_Source=x&Utm_Campaign=y&FBCLID=z&id=3",
         "https://example.com/a?id=3"),
        ("https://example.com/a?ref=tw&ref_src=twsrc&id=1&smid=nytcore&_ga=2.1",
         "https://example.com/a?id=1"),
        ("https://example.com/a?guccounter=1&guce_referrer=aHR0&guce_referrer_sig=AQ&q=x",
         "https://example.com/a?q=x"),
        ("https://example.com/a?utm_source=x", "https://example.com/a"),
        ("https://example.com/a?a=1&a=2&utm_term=t", "https://example.com/a?a=1&a=2"),
        ("https://example.com/a?a=1&&b=2", "https://example.com/a?a=1&b=2"),
        # fragments and empty query
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?x=1#", "https://example.com/a?x=1"),
        ("https://example.com/a?", "https://example.com/a"),
        # default ports go, other ports stay
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a/", "https://example.com/a/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        # case: scheme and host lowered, path kept
        ("HTTPS://WWW.Example.COM/Path/To", "https://www.example.com/Path/To"),
        # http vs https and trailing slash are preserved
        ("http://example.com/news/", "http://example.com/news/"),
        ("https://example.com/news", "https://example.com/news"),
        # whitespace and percent-encoding
        ("  https://example.com/a b\n", "https://example.com/a%20b"),
        ("https://example.com/caf\u00e9?q=\u00e9t\u00e9", "https://example.com/caf%C3%A9?q=%C3%A9t%C3%A9"),
        ("https://b\u00fccher.de/x", "https://xn--bcher-kva.de/x"),
        # Google's own links stay intact (oc=5 is not tracking, id case kept)
        (GOOGLE_NEWS_LINK, GOOGLE_NEWS_LINK),
    ],
)
def test_canonicalize_url_normalises(url, expected):
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/b/c?utm_source=x&id=2", "https://Example.com/a/index.html", "https://example.com/b/c?id=2"),
        ("c.html#top", "https://example.com/a/b/", "https://example.com/a/b/c.html"),
        ("//cdn.example.com/x", "http://example.com/", "http://cdn.example.com/x"),
        ("https://other.org/x", "https://example.com/", "https://other.org/x"),
    ],
)
def test_canonicalize_url_resolves_relative_to_base(url, base, expected):
    assert canonicalize_url(url, base=base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://WWW.Example.COM:80/a/b/?utm_source=x&b=2&a=1&FBCLID=3#frag",
        "https://example.com/caf\u00e9 cr\u00e8me?q=a b&r=%7e",
        "https://b\u00fccher.de:443/?",
        GOOGLE_NEWS_LINK,
    ],
)
def test_canonicalize_url_is_idempotent(url):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_document_id_is_16_hex_chars():
    assert re.fullmatch(r"[0-9a-f]{16}", document_id("https://example.com/a"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.com/a?x=1&y=2", "https://example.com/a?y=2&x=1"),
        ("https://example.com/a?x=1", "https://example.com/a?utm_source=tw&x=1&fbclid=abc"),
        ("https://example.com/a", "HTTPS://EXAMPLE.com:443/a#comments"),
        ("https://example.com/a", "https://example.com/a?utm_campaign=spring"),
    ],
)
def test_document_id_same_for_equivalent_urls(first, second):
    assert document_id(first) == document_id(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.com/a", "https://example.com/b"),
        ("https://example.com/a", "https://example.com/A"),
        ("https://example.com/a?id=1", "https://example.com/a?id=2"),
        ("https://example.com/a", "https://example.org/a"),
    ],
)
def test_document_id_differs_for_different_documents(first, second):
    assert document_id(first) != document_id(second)


def test_platform_document_id_is_sha256_prefix_of_platform_and_id():
    # printf 'reddit:t3_abc' | sha256sum | cut -c1-16
    assert platform_document_id("reddit", "t3_abc") == "05d92e7569a9e1ca"
    assert platform_document_id("reddit", "t3_abc") != platform_document_id("mastodon", "t3_abc")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.bbc.co.uk/news/x", "bbc.co.uk"),
        ("https://news.bbc.co.uk/x", "news.bbc.co.uk"),
        ("HTTP://WWW.Example.COM:8080/", "example.com"),
        ("https://example.com/www.other.com", "example.com"),
        ("https://www2.example.com/", "www2.example.com"),
        ("https://b\u00fccher.de/", "xn--bcher-kva.de"),
    ],
)
def test_url_domain_returns_host_without_www(url, expected):
    assert url_domain(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com", True),
        (" http://example.com/ ", True),
        ("ftp://example.com/a", False),
        ("mailto:someone@example.com", False),
        ("/relative/path", False),
        ("https://", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_is_http_url_accepts_only_absolute_http(url, expected):
    assert is_http_url(url) is expected


@pytest.mark.parametrize("url", ["http://[broken/x", "https://example.com:99999/"])
def test_canonicalize_url_rejects_malformed_urls(url):
    with pytest.raises(ValueError):
        canonicalize_url(url)
