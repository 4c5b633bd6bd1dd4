"""News search feeds (kind ``news_search``): Google News and Bing News RSS, one request per topic query.

Their item links point at the aggregator, not the publisher. Bing's carry the publisher URL in a
parameter, and Google's older links carry it inside their base64 id: both are decoded offline. Google's
newer opaque ids are resolved as Google's own page does, through two requests made by Scrapy: the
article page (for a signature and timestamp), then the ``batchexecute`` endpoint that returns the URL.
"""

from __future__ import annotations

from typing import Any, Iterator

import scrapy
from scrapy.http import Response

from crawler.parsers.feeds import Entry
from crawler.parsers.newslinks import (
    GOOGLE_BATCHEXECUTE_HEADERS,
    GOOGLE_BATCHEXECUTE_URL,
    decode_google_news_url,
    google_batchexecute_body,
    google_news_article_id,
    google_news_page_url,
    parse_google_batchexecute_response,
    parse_google_news_page,
    publisher_url,
)
from crawler.spiders.base import FEED_META, describe_failure
from crawler.text.urls import canonicalize_url, document_id
from crawler.spiders.feed import FeedSpider


def strip_outlet(title: str | None, outlet: str | None) -> str | None:
    """Google News titles end with " - Outlet"; the headline is the part before it."""
    if title and outlet and title.endswith(f" - {outlet}"):
        return title[: -len(outlet) - 3].rstrip()
    return title


class NewsSearchSpider(FeedSpider):
    """Source option ``google_base`` (default https://news.google.com) points the link decoding at a mirror."""

    name = "news_search"
    kind = "news_search"

    def google_url(self, url: str) -> str:
        base = self.source.options.get("google_base")
        return url.replace("https://news.google.com", base.rstrip("/"), 1) if base else url

    def entry_requests(self, entry: Entry, found_via: str) -> Iterator[Any]:
        entry.title = strip_outlet(entry.title, entry.outlet)
        entry.aggregator_url = entry.url
        article_id = google_news_article_id(entry.url)
        if article_id and decode_google_news_url(entry.url) is None:
            if not self.known.claim(document_id(canonicalize_url(entry.url))):
                self.crawler.stats.inc_value("dedup/skipped_fetch")  # resolved in an earlier crawl
                return
            self.crawler.stats.inc_value("news_search/google_lookups")
            yield scrapy.Request(
                self.google_url(google_news_page_url(article_id)), callback=self.parse_google_page,
                errback=self.lookup_failed, meta=dict(FEED_META),
                cb_kwargs={"entry": entry, "article_id": article_id, "found_via": found_via},
            )
            return
        entry.url = publisher_url(entry.url)
        yield from super().entry_requests(entry, found_via)

    def lookup_failed(self, failure):
        """Google did not resolve the link: keep the entry's title and summary under Google's link."""
        self.record_error(failure.request.url, f"Google News lookup failed: {describe_failure(failure)}")
        kwargs = failure.request.cb_kwargs
        yield self.entry_document(kwargs["entry"], kwargs["found_via"])

    def parse_google_page(self, response: Response, entry: Entry, article_id: str, found_via: str):
        params = parse_google_news_page(response.body)
        if params is None:
            self.record_error(response.url, "Google News page without a decoding signature")
            yield self.entry_document(entry, found_via)
            return
        signature, timestamp = params
        yield scrapy.Request(
            self.google_url(GOOGLE_BATCHEXECUTE_URL), method="POST", headers=GOOGLE_BATCHEXECUTE_HEADERS,
            body=google_batchexecute_body(article_id, timestamp, signature), dont_filter=True,
            callback=self.parse_batchexecute, errback=self.lookup_failed, meta=dict(FEED_META),
            cb_kwargs={"entry": entry, "found_via": found_via},
        )

    def parse_batchexecute(self, response: Response, entry: Entry, found_via: str):
        url = parse_google_batchexecute_response(response.text)
        if url is None:
            self.record_error(entry.url, "Google News did not return the publisher URL")
            yield self.entry_document(entry, found_via)
            return
        entry.url = url
        yield from super().entry_requests(entry, found_via)
