"""Crawl state kept between crawls: known document ids, incremental cursors, HTTP validators, the pseudonym key.

Read by the crawl-state extension when a spider opens and written when it closes; spiders never call these.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Sequence

from crawler.storage.database import Database


def known_ids(database: Database, retry_days: float = 0) -> tuple[set[str], set[str]]:
    """(ids not to fetch again, ids worth fetching again).

    Stored and filtered documents and the links that led to them are known; those whose page was not read
    (``text_source = 'feed'``: the fetch failed or gave no article text) in the last ``retry_days`` are
    worth another try.
    """
    if not database.path.exists():
        return set(), set()
    since = f"now()::TIMESTAMP - INTERVAL '{float(retry_days)} days'"
    with database.writing() as con:
        retry = {row[0] for row in con.execute(
            f"SELECT id FROM documents WHERE text_source = 'feed' AND fetched_at > {since} "
            f"UNION ALL SELECT id FROM filtered WHERE text_source = 'feed' AND seen_at > {since}"
        ).fetchall()}
        rows = con.execute(
            "SELECT id FROM documents UNION ALL SELECT id FROM filtered UNION ALL SELECT alias_id FROM url_aliases"
        ).fetchall()
    return {row[0] for row in rows} - retry, retry


def crawl_state(database: Database, source: str) -> dict[str, dict[str, Any]]:
    """query -> {cursor, newest_id, newest_at} of a source's earlier crawls."""
    if not database.path.exists():
        return {}
    with database.writing() as con:
        cursor = con.execute("SELECT query, cursor, newest_id, newest_at FROM crawl_state WHERE source = ?", [source])
        return {row[0]: {"cursor": row[1], "newest_id": row[2], "newest_at": row[3]} for row in cursor.fetchall()}


def save_state(database: Database, rows: Sequence[dict[str, Any]]) -> None:
    """Remember where incremental sources stopped: one crawl_state row per (source, query)."""
    if not rows:
        return
    with database.writing() as con:
        write_state(con, rows)


def write_state(con, rows: Sequence[dict[str, Any]]) -> None:
    """``save_state`` inside a caller's transaction."""
    if rows:
        con.executemany(
            "INSERT OR REPLACE INTO crawl_state (source, query, cursor, newest_id, newest_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [[r["source"], r["query"], r.get("cursor"), r.get("newest_id"), r.get("newest_at")] for r in rows],
        )


def pseudonym_key(database: Database) -> str:
    """The database's secret key for pseudonymising author handles, made on first use (never exported)."""
    with database.writing() as con:
        row = con.execute("SELECT key FROM pseudonym_key LIMIT 1").fetchone()
        if row is None:
            row = (secrets.token_hex(32),)
            con.execute("INSERT INTO pseudonym_key VALUES (?, now()::TIMESTAMP)", [row[0]])
        return row[0]


def validators(database: Database, source: str) -> dict[str, tuple[str | None, str | None]]:
    """url -> (ETag, Last-Modified) the source's feeds and APIs last answered with in a complete run."""
    if not database.path.exists():
        return {}
    with database.reading() as con:
        rows = con.execute("SELECT url, etag, last_modified FROM http_validators WHERE source = ?", [source]).fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


def save_validators(database: Database, rows: Sequence[tuple[str, str, str | None, str | None, datetime]]) -> None:
    """(url, source, etag, last_modified, checked_at) rows, replacing the URL's earlier ones."""
    with database.writing() as con:
        write_validators(con, rows)


def write_validators(con, rows: Sequence[tuple[str, str, str | None, str | None, datetime]]) -> None:
    """``save_validators`` inside a caller's transaction."""
    if rows:
        con.executemany(
            "INSERT INTO http_validators (url, source, etag, last_modified, checked_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET source = excluded.source, etag = excluded.etag, "
            "last_modified = excluded.last_modified, checked_at = excluded.checked_at", rows)
