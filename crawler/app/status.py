"""``seedtrack status``: per source its last run, outcome, counts, next run and failures; the database's size.

Everything is read from the database on a read-only connection: ``crawl_runs`` for the runs, the
``schedule`` table the daemon keeps for next runs, failures in a row and pauses. With ``--redis``, the
distributed crawl's workers, queue depth and loader lag are read from Redis (``distributed/monitor.py``).
"""

from __future__ import annotations

from crawler.storage import Database, queries

COLUMNS = ("source", "last_run", "status", "fetched", "new", "duplicates", "filtered", "errors", "next_run",
           "failures")

def source_status(database: Database) -> tuple[list[str], list[tuple], list[str]]:
    """(columns, one row per source, paused notes)."""
    rows = queries.source_status(database)
    notes = [f"{row[0]}: {row[-1]}" for row in rows if row[-1]]
    return list(COLUMNS), [row[:-1] for row in rows], notes


def database_summary(database: Database) -> str:
    """One line: the file's size and its documents by kind."""
    kinds = queries.documents_by_kind(database)
    size = queries.file_size(database)
    documents = sum(n for _kind, n in kinds)
    by_kind = ", ".join(f"{n} {kind}" for kind, n in kinds) or "none yet"
    return f"database: {database.path.resolve()} ({size / 1e6:.1f} MB) · documents: {documents} ({by_kind})"


def frontier_summary(url: str, db) -> str:
    """Lines on the distributed crawl feeding ``db`` through the Redis at ``url``."""
    from crawler.app.overrides import project_scrapy_settings
    from crawler.distributed.keys import Keys, connect
    from crawler.distributed.monitor import format_status, frontier_status

    settings = project_scrapy_settings()
    settings.set("SEEDTRACK_DB", str(db), priority="cmdline")
    keys = Keys.from_settings(settings)
    return format_status(frontier_status(connect(url), keys), keys)
