"""``seedtrack load``: the one writer of a distributed crawl, draining the item stream into DuckDB.

It reads the stream as the consumer ``loader`` of the group ``loader``: first the messages a killed
loader read but never acknowledged, then new ones. Each batch of messages is written in one transaction
(``storage/loading.py``), then acknowledged and deleted from the stream, then the crawl state it
changed is published for the workers. Killed at any point it loses nothing (unacknowledged messages
are read again) and writes nothing twice (the database records the messages it committed).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from typing import Callable

import redis

from crawler.distributed import messages, state
from crawler.distributed.keys import LOADER_GROUP, Keys, RedisUnavailable
from crawler.storage import Database
from crawler.storage import loading

logger = logging.getLogger(__name__)
CONSUMER = "loader"


@dataclass
class LoadTotals:
    messages: int = 0
    skipped: int = 0
    documents: int = 0
    rows: int = 0
    refused: int = 0


def publish_snapshot(server: redis.Redis, keys: Keys, database: Database, retry_days: float) -> None:
    snap = loading.snapshot(database, retry_days)
    state.publish_known(server, keys, snap["known"], snap["retry"])
    state.publish_state(server, keys, snap["cursors"], snap["validators"], snap["key"])
    server.set(keys.state_ready, "1")


def publish_loaded(server: redis.Redis, keys: Keys, written) -> None:
    """The crawl state the written messages changed: ids now known (or worth a retry), cursors, validators."""
    tables = loading.merge(written)
    rows = [*tables.get("documents", ()), *tables.get("filtered", ())]
    read = {r["id"] for r in rows if r.get("text_source") != "feed"}
    known = read | {a["alias_id"] for a in tables.get("aliases", ())}
    retry = {r["id"] for r in rows} - read
    state.publish_known(server, keys, known, retry)
    state.publish_state(server, keys, tables.get("crawl_state", ()), tables.get("http_validators", ()))


def run_loader(server: redis.Redis, keys: Keys, database: Database, batch_messages: int, retry_days: float,
               until_idle: float | None = None, progress: Callable[[LoadTotals], None] | None = None) -> LoadTotals:
    """Drain the stream until stopped (SIGINT/SIGTERM: the batch in hand is finished first) or, with
    ``until_idle``, until nothing came for that many seconds."""
    stopping = []
    previous = {sig: signal.signal(sig, lambda *_: stopping.append(True)) for sig in (signal.SIGINT, signal.SIGTERM)}
    totals = LoadTotals()
    try:
        database.migrate()
        try:
            server.xgroup_create(keys.items, LOADER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        publish_snapshot(server, keys, database, retry_days)
        position, idle_since = "0", time.monotonic()  # "0": our unacknowledged messages first
        while not stopping:
            reply = server.xreadgroup(LOADER_GROUP, CONSUMER, {keys.items: position}, count=batch_messages,
                                      block=None if position != ">" else 500)
            raw = reply[0][1] if reply else []
            if position != ">" and not raw:
                position = ">"
                continue
            if not raw:
                if until_idle is not None and time.monotonic() - idle_since >= until_idle:
                    break
                continue
            if position != ">":
                position = raw[-1][0]
            batch = [messages.decode(sid, fields) for sid, fields in raw if fields]  # no fields: deleted already
            loaded = loading.load(database, batch) if batch else loading.Loaded()
            pipe = server.pipeline(transaction=True)
            pipe.xack(keys.items, LOADER_GROUP, *[sid for sid, _ in raw])
            pipe.xdel(keys.items, *[sid for sid, _ in raw])
            pipe.execute()
            publish_loaded(server, keys, loaded.written)
            totals.messages += len(loaded.written)
            totals.skipped += loaded.skipped
            totals.documents += len(loaded.new_ids)
            totals.rows += sum(m.rows() for m in loaded.written)
            totals.refused += loaded.refused
            if progress is not None:
                progress(totals)
            idle_since = time.monotonic()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"lost Redis while loading ({exc}); what was not committed stays on the stream: "
                               "run `seedtrack load` again once Redis answers") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return totals
