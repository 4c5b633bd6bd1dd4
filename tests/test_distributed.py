"""Several machines: `seedtrack crawl --redis` workers share one frontier on a real redis-server, and
`seedtrack load` writes their rows to DuckDB once; against the replay site on 127.0.0.1."""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from crawler.demo.replay.server import ReplayServer
from crawler.demo.replay.site import build_site
from crawler.distributed import messages
from crawler.distributed.keys import Keys
from crawler.storage import Database
from helpers import REPO, rows, run_cli, site_sources, wait_for, write_topic

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="redis-server is not installed")

FAST = ("-q", "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "NLP_ENABLED=false", "--set", "BACKOFF_BASE_DELAY=0.1",
        "--set", "REDIS_WORKER_TIMEOUT=3", "--set", "STORE_FLUSH_SECONDS=0.3")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server on a free port; ``restart()`` stops and starts it on the same port and files."""

    def __init__(self, root: Path, durable: bool = False):
        self.root, self.port, self.durable = root, free_port(), durable
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> "RedisServer":
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"])
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--dir", str(self.root), *persistence], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), 20, "redis-server to answer")
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@contextmanager
def redis_server(root: Path, durable: bool = False):
    server = RedisServer(root, durable).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The replay site's files (feeds and sitemaps only: sources that need no API keys)."""
    root = tmp_path_factory.mktemp("dist-site")
    manifest = build_site(root, articles=24, seed=13)
    return root, manifest


def serve(root, manifest, topic_path: Path, delay: float = 0.0):
    """A fresh server of the site (each counts its own requests), and a topic of its feed sources."""
    if delay:  # on a copy: the module's other tests keep the quick site
        root = Path(shutil.copytree(root, topic_path.parent / "slow-site"))
        routes_file = root / "_routes.json"
        routes = json.loads(routes_file.read_text(encoding="utf-8"))
        slow = {path: {**routes.get(path, {}), "delay": delay}
                for a in manifest["articles"] for path in (a["path"].split("?")[0], a["canonical_path"])}
        routes_file.write_text(json.dumps({**routes, **slow}), encoding="utf-8")
    server = ReplayServer(root).start()
    sources = [s for s in site_sources(server, manifest) if s["kind"] in ("feed", "sitemap")]
    return server, write_topic(topic_path, sources)


def page_counts(server) -> Counter:
    """Requests per path, robots.txt left out (each crawl process reads it once per host, by design)."""
    return Counter(path for _method, path, _headers in server.requests if not path.startswith("/robots.txt"))


def stored(db: Path) -> list[tuple]:
    return sorted((urlsplit(r["url"]).path, r["text_source"]) for r in rows(db, "SELECT url, text_source FROM documents"))


@pytest.fixture(scope="module")
def reference(site, tmp_path_factory):
    """The one-machine crawl of the site: its requests per path and its documents."""
    root, manifest = site
    tmp = tmp_path_factory.mktemp("dist-reference")
    server, topic = serve(root, manifest, tmp / "topic.toml")
    try:
        db = tmp / "one.duckdb"
        result = run_cli("crawl", "--topic", topic, "--db", db, *FAST)
        assert result.returncode == 0, result.stderr
        return page_counts(server), stored(db), rows(db, "SELECT count(*) AS n FROM errors")[0]["n"]
    finally:
        server.stop()


def worker(topic, db, url, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--topic", str(topic), "--db", str(db),
                             "--redis", url, *FAST, *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def loader(db, url, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", "load", "--redis", url, "--db", str(db), "-q", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 180) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def test_distributed_two_workers_fetch_each_page_once_and_store_what_one_machine_does(site, reference, tmp_path):
    root, manifest = site
    counts, documents, errors = reference
    server, topic = serve(root, manifest, tmp_path / "topic.toml")
    db = tmp_path / "shared.duckdb"
    with redis_server(tmp_path) as rs:
        keys = Keys("seedtrack:shared")
        load = loader(db, rs.url)  # runs until SIGTERM
        wait_for(lambda: rs.client().exists(keys.state_ready), 60, "the loader's snapshot")
        workers = [worker(topic, db, rs.url) for _ in range(2)]
        outputs = [finish(w) for w in workers]
        wait_for(lambda: rs.client().xlen(keys.items) == 0, 60, "the loader to drain the stream")
        load.send_signal(signal.SIGTERM)
        assert "loaded" in finish(load, 30)
        status = run_cli("status", "--db", db, "--redis", rs.url)
    server.stop()
    assert page_counts(server) == counts  # every page as often as one machine fetches it (retries included)
    assert max(counts.values()) >= 1 and sum(counts.values()) > 20
    assert stored(db) == documents
    assert rows(db, "SELECT count(*) AS n FROM errors")[0]["n"] == errors
    runs = rows(db, "SELECT source, count(*) AS n, sum(fetched) AS fetched FROM crawl_runs GROUP BY source")
    assert {r["n"] for r in runs} == {2}  # each worker records its run of each source
    assert sum(r["fetched"] for r in runs) == sum(counts.values())
    assert all("pushed to the item stream" in out for out in outputs)
    assert status.returncode == 0, status.stderr
    assert "0 requests queued, 0 in flight, 0 items waiting" in status.stdout
    assert ", 0 documents past dedup not yet sent by a worker" in status.stdout
    assert status.stdout.count(": stopped, last seen") == 2


def test_distributed_worker_killed_mid_crawl_has_its_requests_and_unsent_rows_crawled_by_the_other(
        site, reference, tmp_path):
    root, manifest = site
    _counts, documents, _errors = reference
    server, topic = serve(root, manifest, tmp_path / "topic.toml", delay=0.6)
    db = tmp_path / "killed.duckdb"
    keys = Keys("seedtrack:killed")
    with redis_server(tmp_path) as rs:
        client = rs.client()
        finish(loader(db, rs.url, "--until-idle", "0"))  # the crawl state, published; the rows are loaded at the end
        # the victim keeps its rows in its store stage: they have passed dedup and are not yet on the stream
        victim = worker(topic, db, rs.url, "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "--set", "STORE_FLUSH_SECONDS=600")
        survivor = worker(topic, db, rs.url, "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=2")

        def victim_storing():
            return [name for name in client.scan_iter(keys.storing("*"))
                    if f"-{victim.pid}-" in (client.get(name) or b"").decode()]
        wait_for(victim_storing, 90, "the first worker to have documents past dedup")
        victim.send_signal(signal.SIGSTOP)
        unsent = victim_storing()
        in_flight = [value for name in client.smembers(keys.inflight_index) if f"-{victim.pid}-" in name.decode()
                     for value in client.hvals(name)]
        status = run_cli("status", "--db", db, "--redis", rs.url)
        shown = re.search(r"(\d+) documents past dedup not yet sent by a worker", status.stdout)
        assert shown and int(shown.group(1)) >= 1, status.stdout + status.stderr  # the stopped victim's, at least
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert unsent and in_flight  # rows past dedup not on the stream; their requests still leased
        _out, err = survivor.communicate(timeout=180)
        assert survivor.returncode == 0, err[-3000:]
        assert "stopped beating: its" in err  # the survivor queued the victim's requests again
        finish(loader(db, rs.url, "--until-idle", "3"))
        assert not list(client.scan_iter(keys.storing("*")))  # every document reached the stream
    server.stop()
    assert stored(db) == documents  # nothing lost, nothing doubled
    assert rows(db, "SELECT count(*) - count(DISTINCT id) AS d FROM documents")[0]["d"] == 0


def test_distributed_loader_killed_mid_batch_loses_and_doubles_nothing(site, reference, tmp_path):
    root, manifest = site
    _counts, documents, errors = reference
    server, topic = serve(root, manifest, tmp_path / "topic.toml")
    db = tmp_path / "reload.duckdb"
    keys = Keys("seedtrack:reload")
    with redis_server(tmp_path) as rs:
        client = rs.client()
        refused = run_cli("crawl", "--topic", topic, "--db", db, "--redis", rs.url, *FAST)
        assert refused.returncode == 2 and "start `seedtrack load --redis URL" in refused.stderr  # no state yet
        publish = loader(db, rs.url, "--until-idle", "0")
        finish(publish)  # publishes the crawl state, then exits: the rows wait on the stream
        finish(worker(topic, db, rs.url, "--set", "STORE_BATCH_SIZE=1"))  # one message per document
        waiting = client.xlen(keys.items)
        assert waiting > 10
        first = loader(db, rs.url, "--set", "LOAD_BATCH_MESSAGES=1", "--set", "STORE_BATCH_SIZE=1")
        wait_for(lambda: client.xlen(keys.items) < waiting - 3, 60, "the loader to commit a few batches")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        left = client.xlen(keys.items)
        assert 0 < left < waiting
        finish(loader(db, rs.url, "--until-idle", "2"))
        assert client.xlen(keys.items) == 0
        # a message committed but not acknowledged (a kill between the two) is read again: not written twice
        document = rows(db, "SELECT * FROM documents LIMIT 1")[0]
        for message in rows(db, "SELECT message_id FROM stream_loads LIMIT 2"):
            body = {"documents": [{**document, "id": "changed-" + document["id"]}], "errors": [
                {"run_id": "r", "source": "s", "url": "u", "reason": "would double", "occurred_at": "2026-01-01T00:00:00"}]}
            client.xadd(keys.items, {"id": message["message_id"].encode(), "worker": b"replayed",
                                     "tables": messages.dumps_rows([body])[1:-1].encode()})
        again = finish(loader(db, rs.url, "--until-idle", "2"))
        assert "2 committed before" in again and client.xlen(keys.items) == 0
    server.stop()
    assert stored(db) == documents
    assert rows(db, "SELECT count(*) AS n FROM errors")[0]["n"] == errors
    assert rows(db, "SELECT count(*) AS n FROM stream_loads")[0]["n"] == waiting


def test_distributed_survives_a_redis_restart_mid_run(site, reference, tmp_path):
    root, manifest = site
    _counts, documents, _errors = reference
    server, topic = serve(root, manifest, tmp_path / "topic.toml", delay=0.5)
    db = tmp_path / "restart.duckdb"
    with redis_server(tmp_path, durable=True) as rs:
        load = loader(db, rs.url)
        wait_for(lambda: rs.client().exists(Keys("seedtrack:restart").state_ready), 60, "the loader's snapshot")
        workers = [worker(topic, db, rs.url) for _ in range(2)]
        wait_for(lambda: len(page_counts(server)) > 12, 90, "the workers to be mid-crawl")
        rs.restart()  # appendonly, fsync always: the queue, leases, claims and stream come back
        for w in workers:
            finish(w)
        wait_for(lambda: rs.client().xlen(Keys("seedtrack:restart").items) == 0, 60, "the loader to drain the stream")
        load.send_signal(signal.SIGTERM)
        finish(load, 30)
    server.stop()
    assert stored(db) == documents


@pytest.mark.parametrize("command", [("crawl", "--redis"), ("load", "--redis"), ("status", "--redis")])
def test_distributed_unreachable_redis_is_one_clear_error(tmp_path, command):
    port = free_port()  # nothing listens there
    db = tmp_path / "none.duckdb"
    if command[0] == "status":
        Database(db).migrate()
    result = run_cli(*command, f"redis://127.0.0.1:{port}/0", "--db", db, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"seedtrack: error: cannot reach Redis at redis://127.0.0.1:{port}/0")
    assert "Traceback" not in result.stderr


def test_distributed_schedule_hands_runs_to_serving_workers(site, reference, tmp_path):
    root, manifest = site
    _counts, documents, _errors = reference
    server, topic = serve(root, manifest, tmp_path / "topic.toml")
    text = topic.read_text(encoding="utf-8").replace("[[source]]\n", '[[source]]\ninterval = "1h"\n')
    topic.write_text(text, encoding="utf-8")
    db = tmp_path / "scheduled.duckdb"
    keys = Keys("seedtrack:scheduled")
    with redis_server(tmp_path) as rs:
        client = rs.client()
        load = loader(db, rs.url)
        wait_for(lambda: client.exists(keys.state_ready), 60, "the loader's snapshot")
        servers = [subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--serve", "--redis", rs.url, "--topic",
                                     str(topic), "--db", str(db), *FAST], cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
        time.sleep(3)  # both serving before the first runs are handed out
        daemon = subprocess.Popen([sys.executable, "-m", "crawler", "schedule", "--redis", rs.url, "--topic", str(topic),
                                   "--db", str(db), "--set", f"SCHEDULE_LOG_FILE={tmp_path / 'schedule.log'}"],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sources = len(manifest_sources(topic))

        def all_crawled():
            states = [json.loads(v) for v in client.hvals(keys.workers)]
            return (client.xlen(keys.runs) >= sources and len(states) >= 2 and
                    all(s["state"] == "stopped" for s in states) and client.xlen(keys.items) == 0)
        wait_for(all_crawled, 120, "both serving workers to crawl every handed-out run")
        for process in (daemon, *servers, load):
            process.send_signal(signal.SIGTERM)
        for process in (daemon, *servers, load):
            finish(process, 60)
    server.stop()
    assert stored(db) == documents
    log = (tmp_path / "schedule.log").read_text(encoding="utf-8")
    assert log.count("handed to the workers") == sources
    assert rows(db, "SELECT count(DISTINCT run_id) AS n FROM crawl_runs")[0]["n"] == 2 * sources  # both joined each


def manifest_sources(topic: Path) -> list[str]:
    from crawler.topic import load_topic

    return [s.name for s in load_topic(topic).sources if s.enabled]


def test_distributed_a_lease_waits_for_every_item_of_its_callback_and_errback(tmp_path):
    """A lease is released once the output is handled and the last of its items is done, not at the first
    item; a failed download's errback output (an iterable or a single item) carries it the same way; a
    failure with nothing to give, or without an errback of the spider's, releases it at once; a stray done
    never releases twice (on a real redis-server: the lease is the in-flight hash's field)."""
    from scrapy import Request
    from twisted.python.failure import Failure

    from crawler.distributed.frontier import LEASE, Carried, CarryingErrback, item_done
    from crawler.items import Document

    with redis_server(tmp_path) as rs:
        client = rs.client()

        def leased(token: str) -> Carried:
            client.hset("inflight", token, b"request")
            return Carried(client, ("inflight", token))

        def held(token: str) -> bool:
            return client.hexists("inflight", token)

        carried, items = leased("1"), [Document(url=f"https://a.example/{i}", source="s", source_kind="feed") for i in range(2)]
        carried.hold()  # the callback's output is being handled
        for item in items:
            carried.carry(item)
            carried.carry(item)  # an item passed on twice still counts once
        carried.done()
        assert held("1")
        item_done(items[0])
        item_done(items[0])  # a second signal for the same item changes nothing
        assert held("1") and getattr(items[0], LEASE) is None
        item_done(items[1])
        assert not held("1")

        carried = leased("2")
        given = [Document(url="https://a.example/feed-only", source="s", source_kind="feed"), Request("https://a.example/next")]
        errback = CarryingErrback(lambda failure: iter(given), carried)
        output = list(errback(Failure(ConnectionRefusedError("refused"))))
        assert output == given and held("2")  # the feed-only document is on its way
        item_done(given[0])
        assert not held("2")

        carried = leased("3")
        assert CarryingErrback(lambda failure: None, carried)(Failure(ConnectionRefusedError())) is None
        assert not held("3")

        carried, failure = leased("4"), Failure(ConnectionRefusedError())
        assert CarryingErrback(None, carried)(failure) is failure  # no errback: Scrapy handles the failure as before
        assert not held("4")

        carried, single = leased("5"), Document(url="https://a.example/single", source="s", source_kind="feed")
        assert list(CarryingErrback(lambda failure: single, carried)(failure)) == [single]  # not an iterable
        assert held("5")
        item_done(single)
        assert not held("5")

        carried = leased("6")
        carried.hold()
        carried.done()
        client.hset("inflight", "6", b"requeued")  # the same token filed again: a second done must not release it
        carried.done()
        carried.unused()
        assert held("6") and carried.holds == 0


def test_distributed_messages_restore_timestamps_lists_and_bytes_from_the_schema():
    from datetime import datetime

    seen = datetime(2026, 2, 12, 9, 30, 5, 123456)
    fields = messages.encode({"documents": [{"id": "a", "fetched_at": seen, "matched_terms": ["Seedance", "ByteDance"]}],
                              "aliases": [{"alias_id": "b", "doc_id": "a", "url": "http://x/b"}],
                              "schedule": [{"source": "s", "job_state": b"\x00\xffjob"}], "errors": []}, "w1")
    decoded = messages.decode(b"1-0", {k.encode(): v for k, v in fields.items()})
    assert decoded.worker == "w1" and decoded.stream_id == "1-0" and len(decoded.message_id) == 32
    assert decoded.tables["documents"][0]["fetched_at"] == seen
    assert decoded.tables["documents"][0]["matched_terms"] == ["Seedance", "ByteDance"]
    assert decoded.tables["schedule"][0]["job_state"] == b"\x00\xffjob"
    assert "errors" not in decoded.tables and decoded.rows() == 3
    with pytest.raises(ValueError, match="not database tables"):
        messages.encode({"nonsense": [{}]}, "w1")


def test_distributed_compat_engine_slot_keeps_nextcall():
    """compat.wake_engine schedules Scrapy's ``ExecutionEngine._slot.nextcall``."""
    import inspect

    from scrapy.core import engine

    assert "nextcall" in inspect.signature(engine._Slot).parameters
    assert "self._slot" in inspect.getsource(engine.ExecutionEngine)


def test_distributed_a_call_sent_again_after_a_redis_restart_gets_its_first_answer(tmp_path):
    """The client sends a command again when its connection drops (a Redis restart). One that had run, its
    reply lost, must answer as it did: else its page is skipped as claimed, its document dropped as a
    duplicate, the request it leased left to no one, or the request it queued filtered as seen (a document
    lost in a restart mid-crawl)."""
    from crawler.distributed.frontier import _POP, _SEEN
    from crawler.distributed.state import RedisKnownDocuments

    keys = Keys("seedtrack:retried")
    with redis_server(tmp_path) as rs:
        client = rs.client()
        known = RedisKnownDocuments(client, keys, 60)
        assert known.add("doc", call="a") and known.add("doc", call="a")  # one call, sent twice
        assert not known.add("doc")  # the same id again from this worker: a duplicate
        assert known.claim("page", call="b") and known.claim("page", call="b") and not known.claim("page")
        client.zadd(keys.requests("s"), {b"r1": 0, b"r2": 1})
        pop = client.register_script(_POP)
        call = [keys.requests("s"), keys.inflight("s", "w"), keys.key("lease-seq"), keys.inflight_index,
                keys.popped("s", "w", 0)]
        first, again = pop(keys=call), pop(keys=call)
        assert [str(int(first[0])), first[1]] == [again[0].decode(), again[1]] == ["1", b"r1"]
        assert client.zrange(keys.requests("s"), 0, -1) == [b"r2"]  # one request taken, leased once
        assert client.hgetall(keys.inflight("s", "w")) == {b"1": b"r1"}
        second = pop(keys=[*call[:4], keys.popped("s", "w", 1)])  # the next call takes the next request
        assert second[1] == b"r2" and client.zcard(keys.requests("s")) == 0
        seen = client.register_script(_SEEN)
        once = [keys.dupefilter("s"), keys.seen_call("s", "w", 0)]
        assert seen(keys=once, args=["fp"]) == seen(keys=once, args=["fp"]) == 0  # new, asked twice: still new
        assert seen(keys=[once[0], keys.seen_call("s", "w", 1)], args=["fp"]) == 1  # a later request: seen
