"""Reads that commands need: per-source status, the database's summary, documents to analyse again."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from crawler.storage.database import Database

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


def source_status(database: Database) -> list[tuple]:
    """Per source: last run, status, its counts, next run, failures in a row, and why it is paused."""
    return database.query(STATUS_SQL)[1]


def documents_by_kind(database: Database) -> list[tuple[str, int]]:
    """(kind, documents), most first: summed from ``timeline_daily`` (a row per day and source), so the cost
    does not grow with the documents."""
    return database.query("""
        SELECT kind, n FROM (
            SELECT unnest(['article', 'post', 'comment', 'video']) AS kind,
                   unnest([sum(articles), sum(posts), sum(comments), sum(videos)])::BIGINT AS n
            FROM timeline_daily)
        WHERE n > 0 ORDER BY n DESC, kind""")[1]


def file_size(database: Database) -> int:
    """Bytes of the database file and its write-ahead log."""
    return sum(p.stat().st_size for p in (database.path, Path(f"{database.path}.wal")) if p.exists())


def document_count(database: Database) -> int:
    return database.query("SELECT count(*) FROM documents")[1][0][0]


def stale_ids(database: Database, version: str, languages: Sequence[str], everything: bool = False) -> list[str]:
    """Ids of documents with text in ``languages`` analysed by another tagger version (all, with ``everything``)."""
    where = "" if everything else "AND nlp_version IS DISTINCT FROM $version"
    params = {"langs": list(languages), **({} if everything else {"version": version})}
    _, rows = database.query(
        f"SELECT id FROM documents WHERE text IS NOT NULL AND list_contains($langs, lang) {where} ORDER BY id", params)
    return [row[0] for row in rows]


def texts(database: Database, ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(id, text, lang) of the documents ``ids``, by id."""
    return database.query("SELECT id, text, lang FROM documents WHERE list_contains($ids, id) ORDER BY id",
                          {"ids": list(ids)})[1]
