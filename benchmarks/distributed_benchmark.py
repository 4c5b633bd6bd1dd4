"""Distributed crawl benchmark: one `seedtrack crawl --redis` worker against two, sharing one frontier.

    python benchmarks/distributed_benchmark.py [--articles 400] [--delay 1.0] [--nlp-articles 120] [--only fetch|nlp]
                                               [--keep DIR]

A replay site (``crawler.demo.replay.site.build_site``, sample data) whose article pages answer after
``--delay`` seconds is served on 127.0.0.1; a real ``redis-server`` runs on a free port. Each run starts
``seedtrack load`` (the one writer), then N ``seedtrack crawl --redis`` worker processes over the site's
feed and sitemap sources, and waits until the workers have exited and the loader has drained the stream.

1. Fetch-bound, NLP off: one worker, then two. A worker keeps ``CONCURRENT_REQUESTS_PER_DOMAIN`` (4 here)
   requests in flight to the host, so two workers keep twice as many: pages per second over the fetch
   window (first to last article request the server saw) and over the wall time (process start-up
   included), and the ratio of two workers to one. Every page fetched once across the workers (the
   server's count of each path equals the one-worker run's) and stored once (documents = distinct ids).
2. The same with NLP on (each worker runs its spaCy worker process): documents per second until the
   loader has committed the last one, one worker against two.
Exits non-zero when a worker or the loader fails, or a run stores nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.demo.replay.server import ReplayServer  # noqa: E402
from crawler.demo.replay.site import build_site  # noqa: E402
from crawler.distributed.keys import Keys  # noqa: E402
from crawler.topic import DEFAULT_TOPIC  # noqa: E402

PER_HOST = 4
SETTINGS = {"AUTOTHROTTLE_ENABLED": "false", "CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_HOST), "LOG_LEVEL": "ERROR",
            "FEED_MAX_ENTRIES": "100000", "BACKOFF_BASE_DELAY": "0.1", "HOSTLIMIT_ENABLED": "true"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_topic(path: Path, base_url: str, manifest: dict) -> Path:
    text = DEFAULT_TOPIC.read_text(encoding="utf-8")
    text = text[: text.index("[[source]]")]
    for entry in manifest["sources"]:
        if entry["kind"] in ("feed", "sitemap"):
            text += (f'\n[[source]]\nname = "{entry["name"]}"\nkind = "{entry["kind"]}"\n'
                     f'url = "{base_url}{entry["path"]}"\ndownload_delay = 0\n')
    path.write_text(text, encoding="utf-8")
    return path


def slow_site(root: Path, manifest: dict, delay: float) -> None:
    routes_file = root / "_routes.json"
    routes = json.loads(routes_file.read_text(encoding="utf-8")) if routes_file.exists() else {}
    for article in manifest["articles"]:
        for path in (article["path"].split("?")[0], article["canonical_path"]):
            routes[path] = {**routes.get(path, {}), "delay": delay}
    routes_file.write_text(json.dumps(routes), encoding="utf-8")


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def run(label: str, root: Path, manifest: dict, work: Path, url: str, workers: int, nlp: bool) -> dict:
    server = ReplayServer(root).start()
    topic = write_topic(work / f"{label}.toml", server.url, manifest)
    db = work / f"{label}.duckdb"
    keys = Keys(f"seedtrack:{db.stem}")
    client = redis.Redis.from_url(url)
    sets = [a for k, v in {**SETTINGS, "NLP_ENABLED": str(nlp).lower()}.items() for a in ("--set", f"{k}={v}")]
    loader = cli("load", "--redis", url, "--db", str(db), "-q")
    deadline = time.monotonic() + 60
    while not client.exists(keys.state_ready):
        if time.monotonic() > deadline or loader.poll() is not None:
            raise SystemExit(f"{label}: the loader did not start: {loader.communicate()[1][-2000:]}")
        time.sleep(0.2)
    started = time.monotonic()
    crawls = [cli("crawl", "--topic", str(topic), "--db", str(db), "--redis", url, "-q", *sets) for _ in range(workers)]
    exits, requeued = [], 0
    for crawl in crawls:
        _out, err = crawl.communicate()
        exits.append(time.monotonic() - started)
        if crawl.returncode != 0:
            raise SystemExit(f"{label}: a worker failed (exit {crawl.returncode}): {err[-2000:]}")
        requeued += err.count("stopped beating")
    crawled = time.monotonic()
    while client.xlen(keys.items):
        time.sleep(0.1)
    loaded = time.monotonic()
    loader.send_signal(signal.SIGTERM)
    _out, err = loader.communicate(timeout=120)
    if loader.returncode != 0:
        raise SystemExit(f"{label}: the loader failed: {err[-2000:]}")
    server.stop()
    articles = {a["path"].split("?")[0] for a in manifest["articles"]} | {a["canonical_path"] for a in manifest["articles"]}
    pages = [(t, path) for t, (_m, path, _h) in zip(server.request_times, server.requests) if path.split("?")[0] in articles]
    con = duckdb.connect(str(db), read_only=True)
    stored, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM documents").fetchone()
    con.close()
    if not stored:
        raise SystemExit(f"{label}: nothing stored")
    window = pages[-1][0] - pages[0][0] if len(pages) > 1 else 0.0
    counts = Counter(path for _m, path, _h in server.requests if not path.startswith("/robots.txt"))
    return {"label": label, "workers": workers, "pages": len(pages), "window": window, "wall": crawled - started,
            "loaded": loaded - started, "stored": stored, "exits": exits, "requeued": requeued,
            "first": pages[0][0] - started if pages else 0.0, "last": pages[-1][0] - started if pages else 0.0, "distinct": distinct, "counts": counts}


def show(r: dict) -> None:
    print(f"  {r['label']:<14} {r['workers']} worker(s): {r['pages']} article pages in {r['window']:.1f} s of fetching "
          f"= {r['pages'] / r['window']:.1f} pages/s; wall {r['wall']:.1f} s (start-up included) = "
          f"{r['pages'] / r['wall']:.1f} pages/s; {r['stored']} documents stored ({r['distinct']} distinct ids), "
          f"last committed after {r['loaded']:.1f} s = {r['stored'] / r['loaded']:.1f} documents/s", flush=True)
    print(f"  {'':<14} article pages fetched from {r['first']:.1f} s to {r['last']:.1f} s after the start; workers "
          f"exited at {', '.join(f'{e:.1f}' for e in r['exits'])} s; requests queued again from a silent worker: "
          f"{r['requeued']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=400, help="article pages of the replay site (default 400)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds each article page takes to answer (1.0)")
    parser.add_argument("--only", choices=("fetch", "nlp"), help="run one part only")
    parser.add_argument("--nlp-articles", type=int, default=120, help="article pages of the NLP-on site")
    parser.add_argument("--keep", type=Path, help="keep the sites and databases in DIR")
    args = parser.parse_args(argv)
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    work = Path(tempfile.mkdtemp(prefix="seedtrack-dist-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    rs = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                          stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; redis-server on {url}")
    try:
        time.sleep(0.5)
        for title, nlp, articles in (("1. fetch-bound, NLP off", False, args.articles),
                                     ("2. NLP on", True, args.nlp_articles)):
            if args.only and args.only != ("nlp" if nlp else "fetch"):
                continue
            root = work / f"site-{'nlp' if nlp else 'fetch'}"
            manifest = build_site(root, articles=articles, seed=2026)
            slow_site(root, manifest, args.delay)
            print(f"\n{title}: {articles} articles answering after {args.delay:g} s, "
                  f"{PER_HOST} requests per host per worker")
            tag = "nlp" if nlp else "fetch"
            one = run(f"{tag}-one", root, manifest, work, url, 1, nlp)
            show(one)
            two = run(f"{tag}-two", root, manifest, work, url, 2, nlp)
            show(two)
            same = one["counts"] == two["counts"]
            print(f"  ratio two/one: {(two['pages'] / two['window']) / (one['pages'] / one['window']):.2f}x pages/s "
                  f"over the fetch window, {(two['pages'] / two['wall']) / (one['pages'] / one['wall']):.2f}x over "
                  f"the wall time, {(two['stored'] / two['loaded']) / (one['stored'] / one['loaded']):.2f}x documents/s "
                  f"committed")
            print(f"  every page fetched once across the workers (each path as often as by one worker): "
                  f"{'yes' if same else 'NO'}; stored once: "
                  f"{'yes' if two['stored'] == two['distinct'] == one['stored'] else 'NO'}")
            if not same:
                extra = {p: n for p, n in two["counts"].items() if n != one["counts"].get(p)}
                print(f"  paths fetched a different number of times: {extra}")
    finally:
        rs.terminate()
        rs.wait()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
