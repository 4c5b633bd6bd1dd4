"""Exports a table or view to CSV (RFC 4180), Parquet or JSON with DuckDB's COPY, optionally by date range.

``EXPORTS`` declares what can be exported and the date each row is filtered on; the date range is
inclusive at both ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from crawler.storage.database import Database, DatabaseError

EXPORTS = {
    "documents": ("SELECT * FROM documents", "COALESCE(published_at, fetched_at)"),
    "entities": (
        "SELECT e.* FROM entities e JOIN documents d ON d.id = e.doc_id",
        "COALESCE(d.published_at, d.fetched_at)",
    ),
    "timeline": ("SELECT * FROM timeline", "day"),
    "crawl_runs": ("SELECT * FROM crawl_runs", "started_at"),
    "filtered": ("SELECT * FROM filtered", "seen_at"),
    "errors": ("SELECT * FROM errors", "occurred_at"),
    "engagement": ("SELECT * FROM engagement", "observed_at"),
}
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
    select, day = EXPORTS[name]
    conditions, params = [], []
    if (start := parse_day(since, "--since")) is not None:
        conditions.append(f"{day} >= ?")
        params.append(start)
    if (end := parse_day(until, "--until")) is not None:
        conditions.append(f"{day} < ?")
        params.append(end + timedelta(days=1))
    if conditions:
        select += " WHERE " + " AND ".join(conditions)
    if name == "documents":
        select += " ORDER BY COALESCE(published_at, fetched_at), id"
    elif name == "timeline":
        select += " ORDER BY day, source"
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with database.reading() as con:
        try:
            con.execute(f"COPY ({select}) TO '{_quote(target)}' ({COPY_OPTIONS[fmt]})", params)
            count = con.execute(f"SELECT count(*) FROM ({select})", params).fetchone()[0]
        except duckdb.Error as exc:
            raise DatabaseError(f"export of {name} to {target} failed: {exc}") from exc
    return count


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
