"""Tests for crawler.storage on real DuckDB files: migration, batch writes, read-only queries, locking."""

import subprocess
import sys
import time
from datetime import datetime, timezone

import duckdb
import pytest

from crawler.storage import Database, DatabaseError, state
from crawler.storage.schema import LATEST_VERSION, MIGRATIONS

VERSIONS = sorted((version,) for version, _title, _statements in MIGRATIONS)


def document(doc_id: str, **fields) -> dict:
    row = {
        "id": doc_id, "url": f"https://news.example/{doc_id}", "source": "verge-ai", "source_kind": "feed",
        "kind": "article", "title": f"Seedance story {doc_id}", "summary": None, "text": "Seedance 2.0 text",
        "text_source": "feed", "author": None, "site": "news.example", "published_at": datetime(2026, 2, 12, 9, 0),
        "fetched_at": datetime(2026, 2, 14, 8, 0), "lang": "en", "analysed": True, "relevance": "title: Seedance",
        "matched_terms": ["Seedance"], "word_count": 3, "found_via": "https://news.example/feed", "run_id": "run-1",
    }
    row.update(fields)
    return row


def entity(doc_id: str, text: str = "ByteDance", label: str = "ORG", norm: str | None = None) -> dict:
    return {"doc_id": doc_id, "text": text, "label": label, "norm": norm or text, "start_char": 0, "end_char": len(text)}


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "seedtrack.duckdb", lock_timeout=5)
    database.migrate()
    return database


def count(database: Database, table: str) -> int:
    return database.query(f"SELECT count(*) FROM {table}")[1][0][0]


def test_database_migrate_creates_schema(tmp_path):
    database = Database(tmp_path / "sub" / "new.duckdb")
    assert database.migrate() == LATEST_VERSION == max(MIGRATIONS)[0]
    assert database.path.exists()
    con = duckdb.connect(str(database.path), read_only=True)
    try:
        tables = {row[0]: row[1] for row in con.execute(
            "SELECT table_name, table_type FROM information_schema.tables").fetchall()}
        versions = con.execute("SELECT version FROM schema_version").fetchall()
    finally:
        con.close()
    assert {"documents", "entities", "crawl_runs", "filtered", "errors", "url_aliases", "schema_version"} <= set(tables)
    assert tables["timeline"] == "VIEW"
    assert versions == VERSIONS


def test_database_migrate_twice_keeps_one_version_row(db):
    Database(db.path).migrate()
    assert db.query("SELECT version FROM schema_version ORDER BY 1")[1] == VERSIONS


def test_database_store_returns_new_ids(db):
    new = db.store(documents=[document("a"), document("b")], entities=[entity("a"), entity("b", "MPA", norm="Motion Picture Association")])
    assert new == {"a", "b"}
    columns, rows = db.query("SELECT id, url, published_at, matched_terms, analysed, word_count FROM documents ORDER BY id")
    assert columns == ["id", "url", "published_at", "matched_terms", "analysed", "word_count"]
    assert rows[0] == ("a", "https://news.example/a", datetime(2026, 2, 12, 9, 0), ["Seedance"], True, 3)
    assert db.query("SELECT doc_id, norm FROM entities ORDER BY doc_id")[1] == [
        ("a", "ByteDance"), ("b", "Motion Picture Association")]


def test_database_store_same_batch_twice_adds_nothing(db):
    batch = dict(documents=[document("a"), document("b")], entities=[entity("a"), entity("b")])
    assert db.store(**batch) == {"a", "b"}
    assert db.store(**batch) == set()
    assert (count(db, "documents"), count(db, "entities")) == (2, 2)


def test_database_store_keeps_entities_of_new_documents_only(db):
    db.store(documents=[document("a")], entities=[entity("a")])
    new = db.store(documents=[document("a", title="changed"), document("c")],
                   entities=[entity("a", "Disney"), entity("c", "Netflix")])
    assert new == {"c"}
    assert db.query("SELECT doc_id, text FROM entities ORDER BY doc_id")[1] == [("a", "ByteDance"), ("c", "Netflix")]
    assert db.query("SELECT title FROM documents WHERE id = 'a'")[1] == [("Seedance story a",)]  # first write wins


def test_database_store_duplicate_id_within_one_batch(db):
    assert db.store(documents=[document("d"), document("d", title="again")]) == {"d"}
    assert count(db, "documents") == 1


def test_database_store_filtered_and_errors(db):
    seen = datetime(2026, 2, 14, 8, 0)
    filtered = [{"id": "f1", "url": "https://news.example/f1", "source": "variety", "reason": "no topic term",
                 "seen_at": seen, "run_id": "run-1"}]
    errors = [{"run_id": "run-1", "source": "variety", "url": "https://variety.example/feed",
               "reason": "HTTP 503", "occurred_at": seen}]
    assert db.store(filtered=filtered, errors=errors) == set()
    db.store(filtered=filtered, errors=errors)  # filtered ids are unique; errors are a log
    assert db.query("SELECT id, reason, seen_at FROM filtered")[1] == [("f1", "no topic term", seen)]
    assert db.query("SELECT source, reason FROM errors")[1] == [("variety", "HTTP 503")] * 2


def test_database_feed_only_row_under_an_alias_is_superseded(db):
    db.store(documents=[document("google")], entities=[entity("google")])  # stored from the feed entry
    page = document("publisher", text_source="page")
    alias = {"alias_id": "google", "doc_id": "publisher", "url": "https://news.google.com/rss/articles/X"}
    assert db.store(documents=[page], aliases=[alias]) == {"publisher"}
    assert db.query("SELECT id FROM documents")[1] == [("publisher",)]
    assert db.query("SELECT count(*) FROM entities")[1] == [(0,)]
    db.store(documents=[document("page-kept", text_source="page")])
    db.store(aliases=[{"alias_id": "page-kept", "doc_id": "publisher", "url": "https://x.example/"}])
    assert ("page-kept",) in db.query("SELECT id FROM documents")[1]  # only feed-only rows are superseded


def test_database_known_ids(db, tmp_path):
    assert state.known_ids(Database(tmp_path / "absent.duckdb")) == (set(), set())
    assert not (tmp_path / "absent.duckdb").exists()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    db.store(documents=[document("a", text_source="page"), document("b"), document("old", fetched_at=datetime(2026, 1, 1)),
                        document("fresh", fetched_at=now)],
             filtered=[{"id": "f1", "url": "https://x.example/", "source": "s", "reason": "r",
                        "seen_at": datetime(2026, 2, 14), "run_id": None, "text_source": "page"},
                       {"id": "f2", "url": "https://x.example/2", "source": "s", "reason": "r",
                        "seen_at": now, "run_id": None, "text_source": "feed"}])
    assert state.known_ids(db) == ({"a", "b", "old", "fresh", "f1", "f2"}, set())
    # pages known only from their feed entry, seen in the last 3 days, are worth another fetch
    assert state.known_ids(db, retry_days=3) == ({"a", "b", "old", "f1"}, {"fresh", "f2"})


def test_database_feed_only_document_is_upgraded_by_its_page(db):
    db.store(documents=[document("a")], entities=[entity("a")],
             filtered=[{"id": "f", "url": "https://x.example/f", "source": "s", "reason": "no topic term",
                        "seen_at": datetime(2026, 2, 14), "run_id": None, "text_source": "feed"}])
    page = document("a", text="The full article about Seedance 2.0.", text_source="page", word_count=6)
    assert db.store(documents=[page], entities=[entity("a", text="Seedance 2.0")]) == {"a"}
    assert db.query("SELECT text, text_source FROM documents")[1] == [("The full article about Seedance 2.0.", "page")]
    assert db.query("SELECT text FROM entities")[1] == [("Seedance 2.0",)]
    assert db.store(documents=[document("a")]) == set()  # a feed-only row never replaces a page
    assert db.store(documents=[document("f", text_source="page")]) == {"f"}  # on topic after all
    assert db.query("SELECT count(*) FROM filtered")[1] == [(0,)]


def test_database_timeline_view(db):
    db.store(documents=[document("a"), document("b", kind="post"), document("c", published_at=None)])
    rows = db.query("SELECT day, source, documents, articles, posts FROM timeline")[1]
    assert [tuple(r) for r in rows] == [
        (datetime(2026, 2, 12).date(), "verge-ai", 2, 1, 1),
        (datetime(2026, 2, 14).date(), "verge-ai", 1, 1, 0),  # no published_at: the fetch day
    ]


def test_database_record_run_replaces_same_run(db):
    run = {"run_id": "run-1", "source": "gdelt", "source_kind": "gdelt", "started_at": datetime(2026, 2, 14, 8),
           "finished_at": None, "status": "running", "fetched": 0, "new": 0, "duplicates": 0, "filtered": 0,
           "errors": 0, "seconds": None}
    db.record_run(run)
    db.record_run({**run, "status": "finished", "fetched": 10, "new": 4, "seconds": 12.5})
    assert db.query("SELECT status, fetched, new, seconds FROM crawl_runs")[1] == [("finished", 10, 4, 12.5)]


def test_database_query_with_parameters(db):
    db.store(documents=[document("a"), document("b", source="gdelt")])
    columns, rows = db.query("SELECT id FROM documents WHERE source = ? ORDER BY id", ["gdelt"])
    assert (columns, rows) == (["id"], [("b",)])


def test_database_query_cannot_write_files(db, tmp_path):
    db.migrate()
    target = tmp_path / "leak.csv"
    with pytest.raises(DatabaseError, match="disabled"):
        db.query(f"COPY (SELECT 1) TO '{target}'")
    assert not target.exists()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DELETE FROM documents", "DELETE"),
        ("INSERT INTO documents (id, url, source, source_kind, kind, fetched_at) "
         "VALUES ('z', 'u', 's', 'feed', 'article', now())", "INSERT"),
        ("DROP TABLE documents", "DROP"),
        ("UPDATE documents SET title = 'x'", "UPDATE"),
    ],
)
def test_database_query_is_read_only(db, sql, kind):
    db.store(documents=[document("a"), document("b")], entities=[entity("a")])
    with pytest.raises(DatabaseError) as info:
        db.query(sql)
    message = str(info.value)
    assert kind in message
    assert "read-only" in message
    assert "queries cannot change data" in message
    assert (count(db, "documents"), count(db, "entities")) == (2, 1)
    assert db.query("SELECT title FROM documents WHERE id = 'a'")[1] == [("Seedance story a",)]


def test_database_query_unknown_table_lists_tables(db):
    with pytest.raises(DatabaseError, match="Tables: documents, entities"):
        db.query("SELECT * FROM articles")


def test_database_query_syntax_error(db):
    with pytest.raises(DatabaseError, match="syntax error"):
        db.query("SELEC 1")


def test_database_missing_file_names_path(tmp_path):
    path = tmp_path / "nowhere" / "seedtrack.duckdb"
    with pytest.raises(DatabaseError, match="no database at") as info:
        Database(path).query("SELECT 1")
    assert str(path) in str(info.value)
    assert not path.exists()  # reading never creates the file


def test_database_newer_schema_version_errors(db):
    con = duckdb.connect(str(db.path))
    con.execute("INSERT INTO schema_version VALUES (99, now())")
    con.close()
    fresh = Database(db.path)  # a new process: migration not yet checked
    with pytest.raises(DatabaseError, match=f"schema version 99 is newer than this seedtrack \\({LATEST_VERSION}\\)"):
        fresh.store(documents=[document("a")])
    with pytest.raises(DatabaseError, match="upgrade seedtrack"):
        fresh.migrate()
    assert count(db, "documents") == 0


def test_database_older_file_without_schema_cannot_be_read(tmp_path):
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()  # a DuckDB file seedtrack never migrated
    with pytest.raises(DatabaseError, match="is not a seedtrack database \\(schema version 0\\)"):
        Database(path).query("SELECT 1")


def version_1_file(path):
    """A database as the first schema version left it, holding one document."""
    from crawler.storage.schema import MIGRATIONS

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP)")
    for statement in MIGRATIONS[0][2]:
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    con.execute("CREATE VIEW timeline AS SELECT CAST(COALESCE(published_at, fetched_at) AS DATE) AS day, source, "
                "count(*) AS documents FROM documents GROUP BY ALL")  # a view of version 1 (later ones need later tables)
    con.execute("INSERT INTO documents (id, url, source, source_kind, kind, fetched_at) "
                "VALUES ('old', 'https://news.example/old', 'verge-ai', 'feed', 'article', now())")
    con.close()
    return path


def test_database_version_1_file_is_upgraded_by_a_write_and_keeps_its_rows(tmp_path):
    old = Database(version_1_file(tmp_path / "v1.duckdb"))
    assert old.store(documents=[document("kept")]) == {"kept"}
    assert old.query("SELECT max(version) FROM schema_version")[1] == [(LATEST_VERSION,)]
    assert old.query("SELECT id FROM documents ORDER BY id")[1] == [("kept",), ("old",)]


def test_database_version_1_file_is_upgraded_by_a_read(tmp_path):
    old = Database(version_1_file(tmp_path / "v1.duckdb"))
    assert old.query("SELECT count(*) FROM url_aliases")[1] == [(0,)]  # sql and export upgrade it too
    assert old.query("SELECT id FROM documents")[1] == [("old",)]


def test_database_failed_batch_is_rolled_back(db):
    with pytest.raises((duckdb.Error, DatabaseError)):
        db.store(documents=[document("ok"), document("bad", fetched_at=None)])  # fetched_at is NOT NULL
    assert count(db, "documents") == 0


# -- locking: another process holds the file for writing ------------------------------------------------------

HOLDER = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('locked', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.close()\n"
)


@pytest.fixture
def hold_lock(db):
    processes = []

    def start(seconds: float) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLDER, str(db.path), str(seconds)],
                                   stdout=subprocess.PIPE, text=True)
        processes.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()


def test_database_lock_waits_then_reads(db, hold_lock):
    db.store(documents=[document("a")])
    holder = hold_lock(2)
    started = time.monotonic()
    columns, rows = Database(db.path, lock_timeout=10).query("SELECT id FROM documents")
    waited = time.monotonic() - started
    assert rows == [("a",)]
    assert waited > 1.0  # it really waited for the other process
    assert holder.wait(timeout=5) == 0


def test_database_lock_timeout_names_path(db, hold_lock):
    hold_lock(5)
    started = time.monotonic()
    with pytest.raises(DatabaseError) as info:
        Database(db.path, lock_timeout=0.3).query("SELECT 1")
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert str(db.path) in message
    assert "lock" in message.lower()
    assert "try again" in message


def test_database_lock_timeout_on_write(db, hold_lock):
    hold_lock(5)
    with pytest.raises(DatabaseError, match="cannot open"):
        Database(db.path, lock_timeout=0.3).store(documents=[document("a")])
