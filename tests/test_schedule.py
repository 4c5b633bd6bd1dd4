"""The schedule daemon for real: a process running crawl processes against a local site, stopped by signals."""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from crawler.storage import Database
from crawler.demo.replay.server import ReplayServer
from helpers import REPO, busy_site, run_cli, wait_for, write_topic

OPTIONS = ("--set", "NLP_ENABLED=false", "--set", "AUTOTHROTTLE_ENABLED=false")


class Daemon:
    """``seedtrack schedule`` in its own process, its stderr in a file."""

    def __init__(self, tmp_path, topic, db, *extra: str):
        self.err_path = tmp_path / f"daemon-{time.monotonic_ns()}.err"
        self.err = open(self.err_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler", "schedule", "--topic", str(topic), "--db", str(db), *OPTIONS, *extra],
            stdout=subprocess.DEVNULL, stderr=self.err, cwd=REPO)

    def log(self) -> str:
        return self.err_path.read_text(encoding="utf-8")

    def stop(self, signum=signal.SIGTERM, timeout: float = 120) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.err.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.err.close()


@pytest.fixture
def site(tmp_path):
    with ReplayServer(busy_site(tmp_path / "site", {"/gone.xml": {"status": 404, "body": "gone"}})) as server:
        yield server


def runs(db, source=None) -> list[tuple]:
    if not db.exists():
        return []
    sql = "SELECT source, status, started_at, finished_at FROM crawl_runs"
    return Database(db).query(sql + (" WHERE source = $s" if source else "") + " ORDER BY started_at",
                              {"s": source} if source else None)[1]


def schedule_row(db, source) -> dict:
    columns, found = Database(db).query("SELECT * FROM schedule WHERE source = $s", {"s": source})
    return dict(zip(columns, found[0])) if found else {}


def test_schedule_runs_two_sources_at_their_intervals_and_stops_on_sigterm(site, tmp_path):
    topic = write_topic(tmp_path / "topic.toml", [
        {"name": "alpha", "kind": "feed", "url": site.url + "/feed.xml", "interval": "3s"},
        {"name": "beta", "kind": "page", "url": site.url + "/b.html", "interval": "4s"},
    ])
    db = tmp_path / "sched.duckdb"
    daemon = Daemon(tmp_path, topic, db)
    try:
        wait_for(lambda: {s for s, *_ in runs(db)} == {"alpha", "beta"} and
                 all(len(runs(db, s)) >= 2 for s in ("alpha", "beta")), what="two runs of each source")
        second = run_cli("schedule", "--topic", topic, "--db", db, *OPTIONS, timeout=60)
        assert second.returncode != 0 and "another `seedtrack schedule`" in second.stderr
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    for source in ("alpha", "beta"):
        done = runs(db, source)
        assert all(later[2] >= earlier[3] for earlier, later in zip(done, done[1:])), "two runs of one source overlapped"
        assert all(status in ("ok", "shutdown") for _s, status, *_ in done)
    _columns, [(total, distinct)] = Database(db).query("SELECT count(*), count(DISTINCT id) FROM documents")
    assert total == distinct == 2
    log = (tmp_path / "seedtrack.log").read_text(encoding="utf-8")  # the rotating log beside the database
    assert "alpha: crawl started" in log and "beta: crawl finished" in log and log.rstrip().endswith("stopped")
    assert "alpha: crawl started" in daemon.log()  # and stderr

    status = run_cli("status", "--db", db)
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line.split() for line in status.stdout.splitlines() if line[:5] in ("alpha", "beta ")}
    assert set(lines) == {"alpha", "beta"} and all(line[3] in ("ok", "shutdown") for line in lines.values())
    assert "documents: 2 (2 article)" in status.stdout
    data = json.loads(run_cli("status", "--db", db, "--format", "json").stdout)
    assert {row["source"] for row in data} == {"alpha", "beta"}
    assert all(row["failures"] == 0 and row["next_run"] for row in data)


def test_schedule_keeps_its_schedule_across_restarts_and_coalesces_missed_runs(site, tmp_path):
    topic = write_topic(tmp_path / "topic.toml", [
        {"name": "alpha", "kind": "feed", "url": site.url + "/feed.xml", "interval": "1h"}])
    db = tmp_path / "restart.duckdb"
    daemon = Daemon(tmp_path, topic, db)
    try:
        wait_for(lambda: len(runs(db)) == 1, what="the first run")  # a new source runs at once
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    planned = schedule_row(db, "alpha")["next_run_at"]
    assert timedelta(minutes=55) < planned - datetime.now(timezone.utc).replace(tzinfo=None) <= timedelta(hours=1)

    daemon = Daemon(tmp_path, topic, db)  # restarted: the next run stays an hour after the first
    try:
        wait_for(lambda: "scheduling 1 sources" in daemon.log(), what="the restart")
        time.sleep(3)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert len(runs(db)) == 1 and "crawl started" not in daemon.log()
    assert schedule_row(db, "alpha")["next_run_at"] == planned

    # Three hours of downtime: three missed runs, coalesced into one when the daemon is back.
    late = datetime.now(timezone.utc) - timedelta(hours=3, minutes=1)
    with Database(db).writing() as con:
        state = pickle.loads(con.execute("SELECT job_state FROM schedule WHERE source = 'alpha'").fetchone()[0])
        state["next_run_time"] = late
        con.execute("UPDATE schedule SET job_state = ? WHERE source = 'alpha'", [pickle.dumps(state)])
    daemon = Daemon(tmp_path, topic, db)
    try:
        wait_for(lambda: "alpha: crawl finished" in daemon.log(), what="the coalesced run")
        time.sleep(3)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert daemon.log().count("alpha: crawl started") == 1
    assert len(runs(db)) == 2
    assert schedule_row(db, "alpha")["next_run_at"] > datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(minutes=55)


def test_schedule_pauses_a_source_after_its_error_budget(site, tmp_path):
    topic = write_topic(tmp_path / "topic.toml", [
        {"name": "broken", "kind": "feed", "url": site.url + "/gone.xml", "interval": "2s"}])
    db = tmp_path / "budget.duckdb"
    daemon = Daemon(tmp_path, topic, db, "--set", "SCHEDULE_ERROR_BUDGET=2")
    try:
        wait_for(lambda: db.exists() and schedule_row(db, "broken").get("paused_reason"), what="the pause")
        count = len(runs(db))
        time.sleep(5)  # more than two intervals: a paused source does not run
        assert len(runs(db)) == count == 2
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    status = run_cli("status", "--db", db)
    row = next(line for line in status.stdout.splitlines() if line.startswith("broken "))
    assert row.split()[3] == "failed" and "paused" in row.split()
    assert "broken: paused after 2 failed runs in a row" in status.stdout

    daemon = Daemon(tmp_path, topic, db, "--set", "SCHEDULE_ERROR_BUDGET=2", "--resume", "broken")
    try:
        wait_for(lambda: len(runs(db)) == 3, what="a run after --resume")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert "broken resumed" in daemon.log()


SLOW_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title><link>/</link>
""" + "".join(f"<item><title>Seedance 2.0 story {n}</title><link>/s{n}.html</link></item>\n" for n in range(12)) + "</channel></rss>"


def test_schedule_sigint_lets_the_running_crawl_write_its_batch(tmp_path):
    site = busy_site(tmp_path / "site", {f"/s{n}.html": {"file": "a.html", "delay": 0.6} for n in range(12)})
    (site / "slow.xml").write_text(SLOW_FEED, encoding="utf-8")
    db = tmp_path / "sigint.duckdb"
    with ReplayServer(site) as server:
        topic = write_topic(tmp_path / "topic.toml", [
            {"name": "slow", "kind": "feed", "url": server.url + "/slow.xml", "interval": "1h"}])
        # rows stay buffered until the crawl closes: only a clean stop writes them
        daemon = Daemon(tmp_path, topic, db, "--set", "STORE_BATCH_SIZE=1000", "--set", "STORE_FLUSH_SECONDS=600",
                        "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        try:
            wait_for(lambda: sum(path.startswith("/s") for _m, path, _h in server.requests) >= 5, what="pages fetched")
            assert daemon.stop(signal.SIGINT) == 0
        finally:
            daemon.kill()
        served = sum(path.startswith("/s") for _m, path, _h in server.requests)  # the feed and its pages
    [(source, status, _started, _finished)] = runs(db)
    assert (source, status) == ("slow", "shutdown")
    _columns, [(stored,)] = Database(db).query("SELECT count(*) FROM documents")
    assert stored == served - 1 >= 4  # every page fetched before the stop (the feed aside), written on close
    assert "slow: crawl stopped for shutdown" in daemon.log()


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [("0 9 * * 1-5", {0, 1, 2, 3, 4}), ("30 6 * * 0", {6}), ("0 12 * * 7", {6}), ("0 0 * * sat,sun", {5, 6}),
     ("0 0 * * */3", {6, 2, 5}), ("0 0 * * *", set(range(7)))],
)
def test_schedule_cron_weekdays_count_sunday_as_zero(cron, weekdays):
    from crawler.app.scheduler import trigger_for
    from crawler.topic import Source

    trigger = trigger_for(Source(name="s", kind="feed", url="http://example.com/", cron=cron))
    when, seen = datetime(2026, 3, 2, tzinfo=timezone.utc), set()  # a Monday
    for _ in range(30):
        when = trigger.get_next_fire_time(None, when + timedelta(minutes=1))
        seen.add(when.weekday())  # Python's weekday: Monday 0
    assert seen == weekdays
