"""Stage 6 of a worker (``seedtrack crawl --redis``): the store stage, writing to the Redis item stream.

Rows are buffered and flushed exactly as ``StorePipeline`` does; a flush pushes one message to the
stream (``crawler/distributed/stream.py``), which ``seedtrack load`` writes to the database. The leases
of the items' requests are released once their rows are on the stream. While Redis is unreachable the
rows stay buffered and are pushed again.
"""

from __future__ import annotations

from crawler.distributed.frontier import LEASE
from crawler.distributed.stream import StreamWriter
from crawler.items import Document
from pipelines.store import StorePipeline


class StreamStorePipeline(StorePipeline):
    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(crawler, StreamWriter(settings), settings.getint("STORE_BATCH_SIZE"),
                       settings.getfloat("STORE_FLUSH_SECONDS"))
        pipeline._leases = []
        return pipeline

    def open_spider(self) -> None:
        pass  # no database to migrate: the loader does

    def process_item(self, item: Document) -> Document:
        if (carried := getattr(item, LEASE, None)) is not None:
            setattr(item, LEASE, None)  # the stage holds it now: done once its batch is on the stream
            self._leases.append(carried)
        return super().process_item(item)

    def flush(self) -> None:
        if len(self._batch):
            self._batch.leases = [*getattr(self._batch, "leases", ()), *self._leases]
            self._leases = []
        super().flush()

    def _written(self, batch, done) -> None:
        if not done.cancelled() and done.exception() is not None:  # back in the buffer: so are its leases
            self._leases.extend(getattr(batch, "leases", ()))
        super()._written(batch, done)

    def _write(self, batch):
        return self.database.store(leases=getattr(batch, "leases", ()), **batch.tables()), 0
