"""Nothing lost, nothing doubled: queries during a real crawl, and a crawl killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from crawler.storage import Database
from crawler.demo.replay.server import ReplayServer
from crawler.demo.replay.site import build_site
from helpers import REPO, run_cli, site_sources, wait_for, write_topic

# Small batches written often, and a paced crawl: many write transactions while the queries run.
SLOW = ("--set", "NLP_ENABLED=false", "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "STORE_BATCH_SIZE=3",
        "--set", "STORE_FLUSH_SECONDS=0.2", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=3", "--set", "BACKOFF_BASE_DELAY=0.2")
QUERIES = [
    "SELECT count(*) AS n FROM documents",
    "SELECT source, count(*) AS n FROM documents GROUP BY source ORDER BY source",
    "SELECT day, sum(documents) AS n FROM timeline GROUP BY day ORDER BY day",
    "SELECT status, count(*) AS n FROM crawl_runs GROUP BY status",
]


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("fault-site")
    manifest = build_site(root, articles=60)
    with ReplayServer(root) as server:
        yield server, write_topic(root.parent / "fault-topic.toml", site_sources(server, manifest)), manifest


def crawl(topic, db) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--topic", str(topic), "--db", str(db), "-q", *SLOW],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def documents(db) -> list[tuple]:
    return Database(db).query("SELECT id, text_source FROM documents ORDER BY id")[1]


@contextmanager
def slow_pages(server, manifest, delay: float):
    """The site's article pages answer after ``delay`` seconds while the block runs."""
    routes_file = server.root / "_routes.json"
    routes = json.loads(routes_file.read_text(encoding="utf-8"))
    slow = {path: {**routes.get(path, {}), "delay": delay}
            for article in manifest["articles"] for path in (article["path"].split("?")[0], article["canonical_path"])}
    routes_file.write_text(json.dumps({**routes, **slow}), encoding="utf-8")
    try:
        yield
    finally:
        routes_file.write_text(json.dumps(routes), encoding="utf-8")


@pytest.fixture(scope="module")
def reference(big_site, tmp_path_factory):
    """A full crawl of the site while `seedtrack sql` runs in a loop: (db, the query results)."""
    server, topic, manifest = big_site
    db = tmp_path_factory.mktemp("reference") / "ref.duckdb"
    Database(db).migrate()  # the queries start with the crawl
    results: list[subprocess.CompletedProcess] = []
    stop = threading.Event()

    def query_loop():  # while the crawl runs, and on until ten queries in all (a busy machine runs few)
        n = 0
        while not stop.is_set() or len(results) < 10:
            results.append(run_cli("sql", QUERIES[n % len(QUERIES)], "--db", db, "--format", "csv", timeout=120))
            n += 1

    # pages answer a little slowly, so that the crawl outlasts many queries even on a fast machine
    with slow_pages(server, manifest, delay=0.1):
        process = crawl(topic, db)
        threads = [threading.Thread(target=query_loop) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            _out, err = process.communicate(timeout=300)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert process.returncode == 0, err
    return db, results


def test_faults_sql_in_a_loop_during_a_crawl_never_fails(reference):
    db, results = reference
    failed = [r.stderr for r in results if r.returncode != 0]
    assert failed == []
    counts = [int(r.stdout.splitlines()[1]) for r in results if r.args[4] == QUERIES[0]]
    assert counts == sorted(counts) and counts[-1] <= len(documents(db))  # saw the crawl grow, never shrink
    assert len(set(counts)) > 1, "the queries did not run while the crawl was writing"


def test_faults_sigkill_mid_crawl_loses_and_doubles_nothing(big_site, reference, tmp_path):
    server, topic, manifest = big_site
    ref_db, _results = reference
    expected = documents(ref_db)
    db = tmp_path / "killed.duckdb"
    # pages answer slowly for this crawl, so that the kill surely lands in the middle of it
    with slow_pages(server, manifest, delay=0.4):
        process = crawl(topic, db)
        try:
            seen = wait_for(lambda: db.exists() and len(found := documents(db)) >= 10 and found, timeout=240,
                            what="documents before the kill")
            assert process.poll() is None, "the crawl ended before it could be killed"
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == -signal.SIGKILL
    after = documents(db)  # the file opens (its write-ahead log replayed)
    assert len(after) == len({doc_id for doc_id, _ in after}) < len(expected)
    assert set(seen) <= set(after)  # every document committed before the kill, once
    again = run_cli("crawl", "--topic", topic, "--db", db, "-q", *SLOW)
    assert again.returncode == 0, again.stderr
    assert documents(db) == expected  # the next run completed what was missing, nothing twice
    _columns, [(stored, distinct)] = Database(db).query("SELECT count(*), count(DISTINCT url) FROM documents")
    assert stored == distinct


def test_faults_reads_and_writes_of_one_process_take_turns(tmp_path):
    """DuckDB refuses a read-only connection beside a read-write one in one process (and the reverse): the
    schedule daemon's threads did both at once, which ended APScheduler's thread in the soak benchmark."""
    db = Database(tmp_path / "turns.duckdb")
    db.migrate()
    opened, errors = threading.Event(), []

    def read():
        with db.reading() as con:
            opened.set()
            time.sleep(0.3)
            con.execute("SELECT count(*) FROM documents").fetchone()

    reader = threading.Thread(target=read)
    reader.start()
    opened.wait(30)
    try:
        db.record_run({"run_id": "r", "source": "s", "source_kind": "feed", "started_at": time.strftime("%Y-%m-%d"),
                       "status": "ok", "fetched": 0, "new": 0, "duplicates": 0, "filtered": 0, "errors": 0})
    except Exception as exc:  # noqa: BLE001 (the failure under test is DuckDB's ConnectionException)
        errors.append(exc)
    reader.join()
    assert errors == []
    assert db.query("SELECT count(*) FROM crawl_runs")[1] == [(1,)]
