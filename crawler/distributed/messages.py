"""The one encoding of rows on their way from a worker to the loader: a Redis stream message.

A message holds rows of database tables (``documents``, ``entities`` ... ``errors``, ``crawl_runs``,
``crawl_state``, ``http_validators``) as JSON, and a unique id the loader records in the same
transaction as the rows, so a message is loaded once. JSON has no timestamps or bytes: the loader
restores them from the Arrow types of the table's columns (``schema.TABLES``); lists stay lists.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping, Sequence

import pyarrow as pa

from crawler.storage.schema import TABLES


# The store stage names ``url_aliases`` rows ``aliases`` (``Database.store``'s argument).
SCHEMA_OF = {"aliases": "url_aliases"}


@dataclass
class Message:
    message_id: str  # the worker's id for it (the stream's id can change when Redis is rebuilt)
    worker: str
    tables: dict[str, list[dict[str, Any]]]
    stream_id: str = ""

    def rows(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__} in a stream message")


def encode(tables: Mapping[str, Sequence[dict[str, Any]]], worker: str) -> dict[str, bytes]:
    """The stream entry's fields for ``tables`` (empty tables left out)."""
    unknown = {SCHEMA_OF.get(name, name) for name in tables} - set(TABLES)
    if unknown:
        raise ValueError(f"not database tables: {sorted(unknown)}")
    body = {name: list(rows) for name, rows in tables.items() if rows}
    return {"id": uuid.uuid4().hex.encode(), "worker": worker.encode(),
            "tables": json.dumps(body, default=_plain, ensure_ascii=False).encode()}


def _restorer(kind: pa.DataType):
    if pa.types.is_timestamp(kind):
        return datetime.fromisoformat
    if pa.types.is_date(kind):
        return date.fromisoformat
    if pa.types.is_binary(kind):
        return base64.b64decode
    return None


def decode_rows(table: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of ``table`` with the types JSON lost restored from the table's Arrow schema."""
    restore = {field.name: fn for field in TABLES[SCHEMA_OF.get(table, table)].arrow() if (fn := _restorer(field.type))}
    out = []
    for row in rows:
        row = dict(row)
        for name, fn in restore.items():
            if row.get(name) is not None:
                row[name] = fn(row[name])
        out.append(row)
    return out


def decode(stream_id: bytes | str, fields: Mapping[bytes, bytes]) -> Message:
    body = json.loads(fields[b"tables"])
    tables = {name: decode_rows(name, rows) for name, rows in body.items()}
    sid = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    return Message(fields[b"id"].decode(), fields.get(b"worker", b"").decode(), tables, sid)


def dumps_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as JSON, for the crawl state the loader publishes (``decode_rows`` reads them back)."""
    return json.dumps(list(rows), default=_plain, ensure_ascii=False)
