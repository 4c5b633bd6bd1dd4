"""``seedtrack status``: per source its last run, outcome, counts, next run and failures; the database's size.

Everything is read from the database on a read-only connection: ``crawl_runs`` for the runs, the
``schedule`` table the daemon keeps for next runs, failures in a row and pauses.
"""

from __future__ import annotations

from pathlib import Path

from crawler.database import Database

COLUMNS = ("source", "last_run", "status", "fetched", "new", "duplicates", "filtered", "errors", "next_run",
           "failures")

STATUS_SQL = """
WITH last AS (
    SELECT * FROM crawl_runs QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC) = 1
),
names AS (SELECT source FROM last UNION SELECT source FROM schedule)
SELECT n.source,
       strftime(l.started_at, '%Y-%m-%d %H:%M:%S') AS last_run,
       l.status, l.fetched, l.new, l.duplicates, l.filtered, l.errors,
       CASE WHEN s.source IS NULL THEN 'not scheduled'
            WHEN s.paused_reason IS NOT NULL OR s.next_run_at IS NULL THEN 'paused'
            ELSE strftime(s.next_run_at, '%Y-%m-%d %H:%M:%S') END AS next_run,
       coalesce(s.failures, 0) AS failures,
       s.paused_reason
FROM names n LEFT JOIN last l USING (source) LEFT JOIN schedule s USING (source)
ORDER BY n.source
"""


def source_status(database: Database) -> tuple[list[str], list[tuple], list[str]]:
    """(columns, one row per source, paused notes)."""
    _columns, rows = database.query(STATUS_SQL)
    notes = [f"{row[0]}: {row[-1]}" for row in rows if row[-1]]
    return list(COLUMNS), [row[:-1] for row in rows], notes


def database_summary(database: Database) -> str:
    """One line: the file's size and its documents by kind."""
    _columns, kinds = database.query("SELECT kind, count(*) FROM documents GROUP BY kind ORDER BY count(*) DESC")
    size = sum(p.stat().st_size for p in (database.path, Path(f"{database.path}.wal")) if p.exists())
    documents = sum(n for _kind, n in kinds)
    by_kind = ", ".join(f"{n} {kind}" for kind, n in kinds) or "none yet"
    return f"database: {database.path.resolve()} ({size / 1e6:.1f} MB) · documents: {documents} ({by_kind})"
