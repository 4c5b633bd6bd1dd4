"""Crawl and pipeline benchmark of seedtrack against a local replay site.

    python benchmarks/crawl_benchmark.py [--articles 2000] [--nlp-sample 400] [--keep DIR] [--listen-backlog N]

What it measures, in one run:

1. Builds the replay site (``crawler.demo.replay.site.build_site``, sample data, not real news) with
   ``--articles`` article pages in a temporary folder and serves it from a separate process
   (``python -m crawler.demo.replay.server ROOT --port N``), so the server never competes with the
   crawler for the crawler's own interpreter.
2. Crawl A: every source of the site (``crawler.demo.demo_sources``) crawled by ``run_crawl`` into a
   fresh DuckDB file, in a fresh Python process (one reactor per crawl), with the demo's settings
   (no autothrottle, 16 requests per domain). Crawl B: the same with ``NLP_ENABLED=False``. Both report
   pages fetched per second (the sum of the sources' ``fetched``) and documents stored per second,
   over the wall time of the crawl process (start-up and model loading included, as a user sees it)
   and over ``run_crawl`` alone.
3. Each pipeline stage alone, in this process, with a real Scrapy crawler object, over the same
   documents: the site's English article pages (on- and off-topic), built as the spiders build them.
   validate -> dedup -> extract -> relevance -> nlp -> store, each timed over its whole input. The NLP
   stage runs over the first ``--nlp-sample`` English on-topic documents, with the default NLP_WORKERS
   (crawler/settings.py, 2) and with 0 (a thread); the first is the one the floor reads.
4. A bare ``nlp.pipe`` over the same texts: the full shipped pipeline with n_process=1 and 2, and the
   pipeline with the components the project disables (``crawler.nlp.tagger.DISABLED``) disabled, then
   the ratios of the NLP stage to each; floor: the stage keeps 40% of (b), full with n_process=2.
5. ``seedtrack tag --jsonl`` in a fresh process over the texts crawl A stored; floor: crawl A stores at
   least 80% as many documents per second as it tags.

The stance model of every figure is ``$SEEDTRACK_BENCH_STANCE_MODEL`` (default ``onnx``, the default
of ``NLP_STANCE_MODEL``).

Model loading is excluded from every NLP figure of 3 and 4 (each pipeline is warmed up first); it is
included in the crawl figures of 2. Each section also says where the machine's CPU time went (this
benchmark and its children, the replay server, every other process: Linux ``/proc``), since on a
shared machine other work changes every figure; run it on an idle machine for stable figures. The
crawls lift ``FEED_MAX_ENTRIES`` so that every article the site's feeds list is reached.
Exits non-zero when the replay server does not start, a crawl fails or a crawl stores nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from crawler.settings import NLP_BATCH_SIZE
from crawler.settings import NLP_WORKERS as WORKERS  # the crawl's default, the one the floor reads

# The crawl settings of `seedtrack demo`, with quiet logs: no politeness delays against our own server.
CRAWL_OVERRIDES = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR",
                   "FEED_MAX_ENTRIES": 100_000}  # the site's feeds list up to ~1,400 entries: reach every article
STANCE_MODEL = os.environ.get("SEEDTRACK_BENCH_STANCE_MODEL", "onnx")  # NLP_STANCE_MODEL of every figure
WARMUP_TEXTS = 8
SERVER_START_TIMEOUT = 30.0
CRAWL_TIMEOUT = 600.0
# Scrapy stats summed over a crawl's sources and reported (prefixes).
CHILD_STATS = ("downloader/request_count", "downloader/response_count", "downloader/response_bytes", "retry/",
               "item_scraped_count", "item_dropped_count", "nlp/", "extract/", "store/batches")

SUMMARY: list[tuple[str, str, str]] = []  # (figure, value, unit) for the table at the end


class BenchmarkError(SystemExit):
    """A failure that must end the benchmark with a non-zero exit status and a message."""

    def __init__(self, message: str):
        super().__init__(f"crawl_benchmark: FAILED: {message}")


def record(figure: str, value: float, unit: str, digits: int = 1) -> None:
    SUMMARY.append((figure, f"{value:,.{digits}f}", unit))


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)), flush=True)


# -- the replay server, in its own process --------------------------------------------------------------


def listen_overflows() -> int | None:
    """TcpExt ListenOverflows of the whole machine (Linux): connections dropped because a listen queue was full."""
    try:
        lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
        return int(dict(zip(lines[0], lines[1]))["ListenOverflows"])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def _machine_busy_seconds() -> float | None:
    """CPU seconds every CPU of the machine has been busy since boot (Linux /proc/stat), steal excluded."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
        return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _process_seconds(pid: int | None) -> float | None:
    """CPU seconds used by a running process (Linux /proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def _own_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for (crawls, NLP workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class CpuMeter:
    """Where the machine's CPU time went during an interval: the benchmark (with its finished children),
    the replay server, and everything else on the machine (other users of a shared machine)."""

    def __init__(self, server_pid: int | None = None):
        self.server_pid = server_pid
        self.start = (time.perf_counter(), _own_seconds(), _process_seconds(server_pid), _machine_busy_seconds())

    def stop(self) -> dict[str, float | None]:
        wall, own, server, machine = (time.perf_counter(), _own_seconds(), _process_seconds(self.server_pid),
                                      _machine_busy_seconds())
        result: dict[str, float | None] = {"wall": wall - self.start[0], "ours": own - self.start[1],
                                           "server": None, "machine": None, "others": None}
        if server is not None and self.start[2] is not None:
            result["server"] = server - self.start[2]
        if machine is not None and self.start[3] is not None:
            result["machine"] = machine - self.start[3]
            result["others"] = max(0.0, result["machine"] - result["ours"] - (result["server"] or 0.0))
        return result


def describe_cpu(cpu: dict[str, float | None], ours: str) -> str:
    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f}"

    capacity = cpu["wall"] * (os.cpu_count() or 1)
    return (f"CPU seconds: {ours} {fmt(cpu['ours'])}, replay server {fmt(cpu['server'])}, other processes on the "
            f"machine {fmt(cpu['others'])}; machine busy {fmt(cpu['machine'])} of {capacity:.1f} available")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(site: Path, port: int, backlog: int | None) -> list[str]:
    if backlog is None:  # the server as shipped
        return [sys.executable, "-m", "crawler.demo.replay.server", str(site), "--port", str(port)]
    # The same server and command line, with its listen backlog (socketserver's request_queue_size) raised.
    code = ("import sys; from crawler.demo.replay import server; "
            f"server._Server.request_queue_size = {int(backlog)}; sys.exit(server.main(sys.argv[1:]))")
    return [sys.executable, "-c", code, str(site), "--port", str(port)]


def start_server(site: Path, log: Path, backlog: int | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as err:
        server = subprocess.Popen(server_command(site, port, backlog), stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise BenchmarkError(
                f"the replay server exited with status {server.returncode} before answering:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(base_url + "/robots.txt", timeout=2) as response:
                if response.status == 200:
                    return server, base_url
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise BenchmarkError(f"the replay server did not answer on {base_url} within {SERVER_START_TIMEOUT:.0f}s")
        time.sleep(0.1)


def stop_server(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


# -- crawls, each in a fresh process ------------------------------------------------------------------------


def crawl_child(manifest_path: str, base_url: str, db: str, nlp: bool) -> int:
    """Entry point of the crawl subprocess: runs one crawl and prints its figures as JSON on stdout."""
    started = time.perf_counter()
    from crawler.storage import Database
    from crawler.demo import demo_sources
    from crawler.app.runner import crawl_settings, run_crawl
    from crawler.topic import load_topic

    import crawler.app.runner as runner_module

    crawlers = []

    class RecordingCrawlerProcess(runner_module.CrawlerProcess):
        """run_crawl's CrawlerProcess, keeping its crawlers so their stats can be summed afterwards."""

        def create_crawler(self, crawler_or_spidercls):
            created = super().create_crawler(crawler_or_spidercls)
            if all(created is not known for known in crawlers):  # crawl() passes the crawler in again
                crawlers.append(created)
            return created

    runner_module.CrawlerProcess = RecordingCrawlerProcess
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    topic = load_topic()
    overrides = dict(CRAWL_OVERRIDES, NLP_ENABLED=nlp, NLP_STANCE_MODEL=STANCE_MODEL)
    Database(db).migrate()
    settings = crawl_settings(topic, db, overrides)
    sources = demo_sources(manifest, base_url)
    imported = time.perf_counter()
    results = run_crawl(topic, sources, settings, progress=None)
    finished = time.perf_counter()
    stats: dict[str, int] = {}
    for one in crawlers:
        for key, value in one.stats.get_stats().items():
            if isinstance(value, int) and key.startswith(CHILD_STATS):
                stats[key] = stats.get(key, 0) + value
    print(json.dumps({
        "stats": stats,
        "setup_seconds": imported - started,
        "run_crawl_seconds": finished - imported,
        "sources": [
            {"source": r.source.name, "kind": r.source.kind, "status": r.status, **r.counts, "seconds": r.seconds}
            for r in results
        ],
    }), flush=True)
    return 0


def db_counts(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "page_text": one("SELECT count(*) FROM documents WHERE text_source = 'page'"),
            "analysed": one("SELECT count(*) FROM documents WHERE analysed"),
            "entities": one("SELECT count(*) FROM entities"),
            "filtered": one("SELECT count(*) FROM filtered"),
            "errors": one("SELECT count(*) FROM errors"),
            "distinct_urls": one("SELECT count(DISTINCT url) FROM (SELECT url FROM documents UNION ALL SELECT url FROM filtered)"),
        }
    finally:
        con.close()


def run_crawl_process(label: str, manifest_path: Path, base_url: str, db: Path, nlp: bool, logs: Path,
                      server_pid: int) -> dict:
    log = logs / f"crawl-{label}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--crawl-child", str(manifest_path), base_url, str(db),
           "1" if nlp else "0"]
    overflows = listen_overflows()
    meter = CpuMeter(server_pid)
    started = time.perf_counter()
    with open(log, "wb") as err:
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, timeout=CRAWL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"crawl {label} did not finish within {CRAWL_TIMEOUT:.0f}s") from None
    wall = time.perf_counter() - started
    cpu = meter.stop()
    stderr = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise BenchmarkError(f"crawl {label} exited with status {proc.returncode}:\n{stderr[-3000:]}")
    try:
        result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise BenchmarkError(f"crawl {label} printed no figures:\n{proc.stdout.decode()[-2000:]}\n{stderr[-3000:]}") from None
    result["wall_seconds"] = wall
    result["cpu"] = cpu
    after = listen_overflows()
    result["listen_overflows"] = after - overflows if after is not None and overflows is not None else None
    result["db"] = db_counts(db)
    result["log_lines"] = len(stderr.splitlines())
    if result["db"]["documents"] == 0:
        raise BenchmarkError(f"crawl {label} stored no documents:\n{stderr[-3000:]}")
    return result


def print_crawl(label: str, title: str, result: dict) -> dict[str, float]:
    sources = result["sources"]
    totals = {k: sum(s[k] for s in sources) for k in ("fetched", "new", "duplicates", "filtered", "errors")}
    wall, inner = result["wall_seconds"], result["run_crawl_seconds"]
    db = result["db"]
    print(f"\nCrawl {label}: {title}")
    print(f"  {'source':<14}{'kind':<13}{'status':<9}{'fetched':>8}{'new':>6}{'dupl.':>7}{'filt.':>7}{'err.':>6}{'seconds':>9}")
    for s in sources:
        print(f"  {s['source']:<14}{s['kind']:<13}{s['status']:<9}{s['fetched']:>8}{s['new']:>6}{s['duplicates']:>7}"
              f"{s['filtered']:>7}{s['errors']:>6}{s['seconds']:>9.1f}")
    print(f"  {'total':<36}{totals['fetched']:>8}{totals['new']:>6}{totals['duplicates']:>7}"
          f"{totals['filtered']:>7}{totals['errors']:>6}")
    print(f"  wall time of the crawl process   {wall:7.1f} s  (imports and setup {result['setup_seconds']:.1f} s, "
          f"run_crawl {inner:.1f} s)")
    print(f"  database: {db['documents']} documents ({db['page_text']} with page text, {db['analysed']} analysed, "
          f"{db['entities']} entities), {db['filtered']} filtered, {db['errors']} errors; "
          f"{db['distinct_urls']} distinct article URLs reached")
    st = result["stats"]
    timeouts = sum(v for k, v in st.items() if k.startswith("retry/reason_count/") and "Timeout" in k)
    overflows = result["listen_overflows"]
    print(f"  requests {st.get('downloader/request_count', 0)}, responses {st.get('downloader/response_count', 0)} "
          f"({st.get('downloader/response_bytes', 0) / 1e6:.1f} MB), retries {st.get('retry/count', 0)} "
          f"(of which timeouts after DOWNLOAD_TIMEOUT: {timeouts}); listen-queue overflows on this machine during "
          f"the crawl: {'n/a' if overflows is None else overflows}")
    print(f"  {describe_cpu(result['cpu'], 'crawl process and its NLP worker')}")
    figures = {
        "timeouts": timeouts, "overflows": overflows, "cpu": result["cpu"],
        "pages_s": rate(totals["fetched"], wall), "docs_s": rate(db["documents"], wall),
        "pages_s_inner": rate(totals["fetched"], inner), "docs_s_inner": rate(db["documents"], inner),
        "fetched": totals["fetched"], "documents": db["documents"], "wall": wall, "reached": db["distinct_urls"],
    }
    print(f"  pages fetched/s   {figures['pages_s']:8.1f}  (over run_crawl only: {figures['pages_s_inner']:.1f})")
    print(f"  documents stored/s{figures['docs_s']:8.1f}  (over run_crawl only: {figures['docs_s_inner']:.1f})")
    return figures


# -- the pipeline stages alone --------------------------------------------------------------------------------


def stage_settings(db: Path, **overrides: Any) -> dict[str, Any]:
    import crawler.settings as project

    settings = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    settings.update(SEEDTRACK_DB=str(db), LOG_LEVEL="ERROR", NLP_BATCH_SIZE=NLP_BATCH_SIZE, **overrides)
    # The stages run without a spider: the crawl-state extension (which gives a spider what it knows) is off.
    settings["EXTENSIONS"] = {**settings.get("EXTENSIONS", {}), "crawler.extensions.crawlstate.CrawlStateExtension": None}
    return settings


def site_documents(site: Path, manifest: dict, base_url: str) -> list:
    """The site's English article pages as the spiders yield them: feed fields plus the fetched HTML."""
    from crawler.items import Document

    documents = []
    for article in manifest["articles"]:
        if article["lang"] != "en" or article["status"] != 200:
            continue
        html = (site / article["canonical_path"].lstrip("/")).read_text(encoding="utf-8")
        documents.append(Document(
            url=base_url + article["canonical_path"], source=article["outlet_key"], source_kind="feed",
            title=article["title"], summary=article["summary"], published_at=article["published_at"],
            found_via=base_url + "/feeds/" + article["outlet_key"],
            html=html.replace("__BASE_URL__", base_url),
        ))
    return documents


def time_sync_stage(pipeline, items: list) -> tuple[float, list]:
    """Seconds to run ``process_item`` over every item (dropped items are not passed on)."""
    from scrapy.exceptions import DropItem

    out = []
    started = time.perf_counter()
    for item in items:
        try:
            out.append(pipeline.process_item(item))
        except DropItem:
            pass
    return time.perf_counter() - started, out


async def _drive_nlp(pipeline, items: list) -> float:
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(pipeline.process_item(item)) for item in items]
    await asyncio.sleep(0)  # every item is queued; full batches are already on their way to the runner
    pipeline.close_spider()  # the last partial batch goes now, as at the end of a crawl, not after NLP_MAX_WAIT
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


def warm_up_runner(pipeline, texts: list[str]) -> float:
    """Start the NLP runner and load its model (timed, reported, excluded from the stage figure)."""
    started = time.perf_counter()
    warm = texts[:WARMUP_TEXTS]
    for future in [pipeline.runner.submit(warm, ["en"] * len(warm)) for _ in range(max(1, pipeline.runner.workers))]:
        future.result()  # submitted together: each worker process starts (they start when none is idle)
    return time.perf_counter() - started


def worker_peak_mb(runner) -> float | None:
    """The peak resident memory (VmHWM) of the runner's worker process, in MB; None where /proc cannot tell."""
    processes = getattr(runner._executor, "_processes", None) or {}
    peaks = []
    for pid in processes:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks, default=None)


def time_store(pipeline, items: list) -> float:
    async def run() -> float:
        started = time.perf_counter()
        for item in items:
            pipeline.process_item(item)
        await pipeline.close_spider()  # writes the last partial batch and waits for the writer
        return time.perf_counter() - started

    return asyncio.run(run())


def bare_pipe(nlp, texts: list[str], n_process: int = 1) -> float:
    list(nlp.pipe(texts[:WARMUP_TEXTS], batch_size=NLP_BATCH_SIZE))  # warm-up in this process
    started = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=NLP_BATCH_SIZE, n_process=n_process):
        pass
    return time.perf_counter() - started


def stage_benchmark(site: Path, manifest: dict, base_url: str, work: Path, nlp_sample: int,
                    server_pid: int | None) -> dict[str, float]:
    from scrapy.utils.test import get_crawler

    from crawler.nlp.model import load_english
    from crawler.nlp.stance_models import resolved_name
    from crawler.nlp.tagger import DISABLED, MAX_CHARS, Tagger, TaggerSpec
    from crawler.topic import load_topic
    from pipelines.dedup import DedupPipeline
    from pipelines.extract import ExtractPipeline
    from pipelines.nlp import NlpPipeline
    from pipelines.relevance import RelevancePipeline
    from pipelines.store import StorePipeline
    from pipelines.validate import ValidatePipeline

    section("3. Pipeline stages alone (this process, one Scrapy crawler object per configuration)")
    stage_cpu = CpuMeter(server_pid)
    started = time.perf_counter()
    items = site_documents(site, manifest, base_url)
    on_topic = sum(a["on_topic"] for a in manifest["articles"] if a["lang"] == "en" and a["status"] == 200)
    print(f"{len(items)} documents: the site's English article pages ({on_topic} on-topic, "
          f"{len(items) - on_topic} off-topic), read in {time.perf_counter() - started:.1f} s")
    db = work / "stages.duckdb"
    crawler = get_crawler(settings_dict=stage_settings(db))
    rates: dict[str, float] = {}
    rows = []

    def report(stage: str, seconds: float, n_in: int, n_out: int, note: str = "") -> None:
        rates[stage] = rate(n_in, seconds)
        rows.append((stage, n_in, n_out, seconds, rates[stage], note))
        print(f"  {stage:<22}{n_in:>6} in {n_out:>6} out {seconds:8.2f} s {rates[stage]:10.1f} docs/s  {note}", flush=True)

    validate = ValidatePipeline.from_crawler(crawler)
    seconds, items_v = time_sync_stage(validate, items)
    report("validate", seconds, len(items), len(items_v))

    dedup = DedupPipeline.from_crawler(crawler)
    dedup.open_spider()
    seconds, items_d = time_sync_stage(dedup, items_v)
    report("dedup", seconds, len(items_v), len(items_d), "(fresh database)")

    extract = ExtractPipeline.from_crawler(crawler)
    seconds, items_e = time_sync_stage(extract, items_d)
    pages = sum(item.text_source == "page" for item in items_e)
    report("extract", seconds, len(items_d), len(items_e), f"({pages} with page text)")

    relevance = RelevancePipeline.from_crawler(crawler)
    seconds, items_r = time_sync_stage(relevance, items_e)
    kept = [item for item in items_r if not item.filtered_reason]
    report("relevance", seconds, len(items_e), len(items_r), f"({len(kept)} kept, {len(items_r) - len(kept)} filtered)")

    sample = [item for item in kept if item.lang == "en" and item.text][:nlp_sample]
    texts = [item.text[:MAX_CHARS] for item in sample]
    words = sum(len(t.split()) for t in texts)
    if not sample:
        raise BenchmarkError("no English on-topic document with text reached the NLP stage")
    nlp_seconds: dict[int, float] = {}
    entities: dict[int, list] = {}
    for workers in (WORKERS, 0):
        nlp_crawler = get_crawler(settings_dict=stage_settings(db, NLP_WORKERS=workers))
        nlp_stage = NlpPipeline.from_crawler(nlp_crawler)
        load = warm_up_runner(nlp_stage, texts)
        seconds = asyncio.run(_drive_nlp(nlp_stage, sample))
        nlp_seconds[workers] = seconds
        entities[workers] = [list(item.entities) for item in sample]
        analysed = nlp_crawler.stats.get_value("nlp/analysed", 0)
        report(f"nlp (NLP_WORKERS={workers})", seconds, len(sample), analysed,
               f"(analysed; model loading {load:.1f} s excluded)")
        if workers and (peak := worker_peak_mb(nlp_stage.runner)):
            print(f"  NLP worker process: peak resident memory {peak:,.0f} MB each, {workers} of them (models loaded, "
                  f"after {len(sample)} texts)")
            record("NLP worker peak resident memory (each)", peak, "MB", 0)
        nlp_stage.runner.close()
    if entities[0] != entities[WORKERS]:
        print(f"  WARNING: NLP_WORKERS={WORKERS} and NLP_WORKERS=0 found different entities")

    store = StorePipeline.from_crawler(crawler)
    started = time.perf_counter()
    store.open_spider()
    migrate = time.perf_counter() - started
    seconds = time_store(store, items_r)
    stored = crawler.stats.get_value("store/new", 0)
    report("store", seconds, len(items_r), stored + crawler.stats.get_value("store/filtered", 0),
           f"({stored} documents, {crawler.stats.get_value('store/batches', 0)} batches; migration {migrate:.2f} s excluded)")
    n_entities = sum(len(e) for e in entities[WORKERS])
    print(f"  NLP sample: {len(sample)} English on-topic texts, {words:,} words, {n_entities:,} entities tagged")

    print(f"  {describe_cpu(stage_cpu.stop(), 'this benchmark')}")

    section("4. Bare nlp.pipe over the same texts (this process, batch_size=32, model loading excluded)")
    bare_cpu = CpuMeter(server_pid)
    bare: dict[str, float] = {}

    def report_bare(key: str, label: str, seconds: float) -> None:
        bare[key] = rate(len(texts), seconds)
        print(f"  {label:<54}{seconds:8.2f} s {bare[key]:9.1f} docs/s  {rate(words, seconds):9,.0f} words/s", flush=True)

    full = load_english()
    print(f"  model {full.meta['lang']}_{full.meta['name']} {full.meta['version']}, components: {', '.join(full.pipe_names)}")
    report_bare("full_1", "(a) full pipeline as shipped, n_process=1", bare_pipe(full, texts, 1))
    report_bare("full_2", "(b) full pipeline as shipped, n_process=2", bare_pipe(full, texts, 2))
    print("      (spaCy forks its 2 workers at each nlp.pipe call: their start is included, no model is reloaded)")
    del full
    same = load_english(disable=DISABLED)
    report_bare("same", "(c) the components the project keeps, n_process=1", bare_pipe(same, texts, 1))
    print(f"      (disabled: {', '.join(DISABLED)}; running: {', '.join(same.pipe_names)})")
    del same
    tagger = Tagger(TaggerSpec.from_topic(load_topic(), stance_model=STANCE_MODEL, batch_size=NLP_BATCH_SIZE))
    tagger.analyse(texts[:WARMUP_TEXTS])
    started = time.perf_counter()
    tagger.analyse(texts)
    report_bare("tagger", "(d) the project's Tagger.analyse in this process", time.perf_counter() - started)
    print(f"      (running: {', '.join(tagger.pipelines['en'].pipe_names)}: (c) plus the sentence recogniser, the "
          f"topic's entity ruler and normaliser, and stance/frames/actors with the {resolved_name(STANCE_MODEL)} model)")

    print(f"  {describe_cpu(bare_cpu.stop(), 'this benchmark')}")
    print("\n  ratio NLP stage / bare nlp.pipe (docs/s over docs/s; above 1 means the stage is faster)")
    ratios = {}
    for workers in (WORKERS, 0):
        stage_rate = rate(len(sample), nlp_seconds[workers])
        for key, label in (("full_1", "full, n_process=1"), ("full_2", "full, n_process=2"),
                           ("same", "same components"), ("tagger", "Tagger.analyse in-process")):
            ratios[(workers, key)] = stage_rate / bare[key]
            print(f"    NLP_WORKERS={workers}: NLP stage / bare nlp.pipe ({label}){'':<{max(0, 26 - len(label))}}"
                  f"{ratios[(workers, key)]:6.2f}")
    for stage in ("validate", "dedup", "extract", "relevance", f"nlp (NLP_WORKERS={WORKERS})", "nlp (NLP_WORKERS=0)", "store"):
        record(f"stage {stage}", rates[stage], "docs/s")
    record("bare nlp.pipe (a) full, n_process=1", bare["full_1"], "docs/s")
    record("bare nlp.pipe (b) full, n_process=2", bare["full_2"], "docs/s")
    record("bare nlp.pipe (c) same components", bare["same"], "docs/s")
    record("Tagger.analyse in-process (d)", bare["tagger"], "docs/s")
    for key, label in (("full_1", "full, n_process=1"), ("full_2", "full, n_process=2"), ("same", "same components")):
        record(f"NLP stage (workers={WORKERS}) / bare ({label})", ratios[(WORKERS, key)], "ratio", 2)
    floor = ratios[(WORKERS, "full_2")]
    print(f"\n  floor: the NLP stage keeps >= 0.40 of a bare full nlp.pipe (n_process=2): {floor:.2f} "
          f"{'met' if floor >= 0.40 else 'NOT MET'}")
    return rates


def tag_benchmark(db: Path, work: Path, crawl: dict[str, float]) -> None:
    """`seedtrack tag --jsonl` over the texts crawl A stored, in a fresh process as a user runs it (model
    loading included, as in the crawl's figure), against the crawl's documents stored per second."""
    import duckdb

    section("5. seedtrack tag alone over the texts crawl A stored (a fresh process, model loading included)")
    con = duckdb.connect(str(db), read_only=True)
    texts = [row[0] for row in con.execute("SELECT coalesce(text, title) FROM documents ORDER BY id").fetchall()]
    con.close()
    path = work / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawler", "tag", str(path), "--jsonl", "--stance-model", STANCE_MODEL],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CRAWL_TIMEOUT)
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or len(proc.stdout.splitlines()) != len(texts):
        raise BenchmarkError(f"seedtrack tag failed:\n{proc.stderr.decode()[-3000:]}")
    tag_rate = rate(len(texts), seconds)
    ratio = crawl["docs_s"] / tag_rate
    print(f"  {len(texts)} texts in {seconds:.1f} s: {tag_rate:.1f} docs/s")
    print(f"  crawl A documents stored/s / seedtrack tag docs/s: {crawl['docs_s']:.1f} / {tag_rate:.1f} = {ratio:.2f}")
    print(f"  floor: the crawl tags and stores >= 0.80 as many documents/s as `seedtrack tag` alone: "
          f"{'met' if ratio >= 0.80 else 'NOT MET'}")
    record("seedtrack tag --jsonl (fresh process)", tag_rate, "docs/s")
    record("crawl A documents/s / seedtrack tag docs/s", ratio, "ratio", 2)


# -- main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="article pages of the replay site (default 2000)")
    parser.add_argument("--nlp-sample", type=int, default=400, metavar="N",
                        help="English on-topic texts for the NLP figures (default 400)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the site and write the databases and logs in DIR (empty or new) and keep them")
    parser.add_argument("--listen-backlog", type=int, metavar="N",
                        help="start the same server with its listen backlog raised to N (default: as shipped, 5)")
    parser.add_argument("--crawl-child", nargs=4, metavar=("MANIFEST", "BASE_URL", "DB", "NLP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.crawl_child:
        manifest, base_url, db, nlp = args.crawl_child
        return crawl_child(manifest, base_url, db, nlp == "1")

    began = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep} is not empty")
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="seedtrack-bench-"))
    server = None
    try:
        print(f"seedtrack crawl benchmark: {args.articles} articles, NLP sample {args.nlp_sample}; "
              f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
        print(f"load average before the start: {load_average()} (other processes share this machine's CPUs)")
        print(f"work folder: {work}{'' if args.keep else ' (deleted at the end)'}")
        from crawler.demo.replay.site import build_site

        section("1. Replay site")
        site = work / "site"
        started = time.perf_counter()
        manifest = build_site(site, articles=args.articles)
        ok = [a for a in manifest["articles"] if a["status"] == 200]
        print(f"built {len(manifest['articles'])} articles ({len(ok)} answer 200) in {time.perf_counter() - started:.1f} s; "
              "sources: " + ", ".join(f"{s['name']} {s['items']}" for s in manifest["sources"]))
        server, base_url = start_server(site, work / "server.log", args.listen_backlog)
        backlog = "as shipped (listen backlog 5)" if args.listen_backlog is None else f"listen backlog {args.listen_backlog}"
        print(f"served by a separate process (pid {server.pid}) at {base_url}: crawler.demo.replay.server {backlog}")

        section("2. Crawls (each in a fresh process, into a fresh DuckDB file)")
        manifest_path = site / "_manifest.json"
        a = print_crawl("A", "full pipeline (validate, dedup, extract, relevance, nlp, store)",
                        run_crawl_process("A", manifest_path, base_url, work / "crawl-a.duckdb", True, work, server.pid))
        b = print_crawl("B", "NLP_ENABLED=False (validate, dedup, extract, relevance, store)",
                        run_crawl_process("B", manifest_path, base_url, work / "crawl-b.duckdb", False, work, server.pid))
        print(f"\n  ratio B/A pages fetched/s   {b['pages_s'] / a['pages_s']:.2f}   "
              f"(over run_crawl only: {b['pages_s_inner'] / a['pages_s_inner']:.2f})")
        print(f"  ratio B/A documents/s       {b['docs_s'] / a['docs_s']:.2f}   "
              f"(over run_crawl only: {b['docs_s_inner'] / a['docs_s_inner']:.2f})")
        print(f"  site article pages answering 200: {len(ok)}")
        for label, fig in (("A", a), ("B", b)):
            record(f"crawl {label} wall time", fig["wall"], "s")
            record(f"crawl {label} pages fetched", fig["fetched"], "pages", 0)
            record(f"crawl {label} documents stored", fig["documents"], "documents", 0)
            record(f"crawl {label} article URLs reached (of {len(ok)})", fig["reached"], "URLs", 0)
            record(f"crawl {label} pages fetched/s", fig["pages_s"], "pages/s")
            record(f"crawl {label} documents stored/s", fig["docs_s"], "docs/s")
        record("crawl B/A pages fetched/s", b["pages_s"] / a["pages_s"], "ratio", 2)
        record("crawl B/A documents stored/s", b["docs_s"] / a["docs_s"], "ratio", 2)
        for label, fig in (("A", a), ("B", b)):
            record(f"crawl {label} requests timed out (30 s)", fig["timeouts"], "requests", 0)
        for label, fig in (("A", a), ("B", b)):
            if fig["cpu"]["ours"] is not None:
                record(f"crawl {label} CPU, crawl process (+NLP worker)", fig["cpu"]["ours"], "CPU s")
            if fig["cpu"]["others"] is not None:
                record(f"crawl {label} CPU, other processes on machine", fig["cpu"]["others"], "CPU s")

        stage_benchmark(site, manifest, base_url, work, args.nlp_sample, server.pid)
        tag_benchmark(work / "crawl-a.duckdb", work, a)
    finally:
        stop_server(server)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    section("Summary")
    print("NLP figures exclude model loading (each pipeline warmed up first); crawl figures include it.")
    width = max(len(f) for f, _, _ in SUMMARY)
    print(f"{'figure':<{width}}  {'value':>10}  unit")
    for figure, value, unit in SUMMARY:
        print(f"{figure:<{width}}  {value:>10}  {unit}")
    print(f"machine: os.cpu_count()={os.cpu_count()}, {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"load average at the end: {load_average()}")
    print(f"benchmark run time: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
