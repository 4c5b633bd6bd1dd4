"""The ``schedule`` table: the daemon's jobs (APScheduler's pickled state) and each source's health."""

from __future__ import annotations

from datetime import datetime

from crawler.storage.database import Database


def stored_jobs(database: Database) -> list[tuple[str, bytes]]:
    """(source, pickled job state) of every job the daemon saved."""
    with database.reading() as con:
        return con.execute("SELECT source, job_state FROM schedule WHERE job_state IS NOT NULL").fetchall()


def save_job(database: Database, source: str, every: str, next_run_at: datetime | None, state: bytes) -> None:
    with database.writing() as con:
        con.execute(
            "INSERT INTO schedule (source, every, next_run_at, job_state, updated_at) VALUES (?, ?, ?, ?, now()) "
            "ON CONFLICT (source) DO UPDATE SET every = excluded.every, next_run_at = excluded.next_run_at, "
            "job_state = excluded.job_state, updated_at = excluded.updated_at",
            [source, every, next_run_at, state],
        )


def remove_jobs(database: Database, source: str | None = None) -> None:
    """Forget one source's job, or every job when ``source`` is None."""
    with database.writing() as con:
        if source is None:
            con.execute("DELETE FROM schedule")
        else:
            con.execute("DELETE FROM schedule WHERE source = ?", [source])


def failures(database: Database, source: str) -> int:
    with database.reading() as con:
        row = con.execute("SELECT failures FROM schedule WHERE source = ?", [source]).fetchone()
    return row[0] if row else 0


def set_health(database: Database, source: str, failures: int, paused_reason: str | None) -> None:
    with database.writing() as con:
        con.execute("UPDATE schedule SET failures = ?, paused_reason = ? WHERE source = ?",
                    [failures, paused_reason, source])
