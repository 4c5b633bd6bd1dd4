"""Storage at scale on real DuckDB files: the stored ``day``, the daily aggregates behind ``timeline`` and
``frame_timeline`` equal to the same figures computed from scratch after every kind of change, latest
engagement kept as a table, an older file migrated and backfilled, and the writer's kept connection (a
reader in another process gets in; a SIGKILL loses no committed batch)."""

import signal
import subprocess
import sys
import textwrap
from datetime import datetime

import duckdb
import pytest

from crawler.storage import Database, corrections, daily, queries
from crawler.storage.exports import export
from crawler.storage.schema import MIGRATIONS
from helpers import REPO, run_cli, wait_for

# The views' definitions before schema version 8, computed over every document and snapshot: the reference.
FROM_SCRATCH_TIMELINE = """
    WITH eng AS (SELECT * FROM engagement QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY observed_at DESC) = 1)
    SELECT CAST(COALESCE(published_at, fetched_at) AS DATE) AS day, source, count(*), count(DISTINCT story_id),
           count(*) FILTER (WHERE kind = 'article'), count(*) FILTER (WHERE kind = 'post'),
           count(*) FILTER (WHERE kind = 'comment'), count(*) FILTER (WHERE kind = 'video'), count(DISTINCT site),
           coalesce(sum(eng.likes), 0), coalesce(sum(eng.reposts), 0), coalesce(sum(eng.replies), 0),
           coalesce(sum(1 + coalesce(eng.likes, 0) + coalesce(eng.reposts, 0) + coalesce(eng.replies, 0)), 0),
           count(*) FILTER (WHERE stance = 'favor'), count(*) FILTER (WHERE stance = 'against'),
           count(*) FILTER (WHERE stance = 'neutral'), round(avg(stance_score), 4),
           round(2.0 * least(count(*) FILTER (WHERE stance = 'favor'), count(*) FILTER (WHERE stance = 'against'))
                 / nullif(count(stance), 0), 4)
    FROM documents LEFT JOIN eng ON eng.doc_id = documents.id GROUP BY ALL ORDER BY day, source
"""
FROM_SCRATCH_FRAMES = """
    SELECT CAST(COALESCE(d.published_at, d.fetched_at) AS DATE) AS day, f.frame, count(*),
           count(*) FILTER (WHERE f.stance = 'favor'), count(*) FILTER (WHERE f.stance = 'against'),
           count(*) FILTER (WHERE f.stance = 'neutral'), round(avg(f.score), 4),
           round(2.0 * least(count(*) FILTER (WHERE f.stance = 'favor'),
                             count(*) FILTER (WHERE f.stance = 'against')) / count(*), 4)
    FROM frames f JOIN documents d ON d.id = f.doc_id GROUP BY ALL ORDER BY day, frame
"""


def document(doc_id: str, **fields) -> dict:
    row = {
        "id": doc_id, "url": f"https://news.example/{doc_id}", "source": "verge-ai", "source_kind": "feed",
        "kind": "article", "title": f"Seedance story {doc_id}", "text": "Seedance 2.0 text", "text_source": "feed",
        "site": "news.example", "published_at": datetime(2026, 2, 12, 9, 0), "fetched_at": datetime(2026, 2, 14, 8, 0),
        "lang": "en", "analysed": True, "run_id": "run-1",
    }
    return {**row, **fields}


def entity(doc_id: str, text: str = "ByteDance") -> dict:
    return {"doc_id": doc_id, "text": text, "label": "ORG", "norm": text, "start_char": 0, "end_char": len(text)}


def aggregates(database: Database) -> tuple[list[tuple], list[tuple]]:
    """(timeline, frame_timeline) as the views give them."""
    return database.query("SELECT * FROM timeline")[1], database.query("SELECT * FROM frame_timeline")[1]


def from_scratch(database: Database) -> tuple[list[tuple], list[tuple]]:
    return database.query(FROM_SCRATCH_TIMELINE)[1], database.query(FROM_SCRATCH_FRAMES)[1]


def stale_days(database: Database) -> list[tuple]:
    """(table, rows) whose ``day`` is not their document's, for the tables that carry it; none expected."""
    return database.query("""
        SELECT 'frames', count(*) FROM frames f JOIN documents d ON d.id = f.doc_id WHERE f.day IS DISTINCT FROM d.day
        UNION ALL
        SELECT 'engagement_current', count(*) FROM engagement_current e JOIN documents d ON d.id = e.doc_id
        WHERE e.day IS DISTINCT FROM d.day""")[1]


def frame(doc_id: str, name: str, stance: str = "favor", score: float = 0.5) -> dict:
    return {"doc_id": doc_id, "frame": name, "stance": stance, "score": score, "confidence": 0.9}


def snapshot(doc_id: str, likes: int, observed_at: datetime, run_id: str) -> dict:
    return {"doc_id": doc_id, "observed_at": observed_at, "likes": likes, "reposts": likes // 2, "replies": 1,
            "views": None, "score": None, "run_id": run_id}


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "scale.duckdb", lock_timeout=10)
    database.migrate()
    database.store(
        documents=[
            document("a", stance="favor", stance_score=0.8, text_source="page"),
            document("b", stance="against", stance_score=-0.6, site="other.example", text_source="page"),
            document("c", published_at=None, fetched_at=datetime(2026, 2, 15, 23, 30), kind="post",
                     source="bluesky", stance="neutral", stance_score=0.0),
            document("d", published_at=datetime(2026, 2, 13, 1, 0), stance="favor", stance_score=0.2),
        ],
        entities=[entity("a"), entity("b"), entity("d")],
        frames=[frame("a", "economic"), frame("b", "economic", "against", -0.5), frame("d", "legal")],
        engagement=[snapshot("c", 10, datetime(2026, 2, 15, 23, 45), "run-1")],
    )
    return database


def test_storage_day_is_set_on_write_from_published_or_fetched(db):
    _cols, rows = db.query("SELECT id, day FROM documents ORDER BY id")
    assert [(i, str(day)) for i, day in rows] == [
        ("a", "2026-02-12"), ("b", "2026-02-12"), ("c", "2026-02-15"), ("d", "2026-02-13")]


def test_storage_aggregates_equal_from_scratch_after_writes(db):
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    day = {(str(r[0]), r[1]): r for r in timeline}
    assert day[("2026-02-12", "verge-ai")][2:4] == (2, 1)  # documents; stories: one text, one story
    assert day[("2026-02-12", "verge-ai")][8] == 2  # sites
    assert day[("2026-02-15", "bluesky")][9] == 10  # likes of the latest snapshot
    # a second batch on a day already aggregated: the day's groups are recomputed, not added to
    db.store(documents=[document("e", site="news.example", stance="against", stance_score=-1.0)],
             frames=[frame("e", "economic", "against", -1.0)])
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    day = {(str(r[0]), r[1]): r for r in timeline}
    assert day[("2026-02-12", "verge-ai")][2] == 3 and day[("2026-02-12", "verge-ai")][8] == 2


def test_storage_aggregates_follow_a_retag(db):
    db.replace_analysis([{"id": "a", "analysed": True, "stance": "against", "stance_score": -0.9,
                          "stance_confidence": 0.7, "stance_evidence": [], "nlp_version": "v2"}],
                        frames=[frame("a", "safety", "against", -0.9)])
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    assert ("safety" in {r[1] for r in frames}) and not any(r[1] == "economic" and r[3] == 1 for r in frames)


def test_storage_aggregates_follow_a_correction(db):
    with db.writing() as con:
        corrections.record(con, "b", "favor", ["cultural"])
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    assert stale_days(db) == [("frames", 0), ("engagement_current", 0)]
    day = {(str(r[0]), r[1]): r for r in timeline}
    assert day[("2026-02-12", "verge-ai")][13:15] == (2, 0)  # favor, against
    assert ("cultural", 1) in {(r[1], r[3]) for r in frames}


def test_storage_aggregates_follow_restory(db):
    with db.writing() as con:  # documents moved between stories (as a merge or a restory does) ...
        con.execute("UPDATE documents SET story_id = hash(id) % 1000")
    assert aggregates(db) != from_scratch(db)  # ... leave the aggregate stale until it is refreshed
    result = run_cli("restory", "--db", db.path)
    assert result.returncode == 0, result.stderr
    assert aggregates(db) == from_scratch(db)


def test_storage_latest_engagement_is_kept_on_write(db):
    db.store(engagement=[snapshot("c", 99, datetime(2026, 2, 16, 8, 0), "run-2")])
    db.store(engagement=[snapshot("c", 3, datetime(2026, 2, 15, 23, 50), "run-0")])  # older: not the latest
    _cols, latest = db.query("SELECT doc_id, likes FROM engagement_latest")
    assert latest == [("c", 99)]
    assert db.query("SELECT count(*) FROM engagement")[1] == [(3,)]
    assert aggregates(db) == from_scratch(db)
    db.store(engagement=[snapshot("nowhere", 5, datetime(2026, 2, 16), "run-2")])  # no such document: not kept
    assert db.query("SELECT count(*) FROM engagement WHERE doc_id = 'nowhere'")[1] == [(0,)]


def test_storage_alias_supersession_and_upgrade_refresh_their_days(db):
    # "d" was kept from a feed entry (13 Feb); its page turns up under another id and a later date
    db.store(documents=[document("d2", published_at=datetime(2026, 2, 17, 9, 0), text_source="page")],
             aliases=[{"alias_id": "d", "doc_id": "d2", "url": "https://news.example/d"}],
             frames=[frame("d2", "legal")])
    assert db.query("SELECT count(*) FROM documents WHERE id = 'd'")[1] == [(0,)]
    assert db.query("SELECT count(*) FROM frames WHERE doc_id = 'd'")[1] == [(0,)]
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    assert "2026-02-13" not in {str(r[0]) for r in timeline}
    # "c" (a feed entry) upgraded by its page, published another day: both days recomputed
    db.store(documents=[document("c", published_at=datetime(2026, 2, 18, 9, 0), text_source="page",
                                 source="bluesky", kind="post")], frames=[frame("c", "economic")])
    timeline, frames = aggregates(db)
    assert (timeline, frames) == from_scratch(db)
    assert "2026-02-15" not in {str(r[0]) for r in timeline} and "2026-02-18" in {str(r[0]) for r in timeline}
    assert stale_days(db) == [("frames", 0), ("engagement_current", 0)]  # its latest snapshot moved with it
    assert db.query("SELECT day FROM engagement_current WHERE doc_id = 'c'")[1] == [(datetime(2026, 2, 18).date(),)]


def test_storage_second_copy_in_a_batch_upgrades_the_first(db):
    new = db.store(documents=[document("g", title="feed entry"), document("g", title="page", text_source="page")],
                   frames=[frame("g", "legal")])
    assert new == {"g"}
    assert db.query("SELECT title, text_source FROM documents WHERE id = 'g'")[1] == [("page", "page")]
    assert aggregates(db) == from_scratch(db) and stale_days(db) == [("frames", 0), ("engagement_current", 0)]


def test_storage_new_documents_keep_their_derived_rows_and_leave_filtered(db):
    db.store(filtered=[{"id": "f", "url": "https://news.example/f", "source": "verge-ai", "reason": "off topic",
                        "seen_at": datetime(2026, 2, 12), "run_id": "run-1", "text_source": "page"}])
    new = db.store(documents=[document("f", text_source="page")], entities=[entity("f")], frames=[frame("f", "legal")])
    assert new == {"f"}
    assert db.query("SELECT count(*) FROM entities WHERE doc_id = 'f'")[1] == [(1,)]
    assert db.query("SELECT count(*) FROM filtered WHERE id = 'f'")[1] == [(0,)]
    # stored again unchanged (a duplicate): nothing written, its rows kept
    assert db.store(documents=[document("f", text_source="page")], entities=[entity("f", "Other")]) == set()
    assert db.query("SELECT text FROM entities WHERE doc_id = 'f'")[1] == [("ByteDance",)]


def test_storage_refresh_of_every_day_equals_the_kept_aggregate(db):
    kept = aggregates(db)
    with db.writing() as con:
        assert daily.refresh(con) == 3
    assert aggregates(db) == kept


def test_storage_older_file_is_migrated_and_backfilled(tmp_path):
    path = tmp_path / "v7.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP)")
    for version, _title, statements in MIGRATIONS:
        if version <= 7:
            for statement in statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    for doc_id, published, kind, stance in (("x", "2026-01-05 10:00", "article", "favor"),
                                             ("y", None, "post", "against")):
        con.execute("INSERT INTO documents (id, url, source, source_kind, kind, published_at, fetched_at, stance, "
                    "stance_score, story_id, site) VALUES (?, ?, 's', 'feed', ?, ?, '2026-01-07 22:00', ?, 0.5, 1, 'e')",
                    [doc_id, f"https://e/{doc_id}", kind, published, stance])
    con.execute("INSERT INTO frames VALUES ('x', 'legal', 'favor', 0.5, 1.0)")
    con.execute("INSERT INTO engagement VALUES ('y', '2026-01-07 22:00', 4, 1, 0, NULL, NULL, 'r1'), "
                "('y', '2026-01-08 09:00', 7, 2, 1, NULL, NULL, 'r2')")
    con.close()
    database = Database(path)
    _cols, rows = database.query("SELECT id, day FROM documents ORDER BY id")
    assert [(i, str(d)) for i, d in rows] == [("x", "2026-01-05"), ("y", "2026-01-07")]
    assert database.query("SELECT doc_id, likes FROM engagement_latest")[1] == [("y", 7)]
    timeline, frames = aggregates(database)
    assert (timeline, frames) == from_scratch(database) and len(timeline) == 2 and len(frames) == 1
    assert stale_days(database) == [("frames", 0), ("engagement_current", 0)]  # schema 10's days backfilled


def test_storage_export_filters_on_the_stored_day(db, tmp_path):
    out = tmp_path / "docs.csv"
    # "c" has no published_at: it is filtered (and sorted) on the day it was fetched
    assert export(db, "documents", out, "csv", since="2026-02-13", until="2026-02-15") == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["d", "c"]
    assert "day" in lines[0].split(",")
    assert export(db, "documents", tmp_path / "none.parquet", "parquet", since="2026-02-16") == 0


WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timedelta
    from crawler.storage import Database
    db = Database(sys.argv[1], keep_open=True)
    for n in range(int(sys.argv[2])):
        day = datetime(2026, 1, 1) + timedelta(days=n % 30)
        db.store(documents=[{"id": f"{n}-{i}", "url": f"https://e/{n}-{i}", "source": "s", "source_kind": "feed",
                             "kind": "article", "text_source": "page", "analysed": False, "published_at": day, "fetched_at": day}
                            for i in range(20)])
        print(n, flush=True)  # the batch is committed
        time.sleep(float(sys.argv[3]))
""")


def test_storage_kept_connection_lets_a_reader_in_and_survives_sigkill(tmp_path):
    path = tmp_path / "kept.duckdb"
    Database(path).migrate()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "100000", "0.01"], stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    try:
        assert writer.stdout.readline().strip() == "0"
        counts = []
        for _ in range(3):  # a reader in another process gets in while batches keep coming
            result = run_cli("sql", "SELECT count(*) FROM documents", "--db", path, "--format", "csv", timeout=60)
            assert result.returncode == 0, result.stderr
            counts.append(int(result.stdout.splitlines()[1]))
        assert counts == sorted(counts) and counts[-1] > counts[0]
        assert writer.poll() is None, "the writer stopped"
        committed = int(wait_for(lambda: writer.stdout.readline().strip(), timeout=30, what="a batch"))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    stored = Database(path).query("SELECT count(*) FROM documents")[1][0][0]
    assert stored >= (committed + 1) * 20  # every batch it said it committed, in the log
    assert aggregates(Database(path)) == from_scratch(Database(path))


def test_storage_kept_connection_gives_way_to_this_process_reads(tmp_path):
    database = Database(tmp_path / "kept.duckdb", keep_open=True)
    database.store(documents=[document("a")])
    # the connection is still open: a read in this process closes it first (DuckDB refuses both at once)
    assert Database(database.path).query("SELECT count(*) FROM documents")[1] == [(1,)]
    database.store(documents=[document("b")])  # and the next write opens it again
    database.release()
    con = duckdb.connect(str(database.path), read_only=True)  # nothing left open
    try:
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (2,)
    finally:
        con.close()


def test_storage_status_counts_kinds_from_the_aggregate(db):
    assert queries.documents_by_kind(db) == [("article", 3), ("post", 1)]
    assert db.query("SELECT kind, count(*) FROM documents GROUP BY kind ORDER BY count(*) DESC, kind")[1] == \
        queries.documents_by_kind(db)
