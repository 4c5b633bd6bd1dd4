"""The loader's writes: stream messages committed to the database, each exactly once.

``load`` writes the rows of a list of messages in one transaction, through the crawl's own batch write
(``batches.store``), and records each message's id in ``stream_loads`` in that transaction: a message
whose id is there already (the loader was killed after its commit, before Redis heard of it) is
skipped, so nothing is written twice and nothing acknowledged before it is written. ``snapshot`` reads
the crawl state the loader publishes for the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pyarrow as pa

from crawler.storage import batches, state
from crawler.storage.database import Database, DatabaseError
from crawler.text.dates import utc_now

STORE_TABLES = ("documents", "entities", "filtered", "errors", "aliases", "engagement", "frames", "actors")
VALIDATOR_COLUMNS = ("url", "source", "etag", "last_modified", "checked_at")


@dataclass
class Loaded:
    written: list = field(default_factory=list)  # the messages written now
    skipped: int = 0  # messages written before (by a loader killed before it acknowledged them)
    new_ids: set[str] = field(default_factory=set)
    refused: int = 0  # rows the database refused, recorded in errors


def merge(messages: Sequence) -> dict[str, list[dict[str, Any]]]:
    """The rows of several messages as one batch. A document (or filtered URL) in two messages is kept
    once: its page over its feed entry, else the later one, with that message's entities, frames and actors."""
    owner: dict[str, int] = {}
    for index, message in enumerate(messages):
        for table in ("documents", "filtered"):
            for row in message.tables.get(table, ()):
                earlier = owner.get(row["id"])
                if earlier is None or row.get("text_source") != "feed" or _feed_only(messages[earlier], row["id"]):
                    owner[row["id"]] = index
    tables: dict[str, list[dict[str, Any]]] = {}
    for index, message in enumerate(messages):
        for table, rows in message.tables.items():
            if table in ("documents", "filtered"):
                rows = [r for r in rows if owner[r["id"]] == index]
            elif table in ("entities", "frames", "actors"):
                rows = [r for r in rows if owner.get(r["doc_id"], index) == index]
            tables.setdefault(table, []).extend(rows)
    return tables


def _feed_only(message, doc_id: str) -> bool:
    return any(r["id"] == doc_id and r.get("text_source") == "feed"
               for table in ("documents", "filtered") for r in message.tables.get(table, ()))


def _write(con, messages: Sequence) -> set[str]:
    tables = merge(messages)
    new_ids = batches.store(con, *(tables.get(name, []) for name in STORE_TABLES))
    for run in tables.get("crawl_runs", ()):
        batches.record_run(con, run)
    state.write_state(con, tables.get("crawl_state", []))
    state.write_validators(con, [tuple(row.get(c) for c in VALIDATOR_COLUMNS) for row in tables.get("http_validators", ())])
    now = utc_now()
    batches.insert(con, "stream_loads", [{"message_id": m.message_id, "stream_id": m.stream_id, "worker": m.worker,
                                          "row_count": m.rows(), "loaded_at": now} for m in messages])
    return new_ids


def _loaded_before(con, messages: Sequence) -> set[str]:
    con.register("incoming", pa.table({"id": [m.message_id for m in messages]}))
    done = {row[0] for row in con.execute(
        "SELECT message_id FROM stream_loads WHERE message_id IN (SELECT id FROM incoming)").fetchall()}
    con.unregister("incoming")
    return done


def load(database: Database, messages: Sequence) -> Loaded:
    """Write ``messages`` in one transaction (those not written before). A batch the database refuses
    is written message by message; a message refused alone is recorded in ``errors`` (one row per
    document) and marked written, so it never blocks the stream."""
    try:
        with database.writing() as con:
            done = _loaded_before(con, messages)
            fresh = [m for m in messages if m.message_id not in done]
            new_ids = _write(con, fresh) if fresh else set()
        return Loaded(fresh, len(done), new_ids)
    except DatabaseError as exc:
        if exc.retryable:
            raise
        if len(messages) == 1:
            _record_refused(database, messages[0], exc)
            return Loaded([messages[0]], 0, set(), messages[0].rows())
    result = Loaded()
    for message in messages:
        one = load(database, [message])
        result.written += one.written
        result.skipped += one.skipped
        result.new_ids |= one.new_ids
        result.refused += one.refused
    return result


def _record_refused(database: Database, message, exc: DatabaseError) -> None:
    """A refused message's documents as errors rows; the message marked written."""
    rows = [*message.tables.get("documents", ()), *message.tables.get("filtered", ())]
    errors = [{"run_id": r.get("run_id"), "source": r.get("source"), "url": r.get("url"),
               "reason": f"not stored: {exc}", "occurred_at": utc_now()} for r in rows]
    with database.writing() as con:
        if not _loaded_before(con, [message]):
            batches.insert(con, "errors", errors)
            batches.insert(con, "stream_loads", [{"message_id": message.message_id, "stream_id": message.stream_id,
                                                  "worker": message.worker, "row_count": 0, "loaded_at": utc_now()}])


def snapshot(database: Database, retry_days: float) -> dict[str, Any]:
    """The crawl state workers need: known and retry ids, cursors, validators, the pseudonym key."""
    known, retry = state.known_ids(database, retry_days)
    key = state.pseudonym_key(database)
    with database.reading() as con:
        cursors = con.execute("SELECT source, query, cursor, newest_id, newest_at FROM crawl_state").fetchall()
        validators = con.execute(f"SELECT {', '.join(VALIDATOR_COLUMNS)} FROM http_validators").fetchall()
    return {"known": known, "retry": retry, "key": key,
            "cursors": [dict(zip(("source", "query", "cursor", "newest_id", "newest_at"), r)) for r in cursors],
            "validators": [dict(zip(VALIDATOR_COLUMNS, r)) for r in validators]}
