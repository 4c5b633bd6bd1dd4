"""Stage 6: write documents, entities and filtered URLs to DuckDB in batches (one transaction a batch).

Rows are buffered and written when ``STORE_BATCH_SIZE`` are waiting, every ``STORE_FLUSH_SECONDS``, and
when the spider closes, by one writer thread, so the crawl goes on while a batch is written or waits
for the file lock. While the file is locked by another process rows stay buffered and are retried;
a batch the database refuses is written row by row, and each refused row is recorded in ``errors``.
Rows are never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from crawler.storage import Database, DatabaseError
from crawler.storage.writer import writer_thread
from crawler.text.dates import utc_now
from crawler.items import Document
from crawler.nlp.results import derived_rows, reception_columns

logger = logging.getLogger(__name__)


def document_row(item: Document) -> dict:
    return {
        "id": item.id, "url": item.url, "source": item.source, "source_kind": item.source_kind,
        "kind": item.kind, "title": item.title, "summary": item.summary, "text": item.text,
        "text_source": item.text_source, "author": item.author, "site": item.site,
        "published_at": item.published_at, "fetched_at": item.fetched_at, "lang": item.lang,
        "analysed": item.analysed, "relevance": item.relevance, "matched_terms": item.matched_terms,
        "word_count": item.word_count, "found_via": item.found_via, "run_id": item.run_id,
        "platform": item.platform, "platform_id": item.platform_id, "parent_id": item.parent_id,
        **reception_columns(item.reception),
    }


def engagement_row(item: Document) -> dict | None:
    """The item's engagement snapshot as an ``engagement`` row, or None when it has none."""
    if item.engagement is None:
        return None
    return {**item.engagement, "doc_id": item.id, "observed_at": item.fetched_at, "run_id": item.run_id}


class StorePipeline:
    def __init__(self, crawler, database: Database, batch_size: int, flush_seconds: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = database
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self._batch = Batch()
        self._timer: asyncio.TimerHandle | None = None
        self._writer = writer_thread()
        self._writes: set[asyncio.Future] = set()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(
            crawler, Database(settings["SEEDTRACK_DB"], keep_open=True),
            settings.getint("STORE_BATCH_SIZE"), settings.getfloat("STORE_FLUSH_SECONDS"),
        )

    def open_spider(self) -> None:
        self.database.migrate()

    def process_item(self, item: Document) -> Document:
        batch = self._batch
        batch.aliases.extend({**alias, "doc_id": item.id} for alias in item.aliases)
        if item.filtered_reason:
            batch.filtered.append(
                {"id": item.id, "url": item.url, "source": item.source, "reason": item.filtered_reason,
                 "seen_at": item.fetched_at, "run_id": item.run_id, "text_source": item.text_source}
            )
        else:
            batch.documents.append(document_row(item))
            batch.entities.extend({"doc_id": item.id, **entity} for entity in item.entities)
            frames, actors = derived_rows(item.id, item.reception)
            batch.frames.extend(frames)
            batch.actors.extend(actors)
            if (snapshot := engagement_row(item)) is not None:
                batch.engagement.append(snapshot)
        if len(batch) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
        return item

    def flush(self) -> None:
        """Hand the buffered rows to the writer thread."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not len(self._batch):
            return
        batch, self._batch = self._batch, Batch()
        future = asyncio.get_running_loop().run_in_executor(self._writer, self._write, batch)
        self._writes.add(future)
        future.add_done_callback(lambda done: self._written(batch, done))

    def _write(self, batch: "Batch") -> tuple[set[str], int]:
        """In the writer thread: (new ids, rows refused)."""
        try:
            return self.database.store(**batch.tables()), 0
        except DatabaseError as exc:
            if exc.retryable:
                raise
            return self._store_one_by_one(batch)

    def _written(self, batch: "Batch", done: asyncio.Future) -> None:
        self._writes.discard(done)
        if done.cancelled():
            return
        if (exc := done.exception()) is not None:
            self.stats.inc_value("store/write_errors")
            logger.error("could not write %d documents (%s); they stay buffered for the next flush",
                         len(batch.documents), exc)
            self._batch = batch.merge(self._batch)
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
            return
        new_ids, refused = done.result()
        self.stats.inc_value("store/new", len(new_ids))
        self.stats.inc_value("store/filtered", len(batch.filtered))
        if refused:
            self.stats.inc_value("store/refused", refused)
        if len(new_ids) < len(batch.documents):
            self.stats.inc_value("store/duplicates", len(batch.documents) - len(new_ids))
        self.stats.inc_value("store/batches")

    def _store_one_by_one(self, batch: "Batch") -> tuple[set[str], int]:
        """A batch the database refused: write what it accepts, and record each refused row as an error."""
        new_ids: set[str] = set()
        refused = []
        for rows, url in batch.rows():
            try:
                new_ids |= self.database.store(**rows)
            except DatabaseError as exc:
                refused.append({"run_id": self.crawler.settings.get("SEEDTRACK_RUN_ID"), "source": self.crawler.spider.name,
                                "url": url, "reason": f"not stored: {exc}", "occurred_at": utc_now()})
        if refused:
            logger.error("the database refused %d rows: %s", len(refused), "; ".join(r["url"] for r in refused))
            self.database.store(errors=refused)
        return new_ids, len(refused)

    async def drain(self) -> None:
        """Wait until every batch handed to the writer is written (or back in the buffer)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def close_spider(self) -> None:
        self.flush()
        await self.drain()
        if len(self._batch):  # the last write failed: one more try, then say so loudly, with the count lost
            self.flush()
            await self.drain()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await asyncio.get_running_loop().run_in_executor(self._writer, self.database.release)
        if len(self._batch):
            message = (f"{len(self._batch.documents)} documents and {len(self._batch.filtered)} filtered URLs could "
                       f"not be written to {self.database.path}; run the crawl again once the database is writable")
            self.stats.set_value("store/unwritten", message)  # the crawl's exit status (Scrapy only logs the raise)
            raise DatabaseError(message)


@dataclass
class Batch:
    """Rows waiting to be written together."""

    documents: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    filtered: list[dict] = field(default_factory=list)
    aliases: list[dict] = field(default_factory=list)
    engagement: list[dict] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)
    actors: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.documents) + len(self.filtered)

    def tables(self) -> dict[str, list[dict]]:
        return {"documents": self.documents, "entities": self.entities, "filtered": self.filtered,
                "aliases": self.aliases, "engagement": self.engagement, "frames": self.frames, "actors": self.actors}

    def merge(self, later: "Batch") -> "Batch":
        return Batch(*(mine + theirs for mine, theirs in zip(self.tables().values(), later.tables().values())))

    def rows(self):
        """Each document or filtered URL with its own entities and aliases, and its URL."""
        def own(rows: list[dict], doc_id: str) -> list[dict]:
            return [row for row in rows if row["doc_id"] == doc_id]

        for d in self.documents:
            yield {"documents": [d], "entities": own(self.entities, d["id"]), "aliases": own(self.aliases, d["id"]),
                   "engagement": own(self.engagement, d["id"]), "frames": own(self.frames, d["id"]),
                   "actors": own(self.actors, d["id"])}, d["url"]
        for f in self.filtered:
            yield {"filtered": [f], "aliases": own(self.aliases, f["id"])}, f["url"]
