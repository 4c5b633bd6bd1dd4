"""Exports a table or view to CSV (RFC 4180), Parquet or JSON with DuckDB's COPY, optionally by date range.

``EXPORTS`` declares what can be exported, the date each row is filtered on and the order rows are written
in; the date range is inclusive at both ends. COPY streams rows to the file; the one export that sorts
(documents, by day) does it under ``MEMORY_LIMIT``, spilling to a temporary directory beside the
database, so the memory an export takes does not grow with the database.
"""

from __future__ import annotations

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
COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n'",
    "parquet": "FORMAT parquet",
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
    conditions, params = [], []
    if (start := parse_day(since, "--since")) is not None:
        conditions.append(f"{day} >= ?")
        params.append(start)
    if (end := parse_day(until, "--until")) is not None:
        conditions.append(f"{day} < ?")
        params.append(end + timedelta(days=1))
    if conditions:
        select += " WHERE " + " AND ".join(conditions)
    if order:
        select += f" ORDER BY {order}"
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with database.reading() as con:
        try:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = '{_quote(database.path.with_name(database.path.name + '.tmp'))}'")
            return con.execute(f"COPY ({select}) TO '{_quote(target)}' ({COPY_OPTIONS[fmt]})", params).fetchone()[0]
        except duckdb.Error as exc:
            raise DatabaseError(f"export of {name} to {target} failed: {exc}") from exc


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
