"""Stage 2: drop documents the database or this crawl already has (same canonical URL or platform id).

A dropped duplicate reached through a new link (a redirect, a rel=canonical) still has that link
recorded in ``url_aliases``, so it is not fetched again (written by the store's writer thread). A social post
seen again brings its engagement now: those snapshots are written in batches by the store's writer thread.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy.exceptions import DropItem

from crawler.distributed.stream import output_for
from crawler.extensions.crawlstate import KnownDocuments
from crawler.items import Document
from crawler.storage.writer import writer_thread
from pipelines.store import engagement_row


logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.known: KnownDocuments | None = None
        self.batch_size = crawler.settings.getint("STORE_BATCH_SIZE")
        self.snapshots: list[dict] = []  # engagement rows of dropped duplicates, written in batches
        self.aliases: list[dict] = []  # new links to known pages, written with them
        self._writes: set[asyncio.Future] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.database = output_for(self.crawler.settings)  # or the item stream of a worker
        self.known = KnownDocuments.for_crawler(self.crawler)

    def process_item(self, item: Document) -> Document:
        if not self.known.add(item.id, page_read=item.html is not None):
            self.stats.inc_value("dedup/dropped")
            # a new link to a known page: remember it, so it is not fetched again
            self.aliases.extend({**alias, "doc_id": item.id} for alias in item.aliases)
            for alias in item.aliases:
                self.known.add(alias["alias_id"])
            if (snapshot := engagement_row(item)) is not None:
                self.snapshots.append(snapshot)
            if len(self.snapshots) + len(self.aliases) >= self.batch_size:
                self.flush_snapshots()
            raise DropItem(f"duplicate: {item.url}")
        return item

    def flush_snapshots(self) -> None:
        """Hand the buffered snapshots and aliases to the process's writer thread, in one write."""
        rows, self.snapshots = self.snapshots, []
        aliases, self.aliases = self.aliases, []
        if rows or aliases:
            self.stats.inc_value("dedup/engagement", len(rows))
            write = asyncio.get_running_loop().run_in_executor(
                writer_thread(), lambda: self.database.store(aliases=aliases, engagement=rows))
            self._writes.add(write)
            write.add_done_callback(self._written)

    def _written(self, write: asyncio.Future) -> None:
        self._writes.discard(write)
        if not write.cancelled() and write.exception() is not None:  # the links are fetched again next crawl
            logger.error("could not record aliases and engagement of duplicates: %s", write.exception())

    async def close_spider(self) -> None:
        self.flush_snapshots()
        await asyncio.gather(*list(self._writes))
