"""Stage 1: validate and normalise a Document: canonical URL and id, UTC dates, clean title and summary."""

from __future__ import annotations

import re
from datetime import timedelta

from scrapy.exceptions import DropItem
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

from crawler.text.dates import to_utc, utc_now
from crawler.items import KINDS, Document
from crawler.text.urls import canonicalize_url, document_id, is_http_url, url_domain

_SPACE = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Plain text from a feed field that may hold HTML and entities, whitespace folded; None when empty."""
    if not value:
        return None
    markup_free = remove_tags(remove_tags_with_content(value, which_ones=("script", "style")))
    text = _SPACE.sub(" ", replace_entities(markup_free)).strip()
    return text or None


class ValidatePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Document) -> Document:
        if not isinstance(item, Document):
            raise DropItem(f"not a seedtrack Document: {type(item).__name__}")
        if not item.url or not is_http_url(item.url):
            self.stats.inc_value("validate/invalid")
            raise DropItem(f"document without an http(s) URL: {item.url!r}")
        if item.kind not in KINDS:
            self.stats.inc_value("validate/invalid")
            raise DropItem(f"unknown document kind {item.kind!r} for {item.url}")
        try:
            item.url = canonicalize_url(item.url)
        except ValueError as exc:  # e.g. a port above 65535, which is_http_url does not check
            self.stats.inc_value("validate/invalid")
            raise DropItem(f"malformed URL {item.url!r}: {exc}") from None
        item.id = item.id or document_id(item.url)
        item.aliases = [
            {"alias_id": alias_id, "url": link}
            for link in dict.fromkeys(item.links)
            if is_http_url(link) and (alias_id := document_id(link)) != item.id
        ]
        item.site = url_domain(item.url)
        if item.lang:  # a source's hint such as "en-us": the database stores ISO 639-1
            item.lang = item.lang.split("-")[0].split("_")[0].strip().lower() or None
        item.title = clean_text(item.title)
        item.summary = clean_text(item.summary)
        item.author = clean_text(item.author)
        item.fetched_at = to_utc(item.fetched_at) or utc_now()
        published = to_utc(item.published_at)
        if published is not None and published > item.fetched_at + timedelta(days=365):  # not replace(year=): 29 Feb
            published = None  # a date far in the future is a parsing accident, not a publication date
        item.published_at = published
        item.run_id = item.run_id or self.crawler.settings.get("SEEDTRACK_RUN_ID")
        self.stats.inc_value("validate/ok")
        return item
