"""The one database adapter: opens the DuckDB file, migrates it, writes batches, runs read-only queries.

DuckDB lets one process hold a file for writing at a time, so a write opens a connection, writes a whole
batch in one transaction and closes it; readers open the file read-only. Both wait and retry while
another process holds the lock, then fail with a clear message. A busy writer (``keep_open``: the store
stage) keeps its connection open between batches and lets go for waiting processes (``writer``).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb

from crawler.errors import UserError
from crawler.storage import batches, writer
from crawler.storage.schema import BACKFILLS, LATEST_VERSION, MIGRATIONS, TABLES, VIEWS

DEFAULT_DB = Path("data") / "seedtrack.duckdb"

RUN_COLUMNS = TABLES["crawl_runs"].column_names()


class DatabaseError(UserError):
    """A database problem explained for the user (what happened and what to do).

    ``retryable`` is true when the same write may succeed later (the file was locked by another process).
    """

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


# DuckDB's Python module is not safe for two threads writing (registering Arrow batches) at once, and
# refuses a read-only connection to a file while a read-write one is open in the same process (and the
# reverse): the connections of one process take turns, whichever thread they come from.
_PROCESS_WRITE_LOCK = threading.RLock()
_HELD = writer.held_connections(_PROCESS_WRITE_LOCK)


def _is_lock_error(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def _open_problem(path: Path, exc: duckdb.Error) -> str:
    """Why DuckDB could not open ``path``, in the user's terms."""
    text = str(exc)
    if path.is_dir():
        return "it is a directory; pass a .duckdb file with --db"
    if "not a valid DuckDB database" in text:
        return "the file is not a DuckDB database; pass the file `seedtrack crawl` wrote, or a new path"
    if "Permission denied" in text:
        return "permission denied; pass a file you can read and write with --db"
    return text


class Database:
    """A DuckDB file used by seedtrack; cheap to create, holds no open connection between calls unless
    ``keep_open`` (then its connection stays open while writes keep coming: ``writer.HeldConnections``)."""

    def __init__(self, path: str | Path = DEFAULT_DB, lock_timeout: float = 60.0, keep_open: bool = False):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.keep_open = keep_open
        self._migrated = False

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                writer.done_waiting(self.path)
                return con
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise DatabaseError(f"cannot open {self.path}: {_open_problem(self.path, exc)}") from exc
                writer.announce_wait(self.path)
                if time.monotonic() > deadline:
                    raise DatabaseError(
                        f"cannot open {self.path}: another process has been writing it for longer than "
                        f"{self.lock_timeout:g}s; try again when that crawl has finished ({exc})",
                        retryable=True,
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection in one transaction, on a migrated schema."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create {self.path}: {exc.strerror} ({exc.filename}); pass a writable --db") from exc
        with _PROCESS_WRITE_LOCK:
            yield from self._writing()

    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = _HELD.take(self.path)
        keep = con is not None or self.keep_open
        if con is None:
            if self.keep_open:
                writer.let_waiters_in(self.path)
            con = self._connect(read_only=False)
            if self.keep_open:
                con.execute(f"SET checkpoint_threshold = '{writer.checkpoint_threshold(self.path)}'")
        try:
            if not self._migrated:
                self._migrate(con)
                self._migrated = True
            con.begin()
            try:
                yield con
            except duckdb.Error as exc:
                con.rollback()
                raise DatabaseError(f"could not write to {self.path}: {exc}") from exc
            except BaseException:
                con.rollback()
                raise
            con.commit()
        except BaseException:
            con.close()
            raise
        if keep:
            _HELD.keep(self.path, con)
        else:
            con.close()

    def release(self) -> None:
        """Close the connection kept open for this file, if any (checkpointing it)."""
        with _PROCESS_WRITE_LOCK:
            _HELD.release(self.path)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection: no statement run through it can change the file."""
        with _PROCESS_WRITE_LOCK:
            yield from self._reading()

    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        _HELD.release(self.path)  # DuckDB opens no read-only connection beside a read-write one
        if not self.path.exists():
            raise DatabaseError(
                f"no database at {self.path}: run `seedtrack crawl` or `seedtrack demo` first, or pass --db"
            )
        con = self._connect(read_only=True)
        if 0 < _schema_version(con) < LATEST_VERSION:  # an older seedtrack's file: upgrade it, then read
            con.close()
            self.migrate()
            con = self._connect(read_only=True)
        try:
            version = _schema_version(con)
            if version < LATEST_VERSION:
                raise DatabaseError(
                    f"{self.path} is not a seedtrack database (schema version {version}): "
                    "pass the file `seedtrack crawl` wrote, or crawl into it first"
                )
            yield con
        finally:
            con.close()

    def migrate(self) -> int:
        """Bring the file to the latest schema; returns the version. Leaves no connection open."""
        with self.writing():
            pass
        self.release()
        return LATEST_VERSION

    @staticmethod
    def _migrate(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)")
        current = _schema_version(con)
        if current > LATEST_VERSION:
            raise DatabaseError(
                f"database schema version {current} is newer than this seedtrack ({LATEST_VERSION}): upgrade seedtrack"
            )
        applied = _applied_versions(con)
        pending = sorted(m for m in MIGRATIONS if m[0] not in applied)
        if not pending:
            return
        con.begin()
        try:
            for version, _title, statements in pending:
                for statement in statements:
                    con.execute(statement)
                con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            for version, _title, _statements in pending:  # after every version's columns exist
                for statement in BACKFILLS.get(version, ()):
                    con.execute(statement)
            for name, sql in VIEWS.items():
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
            con.commit()
        except BaseException:
            con.rollback()
            raise

    # -- writes, each one transaction ---------------------------------------------------------------

    def store(
        self,
        documents: Sequence[dict[str, Any]] = (),
        entities: Sequence[dict[str, Any]] = (),
        filtered: Sequence[dict[str, Any]] = (),
        errors: Sequence[dict[str, Any]] = (),
        aliases: Sequence[dict[str, Any]] = (),
        engagement: Sequence[dict[str, Any]] = (),
        frames: Sequence[dict[str, Any]] = (),
        actors: Sequence[dict[str, Any]] = (),
    ) -> set[str]:
        """Write one batch; returns the ids of documents that were new (entities are kept for those only).

        Engagement snapshots are kept for stored documents only, one per document and crawl (run_id).
        """
        try:
            with self.writing() as con:
                return batches.store(con, documents, entities, filtered, errors, aliases, engagement, frames, actors)
        except DatabaseError as exc:
            if exc.retryable:
                raise
            raise DatabaseError(f"could not write a batch to {self.path}: {exc.__cause__ or exc}") from exc

    def replace_analysis(self, documents: Sequence[dict[str, Any]], entities: Sequence[dict[str, Any]] = (),
                         frames: Sequence[dict[str, Any]] = (), actors: Sequence[dict[str, Any]] = ()) -> int:
        """New NLP results for stored documents, in one transaction: each document's stance columns are
        updated and its entities, frames and actors replaced. ``documents`` rows: the columns of
        ``schema.ANALYSIS_COLUMNS``. Returns the rows updated."""
        if not documents:
            return 0
        try:
            with self.writing() as con:
                return batches.replace_analysis(con, documents, entities, frames, actors)
        except DatabaseError as exc:
            if exc.retryable:
                raise
            raise DatabaseError(f"could not write new analyses to {self.path}: {exc.__cause__ or exc}") from exc

    def record_run(self, run: dict[str, Any]) -> None:
        with self.writing() as con:
            batches.record_run(con, run)

    # -- reads --------------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run read-only SQL; returns column names and rows. Errors become DatabaseError."""
        with self.reading() as con:
            con.execute("SET enable_external_access = false")  # no COPY TO, no reading or writing other files
            try:
                cursor = con.execute(sql, params) if params else con.execute(sql)
            except duckdb.Error as exc:
                raise DatabaseError(_explain(exc)) from exc
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return columns, cursor.fetchall()


def _applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def _explain(exc: duckdb.Error) -> str:
    message = str(exc).strip()
    if isinstance(exc, (duckdb.InvalidInputException, duckdb.PermissionException)) and "read-only" in message.lower():
        return f"{message}\nseedtrack sql opens the database read-only: queries cannot change data."
    if isinstance(exc, duckdb.CatalogException):
        return f"{message}\nTables: documents, entities, frames, actors, crawl_runs, filtered, errors; views: timeline, frame_timeline."
    return message
