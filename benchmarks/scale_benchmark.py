"""Storage at a million documents: write rate, file size, timeline reads, exports and status, through the
project's own write path.

Synthetic documents (~600 words, ~8 entities, ~2 frames and ~1 actor each; a third are posts with an
engagement snapshot; one in ten a wire copy of an earlier text; one in twenty found under an alias; a year
of days, written in time order with a day of jitter) are written with ``Database(keep_open=True).store``
in batches of ``STORE_BATCH_SIZE``, as the store stage writes them. Story clustering (``stories.assign``,
~10 ms a document of 600 words, flat in the database size: ``story_benchmark.py`` measures it) would hide
the storage figures, so by default each document gets a story id by a cheap rule instead (a wire copy
shares its original's) and ``stories.update`` is skipped; ``--with-stories`` runs the real clustering. At each
checkpoint (100k, 500k, 1M by default) the script prints the write rate over the last interval
(documents/s and rows/s per table, and documents per CPU second of the process, its threads summed: on a
shared machine other work lengthens the wall time, not much the CPU time; and the speed of a fixed reference
write timed every 25 batches, by which the write rate is also given at the first interval's machine speed: two
vCPUs may be one core's two threads, and work on one slows every statement on the other), the file size per million documents, ``SELECT * FROM timeline`` and
``frame_timeline`` in-process, ``seedtrack sql`` through the CLI (beside ``seedtrack --help`` alone),
``seedtrack export documents`` to CSV and Parquet (time and peak memory of the subprocess, /usr/bin/time
-v) and ``seedtrack status``'s peak memory; then ratios between checkpoints and an estimate at 10M.
``--profile`` also prints, per interval, the time per batch of each statement the batch runs and of the
commit (with the checkpoints it runs), slowest first: what to look at when the write rate is not flat.
``--only-write`` skips the reads and exports at the checkpoints.

Usage: nice -n 5 python benchmarks/scale_benchmark.py [--documents 1000000] [--at 100000 500000 1000000]
       python benchmarks/scale_benchmark.py --documents 20000 --at 10000 20000     (a quick run)
       python benchmarks/scale_benchmark.py --documents 1000000 --at 50000 300000 --profile --only-write
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from crawler.settings import STORE_BATCH_SIZE
from crawler.storage import Database, queries

SEEDTRACK = [sys.executable, "-m", "crawler"]
VOCABULARY = 30_000
WORDS = 600
START = datetime(2025, 1, 1)
DAYS = 365
SOURCES = [f"source{n}" for n in range(12)]
SITES = [f"site{n}.example" for n in range(300)]
FRAMES = ("economic", "legal", "safety", "cultural", "political", "technology")
STANCES = ("favor", "against", "neutral")
LABELS = ("PERSON", "ORG", "GPE", "PRODUCT")
TABLES = ("documents", "entities", "frames", "actors", "engagement", "url_aliases")


class CheapStories:
    """Stands in for ``crawler.storage.stories`` in the write path: a story id per distinct text."""

    @staticmethod
    def assign(con, documents, entities=()):
        for doc in documents:
            doc["story_id"] = int(hashlib.sha1(doc["text"].encode()).hexdigest()[:12], 16)
        return {doc["id"] for doc in documents}

    @staticmethod
    def update(con, documents, frames=()):
        pass


class Profile:
    """Seconds per statement (its first 100 characters) of ``batches.store``, and in the rest of
    ``Database.store`` (the commit, with the checkpoints it runs), since ``reset``."""

    def __init__(self):
        from crawler.storage import batches

        self.store = batches.store
        batches.store = self._store
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.inner = 0.0

    def _store(self, con, *args):
        start = time.perf_counter()
        try:
            return self.store(_Timed(con, self.seconds), *args)
        finally:
            self.inner += time.perf_counter() - start

    def report(self, batches: int, store_seconds: float) -> None:
        rest = {"(python in batches.store)": self.inner - sum(self.seconds.values()),
                "(commit and checkpoints)": store_seconds - self.inner}
        for name, seconds in sorted({**self.seconds, **rest}.items(), key=lambda kv: -kv[1])[:16]:
            print(f"    {seconds / batches * 1000:7.2f} ms/batch  {name}")


class Reference:
    """The same small write, timed every ``EVERY`` batches: how fast the machine is over each interval
    (2 shared vCPUs, perhaps one core's two threads: another process on the other one slows every statement
    alike). A 200-row Arrow batch of the corpus's shape inserted into, and deleted from, an in-memory DuckDB
    table holding 20,000 rows, plus the Python that builds it; its cost does not depend on the file."""

    EVERY = 25

    def __init__(self):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("CREATE TABLE ref (id VARCHAR PRIMARY KEY, day DATE, source VARCHAR, text VARCHAR)")
        self.con.execute("INSERT INTO ref SELECT 'r' || i, DATE '2026-01-01' + (i % 365)::INTEGER, 's' || (i % 9), "
                         "repeat('word ', 600) FROM range(20000) t(i)")
        self.seconds, self.calls = 0.0, 0

    def run(self) -> None:
        start = time.perf_counter()
        rows = [{"id": f"x{i}", "day": START.date(), "source": f"s{i % 9}", "text": " ".join(["word"] * 600)}
                for i in range(200)]
        batch = pa.Table.from_pylist(rows)
        self.con.register("refbatch", batch)
        self.con.execute("INSERT INTO ref SELECT * FROM refbatch")
        self.con.execute("SELECT source, count(*) FROM ref WHERE day = ? GROUP BY source", [START.date()]).fetchall()
        self.con.execute("DELETE FROM ref WHERE id LIKE 'x%'")
        self.con.unregister("refbatch")
        self.seconds += time.perf_counter() - start
        self.calls += 1

    @staticmethod
    def fresh_ms(runs: int = 40) -> float:
        """The reference's median time in a fresh process on the same machine: slower there too means the
        machine is slower; fast there while slow here means this process is."""
        code = ("import sys, time; sys.path.insert(0, %r); import scale_benchmark as b; r = b.Reference(); "
                "times = []\nfor _ in range(%d):\n    t = r.seconds; r.run(); times.append(r.seconds - t)\n"
                "print(sorted(times)[len(times) // 2] * 1000)") % (str(Path(__file__).parent), runs)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    def take(self) -> float:
        """Milliseconds per run since the last take (one run now if none)."""
        if not self.calls:
            self.run()
        ms = self.seconds / max(1, self.calls) * 1000
        self.seconds, self.calls = 0.0, 0
        return ms


class _Timed:
    """A connection whose ``execute`` and ``executemany`` add their time (results fetched) to ``seconds``."""

    def __init__(self, con, seconds: dict[str, float]):
        self._con, self._seconds = con, seconds

    def _run(self, method: str, sql: str, *args):
        start = time.perf_counter()
        cursor = getattr(self._con, method)(sql, *args)
        rows = cursor.fetchall() if cursor.description else []
        self._seconds[" ".join(sql.split())[:100]] += time.perf_counter() - start
        return _Rows(rows)

    def execute(self, sql: str, *args):
        return self._run("execute", sql, *args)

    def executemany(self, sql: str, *args):
        return self._run("executemany", sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


class _Rows:
    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


class Corpus:
    """Deterministic synthetic rows, ``batch(start, n)`` at a time."""

    def __init__(self, total: int, seed: int = 0):
        self.total = total
        self.rng = np.random.default_rng(seed)
        self.words = np.array([f"w{n}" for n in range(VOCABULARY)])
        ranks = np.arange(1, VOCABULARY + 1)
        self.p = (1 / ranks) / (1 / ranks).sum()  # Zipf
        self.names = [f"Name{n} Surname{n % 997}" for n in range(5000)]
        self.recent: list[str] = []

    def _texts(self, n: int) -> list[str]:
        words = self.words[self.rng.choice(VOCABULARY, (n, WORDS), p=self.p)]
        texts = []
        for row in words:
            if self.recent and self.rng.random() < 0.1:  # a wire copy of a recent text
                texts.append(self.recent[int(self.rng.integers(len(self.recent)))])
            else:
                texts.append(" ".join(row))
                self.recent = (self.recent + [texts[-1]])[-200:]
        return texts

    def batch(self, start: int, n: int) -> dict[str, list[dict]]:
        rows = {"documents": [], "entities": [], "frames": [], "actors": [], "engagement": [], "aliases": []}
        rng = self.rng
        texts = self._texts(n)
        for i in range(start, start + n):
            doc_id = hashlib.sha1(f"doc{i}".encode()).hexdigest()
            when = START + timedelta(days=DAYS * i / self.total + float(rng.uniform(-1, 0)), seconds=i % 86400)
            kind = "post" if i % 3 == 0 else "article"
            stance = STANCES[int(rng.integers(3))]
            text = texts[i - start]
            rows["documents"].append({
                "id": doc_id, "url": f"https://{SITES[i % len(SITES)]}/{i}", "source": SOURCES[i % len(SOURCES)],
                "source_kind": "rss", "kind": kind, "title": f"Title {i}", "summary": text[:200], "text": text,
                "text_source": "page", "author": None, "site": SITES[i % len(SITES)], "published_at": when,
                "fetched_at": when + timedelta(hours=1), "lang": "en", "analysed": True, "relevance": "on_topic",
                "matched_terms": ["seedance"], "word_count": WORDS, "found_via": "feed", "run_id": f"run{i // 5000}",
                "stance": stance, "stance_score": float(rng.uniform(-1, 1)), "stance_confidence": 0.8,
                "stance_evidence": ["a sentence"], "nlp_version": "bench",
                "platform": "bluesky" if kind == "post" else None, "platform_id": str(i) if kind == "post" else None,
            })
            for e in range(8):
                name = self.names[int(rng.integers(len(self.names)))]
                rows["entities"].append({"doc_id": doc_id, "text": name, "label": LABELS[e % 4], "norm": name.lower(),
                                         "start_char": e * 40, "end_char": e * 40 + len(name)})
            for f in rng.choice(len(FRAMES), 2, replace=False):
                rows["frames"].append({"doc_id": doc_id, "frame": FRAMES[int(f)], "stance": stance,
                                       "score": float(rng.uniform(-1, 1)), "confidence": 0.7})
            rows["actors"].append({"doc_id": doc_id, "actor": self.names[i % 5000], "label": "PERSON",
                                   "stance": stance, "score": 0.5, "evidence": "said"})
            if kind == "post":
                rows["engagement"].append({"doc_id": doc_id, "observed_at": when + timedelta(hours=1),
                                           "likes": int(rng.integers(100)), "reposts": int(rng.integers(20)),
                                           "replies": int(rng.integers(10)), "views": None, "score": None,
                                           "run_id": f"run{i // 5000}"})
            if i % 20 == 0:
                rows["aliases"].append({"alias_id": hashlib.sha1(f"alias{i}".encode()).hexdigest(), "doc_id": doc_id,
                                        "url": f"https://news.example/r/{i}"})
        return rows


def timed(fn, repeat: int = 3) -> float:
    """The best of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_measured(args: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB) of a seedtrack subprocess."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *SEEDTRACK, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"seedtrack {' '.join(args)} failed: {done.stderr[-2000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return seconds, peak_kb / 1024


def measure(db: Database, work: Path) -> dict[str, float]:
    db.release()  # checkpointed, as a reader finds it
    m: dict[str, float] = {"size_mb": queries.file_size(db) / 1e6}
    with db.reading() as con:
        m["timeline_s"] = timed(lambda: con.execute("SELECT * FROM timeline").fetchall())
        m["frame_timeline_s"] = timed(lambda: con.execute("SELECT * FROM frame_timeline").fetchall())
        m["timeline_rows"] = con.execute("SELECT count(*) FROM timeline").fetchone()[0]
    m["query_s"] = timed(lambda: db.query("SELECT * FROM timeline"))
    m["help_s"] = timed(lambda: subprocess.run([*SEEDTRACK, "--help"], capture_output=True, check=True), 2)
    m["cli_sql_s"] = timed(lambda: subprocess.run([*SEEDTRACK, "sql", "SELECT * FROM timeline", "--db", str(db.path),
                                                   "--format", "csv"], capture_output=True, check=True), 2)
    for fmt in ("csv", "parquet"):
        out = work / f"documents.{fmt}"
        m[f"export_{fmt}_s"], m[f"export_{fmt}_mb"] = run_measured(
            ["export", "documents", "-o", str(out), "--format", fmt, "--db", str(db.path)])
        out.unlink()
    m["status_s"], m["status_mb"] = run_measured(["status", "--db", str(db.path)])
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--at", type=int, nargs="*", help="checkpoints (default: 100k, 500k and the total)")
    parser.add_argument("--batch", type=int, default=STORE_BATCH_SIZE)
    parser.add_argument("--dir", type=Path, help="where the database goes (default: a temporary directory)")
    parser.add_argument("--with-stories", action="store_true", help="cluster stories in the write path, as a crawl does")
    parser.add_argument("--profile", action="store_true", help="time per batch of each statement, per interval")
    parser.add_argument("--only-write", action="store_true", help="no reads, exports or status at the checkpoints")
    args = parser.parse_args()
    profile = Profile() if args.profile else None
    if not args.with_stories:
        from crawler.storage import batches

        batches.stories = CheapStories
    total = args.documents
    at = sorted(set(args.at or [n for n in (100_000, 500_000) if n < total] + [total]))
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=args.dir))
    db = Database(work / "scale.duckdb", keep_open=True)
    corpus = Corpus(total)
    print(f"scale benchmark: {total:,} documents of ~{WORDS} words, batches of {args.batch}, story clustering "
          f"{'on' if args.with_stories else 'off'}, file {db.path}")
    results: list[tuple[int, dict[str, float]]] = []
    written, mark, mark_rows, rows_total = 0, time.perf_counter(), dict.fromkeys(TABLES, 0), dict.fromkeys(TABLES, 0)
    write_seconds = cpu_seconds = 0.0
    reference, batch_no = Reference(), 0
    for checkpoint in at:
        interval_start, interval_cpu, interval_docs = write_seconds, cpu_seconds, written
        if profile:
            profile.reset()
        while written < checkpoint:
            n = min(args.batch, checkpoint - written)
            rows = corpus.batch(written, n)
            start, cpu = time.perf_counter(), time.process_time()
            db.store(**rows)
            write_seconds += time.perf_counter() - start
            cpu_seconds += time.process_time() - cpu
            batch_no += 1
            if batch_no % Reference.EVERY == 0:
                reference.run()
            for table in TABLES:
                rows_total[table] += len(rows["aliases" if table == "url_aliases" else table])
            written += n
        seconds = write_seconds - interval_start
        m = {"docs_per_s": (written - interval_docs) / seconds,
             "docs_per_cpu_s": (written - interval_docs) / (cpu_seconds - interval_cpu),
             "reference_ms": reference.take(), "fresh_reference_ms": Reference.fresh_ms()}
        # the write rate at the first interval's machine speed: what the file's growth alone costs
        m["docs_per_s_same_machine"] = m["docs_per_s"] * m["reference_ms"] / (results[0][1] if results else m)["reference_ms"]
        for table in TABLES:
            m[f"{table}_rows_per_s"] = (rows_total[table] - mark_rows[table]) / seconds
        mark_rows = dict(rows_total)
        print(f"\nat {written:,} documents (interval {interval_docs:,}-{written:,}: {seconds:.0f} s of writing)")
        print(f"  write: {m['docs_per_s']:,.0f} documents/s; rows/s: " +
              ", ".join(f"{t} {m[f'{t}_rows_per_s']:,.0f}" for t in TABLES) +
              f"; {m['docs_per_cpu_s']:,.0f} documents per CPU second (all threads: what a busy machine's other "
              f"work does not inflate); this process's peak memory "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
        print(f"  machine speed: the reference write took {m['reference_ms']:.1f} ms here (every {Reference.EVERY} "
              f"batches), {m['fresh_reference_ms']:.1f} ms (median) in a fresh process; "
              f"the write rate at the first interval's speed: {m['docs_per_s_same_machine']:,.0f} documents/s")
        if profile:
            profile.report(-(-(written - interval_docs) // args.batch), seconds)
        if args.only_write:
            results.append((written, m))
            continue
        m.update(measure(db, work))
        m["size_mb_per_million"] = m["size_mb"] * 1e6 / written
        results.append((written, m))
        print(f"  file: {m['size_mb']:,.0f} MB ({m['size_mb_per_million']:,.0f} MB per million documents)")
        print(f"  SELECT * FROM timeline ({m['timeline_rows']:,} rows) {m['timeline_s'] * 1000:.1f} ms, frame_timeline "
              f"{m['frame_timeline_s'] * 1000:.1f} ms (in-process, open connection; Database.query with its "
              f"open {m['query_s'] * 1000:.0f} ms); seedtrack sql {m['cli_sql_s']:.2f} s (seedtrack --help "
              f"{m['help_s']:.2f} s)")
        print(f"  export documents: csv {m['export_csv_s']:.1f} s, peak {m['export_csv_mb']:,.0f} MB; parquet "
              f"{m['export_parquet_s']:.1f} s, peak {m['export_parquet_mb']:,.0f} MB")
        print(f"  status: {m['status_s']:.2f} s, peak {m['status_mb']:,.0f} MB")
        sys.stdout.flush()
    db.release()
    if len(results) > 1 and args.only_write:
        (n0, first), (n1, last) = results[0], results[-1]
        print(f"\nratio {n1:,} / {n0:,} documents: write rate {last['docs_per_s'] / first['docs_per_s']:.2f}x, "
              f"per CPU second {last['docs_per_cpu_s'] / first['docs_per_cpu_s']:.2f}x, at the first interval's "
              f"machine speed {last['docs_per_s_same_machine'] / first['docs_per_s_same_machine']:.2f}x")
    elif len(results) > 1:
        (n0, first), (n1, last) = results[0], results[-1]
        print(f"\nratios {n1:,} / {n0:,} documents:")
        for key, label in (("docs_per_s", "write rate"), ("docs_per_cpu_s", "documents per CPU second"),
                           ("reference_ms", "reference write time (machine speed)"),
                           ("fresh_reference_ms", "reference write time in a fresh process"),
                           ("docs_per_s_same_machine", "write rate at the first interval's machine speed"),
                           ("size_mb_per_million", "MB per million"),
                           ("timeline_s", "timeline"), ("frame_timeline_s", "frame_timeline"),
                           ("export_csv_s", "export csv time"), ("export_csv_mb", "export csv memory"),
                           ("export_parquet_mb", "export parquet memory"), ("status_mb", "status memory")):
            print(f"  {label}: {last[key] / first[key]:.2f}x")
        # 10M: the write rate and read times follow their trend per 10x documents; size and export time scale
        # with the documents; the aggregates hold one row per day and source, so reads do not grow with them.
        per_decade = (last["docs_per_s"] / first["docs_per_s"]) ** (1 / np.log10(n1 / n0))
        scale = 10_000_000 / n1
        print(f"\nestimate at 10,000,000 documents: write {last['docs_per_s'] * per_decade ** np.log10(scale):,.0f} "
              f"documents/s, file {last['size_mb_per_million'] * 10 / 1000:,.1f} GB, export csv "
              f"{last['export_csv_s'] * scale:.0f} s at ~{last['export_csv_mb']:,.0f} MB, timeline "
              f"~{last['timeline_s'] * 1000:.1f} ms (its rows grow with days x sources, not documents)")
    print(f"\n(database left at {db.path}; delete the directory when done)")


if __name__ == "__main__":
    random.seed(0)
    main()
