"""Stage 6: write documents, entities and filtered URLs to DuckDB in batches (one transaction a batch).

Rows are buffered and written when ``STORE_BATCH_SIZE`` are waiting, every ``STORE_FLUSH_SECONDS``, and
when the spider closes. While the file is locked by another process rows stay buffered and are retried;
a batch the database refuses is written row by row, and each refused row is recorded in ``errors``.
Rows are never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging

from crawler.database import Database, DatabaseError
from crawler.dates import utc_now
from crawler.items import Document

logger = logging.getLogger(__name__)


def document_row(item: Document) -> dict:
    return {
        "id": item.id, "url": item.url, "source": item.source, "source_kind": item.source_kind,
        "kind": item.kind, "title": item.title, "summary": item.summary, "text": item.text,
        "text_source": item.text_source, "author": item.author, "site": item.site,
        "published_at": item.published_at, "fetched_at": item.fetched_at, "lang": item.lang,
        "analysed": item.analysed, "relevance": item.relevance, "matched_terms": item.matched_terms,
        "word_count": item.word_count, "found_via": item.found_via, "run_id": item.run_id,
    }


class StorePipeline:
    def __init__(self, crawler, database: Database, batch_size: int, flush_seconds: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = database
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self._documents: list[dict] = []
        self._entities: list[dict] = []
        self._filtered: list[dict] = []
        self._aliases: list[dict] = []
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(
            crawler, Database(settings["SEEDTRACK_DB"]),
            settings.getint("STORE_BATCH_SIZE"), settings.getfloat("STORE_FLUSH_SECONDS"),
        )

    def open_spider(self) -> None:
        self.database.migrate()

    def process_item(self, item: Document) -> Document:
        self._aliases.extend({**alias, "doc_id": item.id} for alias in item.aliases)
        if item.filtered_reason:
            self._filtered.append(
                {"id": item.id, "url": item.url, "source": item.source, "reason": item.filtered_reason,
                 "seen_at": item.fetched_at, "run_id": item.run_id, "text_source": item.text_source}
            )
        else:
            self._documents.append(document_row(item))
            self._entities.extend({"doc_id": item.id, **entity} for entity in item.entities)
        if len(self._documents) + len(self._filtered) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
        return item

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not (self._documents or self._filtered):
            return
        documents, entities, filtered = self._documents, self._entities, self._filtered
        try:
            new_ids = self.database.store(documents=documents, entities=entities, filtered=filtered,
                                          aliases=self._aliases)
        except DatabaseError as exc:
            self.stats.inc_value("store/write_errors")
            if not exc.retryable:
                new_ids = self._store_one_by_one(documents, entities, filtered)
            else:
                logger.error("could not write %d documents (%s); they stay buffered for the next flush",
                             len(documents), exc)
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
                return
        self._documents, self._entities, self._filtered, self._aliases = [], [], [], []
        self.stats.inc_value("store/new", len(new_ids))
        self.stats.inc_value("store/filtered", len(filtered))
        if len(new_ids) < len(documents):
            self.stats.inc_value("store/duplicates", len(documents) - len(new_ids))
        self.stats.inc_value("store/batches")

    def _store_one_by_one(self, documents: list[dict], entities: list[dict], filtered: list[dict]) -> set[str]:
        """A batch the database refused: write what it accepts, and record each refused row as an error."""
        new_ids: set[str] = set()
        refused = []
        def own(rows: list[dict], doc_id: str) -> list[dict]:
            return [row for row in rows if row["doc_id"] == doc_id]

        rows = [({"documents": [d], "entities": own(entities, d["id"]), "aliases": own(self._aliases, d["id"])},
                 d["url"]) for d in documents]
        rows += [({"filtered": [f], "aliases": own(self._aliases, f["id"])}, f["url"]) for f in filtered]
        for batch, url in rows:
            try:
                new_ids |= self.database.store(**batch)
            except DatabaseError as exc:
                refused.append({"run_id": self.crawler.settings.get("SEEDTRACK_RUN_ID"), "source": self.crawler.spider.name,
                                "url": url, "reason": f"not stored: {exc}", "occurred_at": utc_now()})
        if refused:
            logger.error("the database refused %d rows: %s", len(refused), "; ".join(r["url"] for r in refused))
            self.stats.inc_value("store/refused", len(refused))
            self.database.store(errors=refused)
        return new_ids

    def close_spider(self) -> None:
        self.flush()
        if self._timer is not None:  # the last write failed: say so loudly, with the count lost
            self._timer.cancel()
            raise DatabaseError(
                f"{len(self._documents)} documents and {len(self._filtered)} filtered URLs could not be written "
                f"to {self.database.path}; run the crawl again once the database is writable"
            )
