"""Soak benchmark: the schedule daemon crawls a local replay site for ten minutes while a client queries.

    python benchmarks/soak_benchmark.py [--minutes 10] [--short] [--articles 120] [--nlp] [--keep DIR]

1. Builds the replay site (sample data, not real news) and serves it from a separate process with
   ETag/Last-Modified validators (``python -m crawler.demo.replay.server ROOT --validators``), plus a "soak"
   RSS feed that this script grows by one new article every ``--publish-every`` seconds, so that later
   runs find new content while the site's other feeds answer 304.
2. Starts ``seedtrack schedule`` on a topic of the site's sources (every ``--interval`` seconds; the
   soak feed every 5 s) into a fresh database, with NLP off unless ``--nlp``.
3. Meanwhile a client runs ``seedtrack sql`` (and now and then ``seedtrack status``) in a loop, one
   process after another, and every second the daemon's resident memory is read from ``/proc``.
4. After ``--minutes`` (``--short``: 2), stops the daemon with SIGTERM and prints: runs completed (by
   status), documents, queries run and failed, duplicate rows, and the daemon's peak memory in the
   first and the last window (a minute, or a quarter of a short run).

Exits non-zero when a query failed, a row is doubled, the daemon's memory grew by more than 10% from
the first window to the last, no run started in the last window, the daemon did not stop cleanly, or
nothing was stored. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.storage import Database
from crawler.demo.replay.site import build_site
from crawler.topic import DEFAULT_TOPIC

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "SELECT count(*) FROM documents",
    "SELECT source, count(*) AS n FROM documents GROUP BY source ORDER BY n DESC",
    "SELECT day, sum(documents) FROM timeline GROUP BY day ORDER BY day DESC LIMIT 5",
    "SELECT source, status, count(*) FROM crawl_runs GROUP BY ALL",
    "SELECT norm, count(*) FROM entities GROUP BY norm ORDER BY 2 DESC LIMIT 5",
]
SOAK_PAGE = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
             + "".join(f"<p>Studios and regulators kept watching ByteDance's Seedance 2.0 video model on day {{n}}: "
                       f"update {k} says the AI video tool drew new complaints and new users.</p>" for k in range(6))
             + "</article></body></html>")
GROWTH_LIMIT = 1.10


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout)


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class SoakFeed:
    """An RSS feed in the site folder that gains one on-topic article each time ``publish`` is called."""

    def __init__(self, site: Path):
        self.folder = site / "soak"
        self.folder.mkdir()
        self.count = 0
        self.publish()

    def publish(self) -> None:
        self.count += 1
        title = f"Seedance 2.0 soak update {self.count}"
        (self.folder / f"{self.count}.html").write_text(SOAK_PAGE.format(title=title, n=self.count), encoding="utf-8")
        items = "".join(f"<item><title>Seedance 2.0 soak update {n}</title><link>/soak/{n}.html</link></item>"
                        for n in range(self.count, 0, -1))
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Soak</title><link>/</link>{items}</channel></rss>'
        tmp = self.folder / "feed.xml.tmp"
        tmp.write_text(feed, encoding="utf-8")
        tmp.replace(self.folder / "feed.xml")  # atomic: the server never serves half a feed


def topic_file(path: Path, manifest: dict, base_url: str, interval: int) -> Path:
    """The default topic with the site's sources (search URLs as {query} templates) and the soak feed."""
    kinds = {"google_news": "news_search", "bing_news": "news_search"}
    text = DEFAULT_TOPIC.read_text(encoding="utf-8")
    text = text[: text.index("[[source]]")]
    sources = [("soak", "feed", base_url + "/soak/feed.xml", "5s", None)]
    for entry in manifest["sources"]:
        kind = kinds.get(entry["kind"], entry["kind"])
        url = base_url + entry["path"]
        if kind in ("news_search", "gdelt"):
            url = url.replace("=Seedance", "={query}", 1)
        sources.append((entry["name"], kind, url, f"{interval}s", kind in ("news_search", "gdelt")))
    for name, kind, url, every, search in sources:
        text += f'\n[[source]]\nname = "{name}"\nkind = "{kind}"\nurl = "{url}"\ninterval = "{every}"\ndownload_delay = 0\n'
        if search:
            text += 'queries = ["Seedance"]\n'
    path.write_text(text, encoding="utf-8")
    return path


def start_server(site: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with open(log, "wb") as err:
        server = subprocess.Popen([sys.executable, "-m", "crawler.demo.replay.server", str(site), "--validators"],
                                  stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO)
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://"):
        server.kill()
        raise SystemExit(f"soak_benchmark: FAILED: the replay server did not start:\n{log.read_text()[-2000:]}")
    urllib.request.urlopen(base_url + "/robots.txt", timeout=10).close()
    return server, base_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the daemon runs (default 10)")
    parser.add_argument("--short", action="store_true", help="a 2-minute run (for development)")
    parser.add_argument("--articles", type=int, default=120, help="articles on the replay site (default 120)")
    parser.add_argument("--interval", type=int, default=15, help="seconds between runs of each site source (default 15)")
    parser.add_argument("--publish-every", type=float, default=20.0, help="seconds between new soak articles")
    parser.add_argument("--nlp", action="store_true", help="tag entities too (loads spaCy in every crawl)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    minutes = 2.0 if args.short else args.minutes
    work = args.keep or Path(tempfile.mkdtemp(prefix="seedtrack-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    site, db = work / "site", work / "soak.duckdb"
    manifest = build_site(site, articles=args.articles)
    feed = SoakFeed(site)
    server, base_url = start_server(site, work / "server.log")
    topic = topic_file(work / "soak.toml", manifest, base_url, args.interval)
    overrides = ["--set", "AUTOTHROTTLE_ENABLED=false", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                 "--set", "FEED_MAX_ENTRIES=100000", "--set", f"NLP_ENABLED={'true' if args.nlp else 'false'}"]
    print(f"soak: {minutes:g} minutes, {len(manifest['sources']) + 1} sources of {base_url}, database {db}", flush=True)

    with open(work / "daemon.log", "w") as daemon_log:
        daemon = subprocess.Popen([sys.executable, "-m", "crawler", "schedule", "--topic", str(topic), "--db", str(db),
                                   *overrides], stdout=daemon_log, stderr=subprocess.STDOUT, cwd=REPO)
    started = time.monotonic()
    duration = minutes * 60
    window = min(60.0, duration / 4)
    memory: list[tuple[float, int]] = []
    queries = {"run": 0, "failed": 0}
    failures: list[str] = []
    stop = threading.Event()

    def query_loop() -> None:
        n = 0
        while not stop.is_set():
            if not db.exists():
                time.sleep(0.5)
                continue
            args_ = ("status", "--db", str(db)) if n % 10 == 9 else ("sql", QUERIES[n % len(QUERIES)], "--db", str(db))
            result = cli(*args_)
            queries["run"] += 1
            if result.returncode != 0:
                queries["failed"] += 1
                failures.append(result.stderr.strip()[-500:])
            n += 1

    client = threading.Thread(target=query_loop, daemon=True)
    client.start()
    next_publish = started + args.publish_every
    try:
        while (now := time.monotonic()) - started < duration:
            if daemon.poll() is not None:
                raise SystemExit(f"soak_benchmark: FAILED: the daemon exited with {daemon.returncode}; see {work}/daemon.log")
            if server.poll() is not None:
                raise SystemExit(f"soak_benchmark: FAILED: the replay server exited with {server.returncode} after "
                                 f"{now - started:.0f} s; see {work}/server.log")
            if (kb := rss_kb(daemon.pid)) is not None:
                memory.append((now - started, kb))
            if now >= next_publish:
                feed.publish()
                next_publish += args.publish_every
            time.sleep(1.0)
    finally:
        stop.set()
        last_window_from = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=window)
        daemon.send_signal(signal.SIGTERM)
        try:
            stopped = daemon.wait(timeout=300)
        except subprocess.TimeoutExpired:
            daemon.kill()
            stopped = None
        client.join(timeout=300)
        server.terminate()
        server.wait(timeout=30)

    database = Database(db)
    _c, runs = database.query("SELECT status, count(*) FROM crawl_runs GROUP BY status ORDER BY 2 DESC")
    _c, [(documents, distinct_ids, distinct_urls)] = database.query(
        "SELECT count(*), count(DISTINCT id), count(DISTINCT url) FROM documents")
    _c, [(soak_docs,)] = database.query("SELECT count(*) FROM documents WHERE source = 'soak'")
    _c, [(late_runs,)] = database.query("SELECT count(*) FROM crawl_runs WHERE started_at >= $t", {"t": last_window_from})
    duplicates = documents - min(distinct_ids, distinct_urls)
    first = max((kb for t, kb in memory if t <= window), default=0)
    last = max((kb for t, kb in memory if t >= duration - window), default=0)
    growth = last / first if first else float("inf")
    completed = sum(n for _status, n in runs)
    rows = [
        ("runs completed", f"{completed} ({', '.join(f'{n} {status}' for status, n in runs)})"),
        (f"runs started in the last {window:.0f} s", str(late_runs)),
        ("documents", f"{documents} ({soak_docs} of {feed.count} soak articles published)"),
        ("queries run / failed", f"{queries['run']} / {queries['failed']}"),
        ("duplicate rows", str(duplicates)),
        (f"daemon peak memory, first {window:.0f} s", f"{first / 1024:.1f} MB"),
        (f"daemon peak memory, last {window:.0f} s", f"{last / 1024:.1f} MB ({growth:.2f}x)"),
        ("daemon stopped", "cleanly (exit 0)" if stopped == 0 else f"exit {stopped}"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name.ljust(width)}  {value}" for name, value in rows))
    (work / "result.json").write_text(json.dumps(dict(rows), indent=1), encoding="utf-8")
    for failure in failures[:3]:
        print(f"failed query: {failure}", file=sys.stderr)
    problems = [what for what, bad in (
        ("a query failed", queries["failed"]), ("rows were doubled", duplicates), ("nothing was stored", not documents),
        ("the daemon's memory grew", growth > GROWTH_LIMIT), ("the daemon did not stop cleanly", stopped != 0),
        ("no run started in the last window: the daemon stopped scheduling", not late_runs),
    ) if bad]
    if problems:
        print(f"soak_benchmark: FAILED: {'; '.join(problems)} (work folder {work})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
