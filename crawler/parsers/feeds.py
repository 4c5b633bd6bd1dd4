"""Pure parsers for what feed-like sources return: RSS/Atom (feedparser), news sitemaps, GDELT artlist JSON.

Each takes the body Scrapy downloaded (never a URL: all network I/O goes through Scrapy's downloader)
and returns ``Entry`` objects; malformed input raises ``FeedError`` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import feedparser
import lxml.etree

from crawler.text.dates import to_utc


class FeedError(ValueError):
    pass


@dataclass
class Entry:
    url: str
    title: str | None = None
    summary: str | None = None
    author: str | None = None
    published_at: Any = None
    seen_at: Any = None  # when an aggregator first saw it (GDELT): a date of last resort
    lang: str | None = None
    outlet: str | None = None  # the publisher named by an aggregator (Google News <source>, GDELT domain)
    aggregator_url: str | None = None  # the aggregator's own link (Google News, Bing) resolved into ``url``
    keywords: list[str] = field(default_factory=list)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> tuple[str | None, list[Entry]]:
    """The feed's title and entries. Relative links resolve against xml:base, then ``url``."""
    # Without a Content-Type feedparser flags any response as bozo ("no Content-type specified"), which made
    # a well-formed feed with no entries raise; application/xml applies the XML rules (BOM, declaration, UTF-8).
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    entries = []
    for item in parsed.entries:
        link = item.get("link") or _alternate_link(item)
        if not link:
            continue
        entries.append(
            Entry(
                url=link,
                title=item.get("title"),
                summary=item.get("summary") or _content(item),
                author=item.get("author"),
                published_at=item.get("published_parsed") or item.get("updated_parsed") or item.get("published"),
                lang=(item.get("language") or parsed.feed.get("language") or None),
                outlet=(item.get("source") or {}).get("title"),
                keywords=[tag.get("term") for tag in item.get("tags", []) if tag.get("term")],
            )
        )
    if parsed.bozo and not entries:
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception', 'unknown problem')}")
    return parsed.feed.get("title"), entries


def _alternate_link(item) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _content(item) -> str | None:
    contents = item.get("content") or []
    return contents[0].get("value") if contents else None


SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def parse_sitemap(body: bytes) -> tuple[str, list[Entry]]:
    """('index', child sitemaps) or ('urlset', pages), with Google News sitemap fields when present."""
    parser = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(body.lstrip(b"\xef\xbb\xbf \r\n\t"), parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise FeedError(f"not a readable sitemap: {exc}") from exc
    if root is None:
        raise FeedError("not a readable sitemap: empty document")
    kind = lxml.etree.QName(root).localname
    if kind not in ("sitemapindex", "urlset"):
        raise FeedError(f"not a sitemap: root element is <{kind}>")
    entries = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        loc = _child_text(node, "loc")
        if not loc:
            continue
        entry = Entry(url=loc, published_at=to_utc(_child_text(node, "lastmod")))
        news = next((child for child in node if isinstance(child.tag, str) and child.tag.startswith(NEWS_NS)), None)
        if news is not None:
            entry.title = _child_text(news, "title")
            entry.published_at = to_utc(_child_text(news, "publication_date")) or entry.published_at
            keywords = _child_text(news, "keywords")
            entry.keywords = [k.strip() for k in keywords.split(",") if k.strip()] if keywords else []
            publication = next((c for c in news if isinstance(c.tag, str) and c.tag.endswith("publication")), None)
            if publication is not None:
                entry.outlet = _child_text(publication, "name")
                entry.lang = _child_text(publication, "language")
        entries.append(entry)
    return ("index" if kind == "sitemapindex" else "urlset"), entries


def _child_text(node, localname: str) -> str | None:
    for child in node:
        if isinstance(child.tag, str) and lxml.etree.QName(child).localname == localname:
            return (child.text or "").strip() or None
    return None


GDELT_LANGUAGES = {"english": "en", "chinese": "zh", "japanese": "ja", "korean": "ko", "french": "fr",
                   "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt", "russian": "ru"}


def parse_gdelt_artlist(body: bytes) -> list[Entry]:
    """Entries of a GDELT DOC 2.0 ``mode=artlist&format=json`` response (an empty result is ``{}``)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # GDELT answers a bad query with a plain-text sentence and status 200
        raise FeedError(f"GDELT did not return JSON: {text[:200]!r}") from exc
    if not isinstance(data, dict):
        raise FeedError(f"GDELT returned {type(data).__name__}, expected an object")
    entries = []
    for article in data.get("articles") or []:
        if not isinstance(article, dict) or not article.get("url"):
            continue
        entries.append(
            Entry(
                url=article["url"],
                title=article.get("title"),
                seen_at=article.get("seendate"),
                lang=GDELT_LANGUAGES.get(str(article.get("language", "")).lower()),
                outlet=article.get("domain"),
            )
        )
    return entries
