"""The worker's side of the item stream: rows the database would get are pushed to ``{prefix}:items``.

``StreamWriter`` answers the calls a crawl makes of ``Database`` (``store``, ``record_run``) and of the
state module (``save_state``, ``save_validators``), so the store stage, dedup and the extensions write
through it unchanged. ``output_for(settings)`` gives a crawl its writer: the database, or the stream.
"""

from __future__ import annotations

from typing import Any, Sequence

from crawler.distributed import messages
from crawler.distributed.keys import Keys
from crawler.distributed.worker import WORKER_ID, client


class StreamWriter:
    def __init__(self, settings):
        self.server = client(settings)
        self.keys = Keys.from_settings(settings)
        self.path = f"{settings['REDIS_URL']} ({self.keys.items})"  # named in messages as a database's path is

    def push(self, **tables: Sequence[dict[str, Any]]) -> None:
        """One message on the stream; the ids it stores become known to every worker in the same step."""
        if not any(tables.values()):
            return
        ids = sorted({row["id"] for name in ("documents", "filtered") for row in tables.get(name, ())}
                     | {row["alias_id"] for row in tables.get("aliases", ())})
        pipe = self.server.pipeline(transaction=True)
        pipe.xadd(self.keys.items, messages.encode(tables, WORKER_ID))
        if ids:
            pipe.sadd(self.keys.known, *ids)
            pipe.srem(self.keys.retry, *ids)
            pipe.delete(*(self.keys.storing(doc_id) for doc_id in ids))
        pipe.execute()

    def store(self, leases=(), **tables: Sequence[dict[str, Any]]) -> set[str]:
        """Push one batch; returns its document ids (the loader decides which are new to the database)."""
        self.push(**tables)
        for carried in leases:  # the batch's items: their requests' leases wait for them no longer
            carried.done()
        return {row["id"] for row in tables.get("documents", ())}

    def release(self) -> None:
        """Nothing held between pushes (``Database.release`` closes a kept connection)."""

    def record_run(self, run: dict[str, Any]) -> None:
        self.push(crawl_runs=[run])

    def save_state(self, rows: Sequence[dict[str, Any]], validators: Sequence[tuple]) -> None:
        names = ("url", "source", "etag", "last_modified", "checked_at")
        self.push(crawl_state=list(rows), http_validators=[dict(zip(names, row)) for row in validators])


def output_for(settings):
    """Where a crawl's rows go: a ``StreamWriter`` for a worker (``REDIS_URL`` set), else the database."""
    if settings.get("REDIS_URL"):
        return StreamWriter(settings)
    from crawler.storage import Database

    return Database(settings["SEEDTRACK_DB"])
