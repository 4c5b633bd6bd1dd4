"""RSS 0.9x/1.0/2.0 and Atom feeds (kind ``feed``), parsed by feedparser from the downloaded body."""

from __future__ import annotations

from typing import Any, Iterator

from scrapy.http import Response

from crawler.parsers.feeds import Entry, FeedError, parse_feed
from crawler.spiders.base import TopicSpider


class FeedSpider(TopicSpider):
    name = "feed"
    kind = "feed"

    async def start(self):
        for url in self.source_urls():
            yield self.source_request(url, self.parse_feed_response)

    def parse_feed_response(self, response: Response) -> Iterator[Any]:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            _title, entries = parse_feed(response.body, response.url, content_type)
        except FeedError as exc:
            self.record_error(response.url, str(exc))
            return
        for entry in entries[: self.max_entries]:
            yield from self.entry_requests(entry, response.url)

    def entry_requests(self, entry: Entry, found_via: str) -> Iterator[Any]:
        request = self.follow_entry(entry, found_via)
        if request is not None:
            yield request
