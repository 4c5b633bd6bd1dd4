"""News sitemaps (kind ``sitemap``): sitemap indexes, url sets and their Google News fields, gzip or not.

Outlets list every recent article in their sitemaps, so by default only entries whose news title or
keywords name the topic are fetched (``follow = "matching"``); ``follow = "all"`` fetches every page.
"""

from __future__ import annotations

from datetime import datetime

from scrapy.http import Response
from scrapy.utils.gz import gunzip

from crawler.parsers.feeds import FeedError, parse_sitemap
from crawler.spiders.base import TopicSpider

MAX_DEPTH = 2


class SitemapSpider(TopicSpider):
    name = "sitemap"
    kind = "sitemap"
    default_follow = "matching"

    async def start(self):
        for url in self.source_urls():
            yield self.source_request(url, self.parse_sitemap, cb_kwargs={"depth": 0})

    def parse_sitemap(self, response: Response, depth: int):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except OSError as exc:
                self.record_error(response.url, f"bad gzip sitemap: {exc}")
                return
        try:
            kind, entries = parse_sitemap(body)
        except FeedError as exc:
            self.record_error(response.url, str(exc))
            return
        if kind == "index":
            response.meta["conditional_save"] = False  # read in full each run: its children change, it may not
            if depth >= MAX_DEPTH:
                self.record_error(response.url, f"sitemap index nested deeper than {MAX_DEPTH}")
                return
            newest_first = sorted(entries, key=lambda e: e.published_at or datetime.min, reverse=True)
            for entry in newest_first[: self.max_entries]:
                yield self.source_request(response.urljoin(entry.url), self.parse_sitemap, cb_kwargs={"depth": depth + 1})
            return
        for entry in entries[: self.max_entries]:
            request = self.follow_entry(entry, response.url)
            if request is not None:
                yield request
