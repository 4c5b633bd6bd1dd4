"""Exports a table or view to CSV (RFC 4180), Parquet or JSON with DuckDB's COPY, optionally by date range.

``EXPORTS`` declares what can be exported, the date each row is filtered on and the order rows are written
in; the date range is inclusive at both ends. COPY streams rows to the file. Sorting the whole documents
table at once took 6.5 GB at a million documents, so documents are sorted in chunks of consecutive days
of at most ``CHUNK_DOCUMENTS`` (counted in ``timeline_daily``; the stored ``day`` lets each chunk's scan
skip other days' blocks), each written to a temporary Parquet part, and the parts are copied to the
file in order. Exports run under ``MEMORY_LIMIT``, so their memory does not grow with the database.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb

from crawler.storage.database import Database, DatabaseError

# name -> (query, the date or timestamp filtered on, ORDER BY)
EXPORTS = {
    "documents": ("SELECT * FROM documents", "day", "day, COALESCE(published_at, fetched_at), id"),
    "entities": ("SELECT e.* FROM entities e JOIN documents d ON d.id = e.doc_id", "d.day", ""),
    "timeline": ("SELECT * FROM timeline", "day", "day, source"),
    "crawl_runs": ("SELECT * FROM crawl_runs", "started_at", ""),
    "filtered": ("SELECT * FROM filtered", "seen_at", ""),
    "errors": ("SELECT * FROM errors", "occurred_at", ""),
    "engagement": ("SELECT * FROM engagement", "observed_at", ""),
}
MEMORY_LIMIT = "512MB"
CHUNK_DOCUMENTS = 10_000
COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n'",
    "parquet": "FORMAT parquet, ROW_GROUP_SIZE 10000",  # a row group is buffered whole: ~40 MB of documents
    "json": "FORMAT json, ARRAY true",
}


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DatabaseError(f"{option} takes a date as YYYY-MM-DD, not {value!r}") from None


def export(database: Database, name: str, path: str | Path, fmt: str = "csv",
           since: str | None = None, until: str | None = None) -> int:
    """Write ``name`` to ``path``; returns the number of rows written."""
    if name not in EXPORTS:
        raise DatabaseError(f"cannot export {name!r}: choose one of {', '.join(EXPORTS)}")
    if fmt not in COPY_OPTIONS:
        raise DatabaseError(f"unknown export format {fmt!r}: choose one of {', '.join(COPY_OPTIONS)}")
    select, day, order = EXPORTS[name]
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with database.reading() as con:
        try:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = '{_quote(_scratch(database))}'")
            if name == "documents":
                return _documents_in_chunks(con, target, fmt, start, end)
            where, params = _range(day, start, end)
            query = f"{select} {where} {f'ORDER BY {order}' if order else ''}"
            return con.execute(f"COPY ({query}) TO '{_quote(target)}' ({COPY_OPTIONS[fmt]})", params).fetchone()[0]
        except duckdb.Error as exc:
            raise DatabaseError(f"export of {name} to {target} failed: {exc}") from exc


def _range(column: str, start: date | None, end: date | None) -> tuple[str, list]:
    """A WHERE clause keeping ``column`` from ``start`` to ``end`` (inclusive days), and its parameters."""
    conditions, params = [], []
    if start is not None:
        conditions.append(f"{column} >= ?")
        params.append(start)
    if end is not None:
        conditions.append(f"{column} < ?")
        params.append(end + timedelta(days=1))
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), params


def _scratch(database: Database) -> Path:
    return database.path.with_name(database.path.name + ".tmp")


def _documents_in_chunks(con, target: Path, fmt: str, start: date | None, end: date | None) -> int:
    select, _day, order = EXPORTS["documents"]
    where, params = _range("day", start, end)
    chunks: list[list] = []  # [first day, last day, documents]
    for day, count in con.execute(f"SELECT day, sum(documents) FROM timeline_daily {where} GROUP BY day ORDER BY day",
                                  params).fetchall():
        if chunks and chunks[-1][2] + count <= CHUNK_DOCUMENTS:
            chunks[-1][1:] = [day, chunks[-1][2] + count]
        else:
            chunks.append([day, day, count])
    with tempfile.TemporaryDirectory(prefix="export-", dir=target.parent) as parts_dir:
        parts = []
        for n, (first, last, _count) in enumerate(chunks):
            part = Path(parts_dir) / f"part-{n:06d}.parquet"
            con.execute(f"COPY ({select} WHERE day BETWEEN ? AND ? ORDER BY {order}) TO '{_quote(part)}' "
                        "(FORMAT parquet)", [first, last])
            parts.append(part)
        if not parts:  # nothing in the range: the file still has the columns (a CSV header, an empty array)
            return con.execute(f"COPY ({select} WHERE false) TO '{_quote(target)}' ({COPY_OPTIONS[fmt]})").fetchone()[0]
        files = ", ".join(f"'{_quote(part)}'" for part in parts)
        return con.execute(f"COPY (SELECT * FROM read_parquet([{files}])) TO '{_quote(target)}' "
                           f"({COPY_OPTIONS[fmt]})").fetchone()[0]


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
