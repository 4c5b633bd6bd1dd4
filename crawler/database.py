"""The one database adapter: opens the DuckDB file, migrates it, writes batches, runs read-only queries.

DuckDB lets one process hold a file for writing at a time, so every write opens a short-lived
connection, writes a whole batch in one transaction and closes it; readers open the file read-only.
Both wait and retry while another process holds the lock, then fail with a clear message.
"""

from __future__ import annotations

import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pyarrow as pa

from crawler.errors import UserError
from crawler.schema import LATEST_VERSION, MIGRATIONS, VIEWS

DEFAULT_DB = Path("data") / "seedtrack.duckdb"

_TEXT, _TS, _INT = pa.string(), pa.timestamp("us"), pa.int32()
# Arrow schemas of the batches written; timestamps are naive UTC.
DOCUMENT_SCHEMA = pa.schema([
    ("id", _TEXT), ("url", _TEXT), ("source", _TEXT), ("source_kind", _TEXT), ("kind", _TEXT),
    ("title", _TEXT), ("summary", _TEXT), ("text", _TEXT), ("text_source", _TEXT), ("author", _TEXT),
    ("site", _TEXT), ("published_at", _TS), ("fetched_at", _TS), ("lang", _TEXT), ("analysed", pa.bool_()),
    ("relevance", _TEXT), ("matched_terms", pa.list_(_TEXT)), ("word_count", _INT), ("found_via", _TEXT),
    ("run_id", _TEXT), ("platform", _TEXT), ("platform_id", _TEXT), ("parent_id", _TEXT),
    ("stance", _TEXT), ("stance_score", pa.float64()), ("stance_confidence", pa.float64()),
    ("stance_evidence", pa.list_(_TEXT)), ("nlp_version", _TEXT),
])
ENTITY_SCHEMA = pa.schema([
    ("doc_id", _TEXT), ("text", _TEXT), ("label", _TEXT), ("norm", _TEXT), ("start_char", _INT), ("end_char", _INT),
])
FRAME_SCHEMA = pa.schema([
    ("doc_id", _TEXT), ("frame", _TEXT), ("stance", _TEXT), ("score", pa.float64()), ("confidence", pa.float64()),
])
ACTOR_SCHEMA = pa.schema([
    ("doc_id", _TEXT), ("actor", _TEXT), ("label", _TEXT), ("stance", _TEXT), ("score", pa.float64()), ("evidence", _TEXT),
])
ANALYSIS_COLUMNS = ("id", "analysed", "stance", "stance_score", "stance_confidence", "stance_evidence", "nlp_version")
# Tables of rows derived from a document's text by the NLP stage: replaced whenever the document is.
DERIVED = {"entities": ENTITY_SCHEMA, "frames": FRAME_SCHEMA, "actors": ACTOR_SCHEMA}
FILTERED_SCHEMA = pa.schema([
    ("id", _TEXT), ("url", _TEXT), ("source", _TEXT), ("reason", _TEXT), ("seen_at", _TS), ("run_id", _TEXT),
    ("text_source", _TEXT),
])
ALIAS_SCHEMA = pa.schema([("alias_id", _TEXT), ("doc_id", _TEXT), ("url", _TEXT)])
_BIG = pa.int64()
ENGAGEMENT_SCHEMA = pa.schema([
    ("doc_id", _TEXT), ("observed_at", _TS), ("likes", _BIG), ("reposts", _BIG), ("replies", _BIG), ("views", _BIG),
    ("score", _BIG), ("run_id", _TEXT),
])
ERROR_SCHEMA = pa.schema([("run_id", _TEXT), ("source", _TEXT), ("url", _TEXT), ("reason", _TEXT), ("occurred_at", _TS)])
RUN_COLUMNS = (
    "run_id", "source", "source_kind", "started_at", "finished_at", "status", "fetched", "new",
    "duplicates", "filtered", "errors", "seconds",
)


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
    """A DuckDB file used by seedtrack; cheap to create, holds no open connection between calls."""

    def __init__(self, path: str | Path = DEFAULT_DB, lock_timeout: float = 60.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._migrated = False

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise DatabaseError(f"cannot open {self.path}: {_open_problem(self.path, exc)}") from exc
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
        con = self._connect(read_only=False)
        try:
            if not self._migrated:
                self._migrate(con)
                self._migrated = True
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            con.close()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection: no statement run through it can change the file."""
        with _PROCESS_WRITE_LOCK:
            yield from self._reading()

    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
        """Bring the file to the latest schema; returns the version."""
        with self.writing():
            pass
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
            return self._store(documents, entities, filtered, errors, aliases, engagement, frames, actors)
        except duckdb.Error as exc:
            raise DatabaseError(f"could not write a batch to {self.path}: {exc}") from exc

    def _store(self, documents, entities, filtered, errors, aliases, engagement=(), frames=(), actors=()) -> set[str]:
        with self.writing() as con:
            new_ids = {row[0] for row in _insert(con, "documents", documents, DOCUMENT_SCHEMA, "RETURNING id")}
            if new_ids:  # upgraded rows: their old entities go, and a page now on topic leaves `filtered`
                con.register("stored_ids", pa.table({"id": sorted(new_ids)}))
                _delete_derived(con, "SELECT id FROM stored_ids")
                con.execute("DELETE FROM filtered WHERE id IN (SELECT id FROM stored_ids)")
                con.unregister("stored_ids")
            _insert_derived(con, {"entities": entities, "frames": frames, "actors": actors}, new_ids)
            _insert(con, "filtered", filtered, FILTERED_SCHEMA)
            _insert(con, "url_aliases", aliases, ALIAS_SCHEMA)
            if aliases:  # a row kept from a feed entry under a link that now leads to a read page is superseded
                con.register("alias_ids", pa.table({"id": sorted({a["alias_id"] for a in aliases})}))
                superseded = "SELECT d.id FROM documents d JOIN alias_ids a ON a.id = d.id WHERE d.text_source = 'feed'"
                _delete_derived(con, superseded)
                con.execute(f"DELETE FROM documents WHERE id IN ({superseded})")
                con.unregister("alias_ids")
            _insert(con, "errors", errors, ERROR_SCHEMA)
            if engagement:
                con.register("snapshots", _arrow(engagement, ENGAGEMENT_SCHEMA))
                cols = ", ".join(ENGAGEMENT_SCHEMA.names)
                con.execute(f"INSERT INTO engagement ({cols}) SELECT {cols} FROM snapshots "
                            "WHERE doc_id IN (SELECT id FROM documents) ON CONFLICT DO NOTHING")
                con.unregister("snapshots")
            return new_ids

    def replace_analysis(self, documents: Sequence[dict[str, Any]], entities: Sequence[dict[str, Any]] = (),
                         frames: Sequence[dict[str, Any]] = (), actors: Sequence[dict[str, Any]] = ()) -> int:
        """New NLP results for stored documents, in one transaction: each document's stance columns are
        updated and its entities, frames and actors replaced. ``documents`` rows: id, analysed, stance,
        stance_score, stance_confidence, stance_evidence, nlp_version. Returns the rows updated."""
        if not documents:
            return 0
        schema = pa.schema([(c, DOCUMENT_SCHEMA.field(c).type) for c in ANALYSIS_COLUMNS])
        try:
            with self.writing() as con:
                con.register("analysis", _arrow(documents, schema))
                sets = ", ".join(f"{c} = analysis.{c}" for c in ANALYSIS_COLUMNS if c != "id")
                updated = con.execute(f"UPDATE documents SET {sets} FROM analysis WHERE documents.id = analysis.id "
                                      "RETURNING documents.id").fetchall()
                _delete_derived(con, "SELECT id FROM analysis")
                con.unregister("analysis")
                _insert_derived(con, {"entities": entities, "frames": frames, "actors": actors})
                return len(updated)
        except duckdb.Error as exc:
            raise DatabaseError(f"could not write new analyses to {self.path}: {exc}") from exc

    def record_run(self, run: dict[str, Any]) -> None:
        with self.writing() as con:
            cols = ", ".join(RUN_COLUMNS)
            marks = ", ".join("?" for _ in RUN_COLUMNS)
            con.execute(
                f"INSERT OR REPLACE INTO crawl_runs ({cols}) VALUES ({marks})", [run.get(c) for c in RUN_COLUMNS]
            )

    def save_state(self, rows: Sequence[dict[str, Any]]) -> None:
        """Remember where incremental sources stopped: one crawl_state row per (source, query)."""
        if not rows:
            return
        with self.writing() as con:
            con.executemany(
                "INSERT OR REPLACE INTO crawl_state (source, query, cursor, newest_id, newest_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [[r["source"], r["query"], r.get("cursor"), r.get("newest_id"), r.get("newest_at")] for r in rows],
            )

    def pseudonym_key(self) -> str:
        """The database's secret key for pseudonymising author handles, made on first use (never exported)."""
        with self.writing() as con:
            row = con.execute("SELECT key FROM pseudonym_key LIMIT 1").fetchone()
            if row is None:
                row = (secrets.token_hex(32),)
                con.execute("INSERT INTO pseudonym_key VALUES (?, now()::TIMESTAMP)", [row[0]])
            return row[0]

    # -- reads --------------------------------------------------------------------------------------

    def crawl_state(self, source: str) -> dict[str, dict[str, Any]]:
        """query -> {cursor, newest_id, newest_at} of a source's earlier crawls."""
        if not self.path.exists():
            return {}
        with self.writing() as con:
            cursor = con.execute(
                "SELECT query, cursor, newest_id, newest_at FROM crawl_state WHERE source = ?", [source])
            return {row[0]: {"cursor": row[1], "newest_id": row[2], "newest_at": row[3]} for row in cursor.fetchall()}

    def known_ids(self, retry_days: float = 0) -> tuple[set[str], set[str]]:
        """(ids not to fetch again, ids worth fetching again).

        Stored and filtered documents and the links that led to them are known; those whose page was not
        read (``text_source = 'feed'``: the fetch failed or gave no article text) in the last
        ``retry_days`` are worth another try.
        """
        if not self.path.exists():
            return set(), set()
        since = f"now()::TIMESTAMP - INTERVAL '{float(retry_days)} days'"
        with self.writing() as con:
            retry = {row[0] for row in con.execute(
                f"SELECT id FROM documents WHERE text_source = 'feed' AND fetched_at > {since} "
                f"UNION ALL SELECT id FROM filtered WHERE text_source = 'feed' AND seen_at > {since}"
            ).fetchall()}
            rows = con.execute(
                "SELECT id FROM documents UNION ALL SELECT id FROM filtered UNION ALL SELECT alias_id FROM url_aliases"
            ).fetchall()
        return {row[0] for row in rows} - retry, retry

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


def _upgrade(table: str, schema: pa.Schema) -> str:
    """A row known only from its feed entry is replaced when its page has been read since."""
    columns = ", ".join(f"{c} = excluded.{c}" for c in schema.names if c != "id")
    return (f"ON CONFLICT (id) DO UPDATE SET {columns} "
            f"WHERE {table}.text_source = 'feed' AND excluded.text_source = 'page'")


_ON_CONFLICT = {
    "documents": _upgrade("documents", DOCUMENT_SCHEMA),
    "filtered": _upgrade("filtered", FILTERED_SCHEMA),
    "url_aliases": "ON CONFLICT DO NOTHING",
}


def _insert(con, table: str, rows: Sequence[dict[str, Any]], schema: pa.Schema, returning: str = "") -> list[tuple]:
    """Insert rows as one Arrow batch; in tables with a key, rows whose key is already there are skipped."""
    if not rows:
        return []
    con.register("batch", _arrow(rows, schema))
    cols = ", ".join(schema.names)
    result = con.execute(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM batch {_ON_CONFLICT.get(table, '')} {returning}"
    ).fetchall()
    con.unregister("batch")  # not on failure: the transaction is then aborted and rolled back
    return result


def _delete_derived(con, ids_sql: str) -> None:
    """Delete the entities, frames and actors of the documents that ``ids_sql`` selects."""
    for table in DERIVED:
        con.execute(f"DELETE FROM {table} WHERE doc_id IN ({ids_sql})")


def _insert_derived(con, rows: dict[str, Sequence[dict[str, Any]]], only: set[str] | None = None) -> None:
    """Insert entities, frames and actors rows (those of the documents in ``only``, when given)."""
    for table, schema in DERIVED.items():
        _insert(con, table, [r for r in rows[table] if only is None or r["doc_id"] in only], schema)


def _arrow(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def _explain(exc: duckdb.Error) -> str:
    message = str(exc).strip()
    if isinstance(exc, (duckdb.InvalidInputException, duckdb.PermissionException)) and "read-only" in message.lower():
        return f"{message}\nseedtrack sql opens the database read-only: queries cannot change data."
    if isinstance(exc, duckdb.CatalogException):
        return f"{message}\nTables: documents, entities, frames, actors, crawl_runs, filtered, errors; views: timeline, frame_timeline."
    return message
