"""Stage 2: drop documents the database or this crawl already has (same canonical URL or platform id)."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import Document
from crawler.known import KnownDocuments


class DedupPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.known: KnownDocuments | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.known = KnownDocuments.from_crawler(self.crawler)

    def process_item(self, item: Document) -> Document:
        if not self.known.add(item.id):
            self.stats.inc_value("dedup/dropped")
            raise DropItem(f"duplicate: {item.url}")
        return item
