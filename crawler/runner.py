"""Runs one crawl: every selected source of a topic as its own Scrapy crawler, in one process and reactor.

Shows progress while it runs and returns each source's figures for the summary. A crawl process runs
the reactor once; the scheduler starts a new process for every crawl.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence, TextIO

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import task

from crawler.dates import utc_now
from crawler.extensions.runs import run_counts
from crawler.spiders import SPIDERS
from crawler.topic import Source, Topic

SUMMARY_COLUMNS = ("fetched", "new", "duplicates", "filtered", "errors")


@dataclass
class SourceResult:
    source: Source
    status: str
    counts: dict[str, int]
    seconds: float


def crawl_settings(topic: Topic, db: str | Path, overrides: Mapping[str, Any] = ()) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("SEEDTRACK_DB", str(db), priority="project")
    settings.set("SEEDTRACK_TOPIC", topic.path, priority="project")
    settings.set("SEEDTRACK_RUN_ID", f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", priority="project")
    user_agent = topic.user_agent or settings.get("USER_AGENT")
    if topic.contact and topic.contact not in user_agent:
        user_agent = f"{user_agent} (+{topic.contact})"
    settings.set("USER_AGENT", user_agent, priority="project")
    settings.update(dict(overrides), priority="cmdline")
    return settings


def apply_source_settings(settings: Settings, source: Source) -> None:
    """Apply the source's own politeness options to its crawler's settings."""
    if "download_delay" in source.options:
        settings.set("DOWNLOAD_DELAY", float(source.options["download_delay"]), priority="cmdline")


def run_crawl(
    topic: Topic, sources: Sequence[Source], settings: Settings, progress: TextIO | None = sys.stderr
) -> list[SourceResult]:
    process = CrawlerProcess(settings)
    crawlers = []
    for source in sources:
        crawler = process.create_crawler(SPIDERS[source.kind])
        apply_source_settings(crawler.settings, source)
        process.crawl(crawler, source=source)
        crawlers.append((source, crawler))
    started = time.monotonic()
    if progress is not None:
        interval = 1.0 if progress.isatty() else 5.0
        ticker = task.LoopingCall(_show_progress, crawlers, started, progress)
        ticker.start(interval, now=False)
    process.start()
    if progress is not None:
        if ticker.running:
            ticker.stop()
        if progress.isatty():
            progress.write("\n")
    results = []
    for source, crawler in crawlers:
        stats = crawler.stats.get_stats()
        status = stats.get("source/status") or stats.get("finish_reason") or "interrupted"
        seconds = stats.get("elapsed_time_seconds") or 0.0
        results.append(SourceResult(source, status, run_counts(stats), seconds))
    return results


def _show_progress(crawlers, started: float, out: TextIO) -> None:
    totals = dict.fromkeys(SUMMARY_COLUMNS, 0)
    done = 0
    for _source, crawler in crawlers:
        stats = crawler.stats.get_stats()
        done += "finish_reason" in stats
        for key, value in run_counts(stats).items():
            totals[key] += value
    line = (
        f"[{time.monotonic() - started:5.0f}s] {done}/{len(crawlers)} sources done · "
        + " · ".join(f"{key} {value}" for key, value in totals.items())
    )
    out.write(("\r" + line) if out.isatty() else (line + "\n"))
    out.flush()


def format_summary(results: Sequence[SourceResult]) -> str:
    header = ("source", "kind", "status", *SUMMARY_COLUMNS, "seconds")
    rows = [
        (r.source.name, r.source.kind, r.status, *(str(r.counts[c]) for c in SUMMARY_COLUMNS), f"{r.seconds:.1f}")
        for r in results
    ]
    totals = [sum(r.counts[c] for r in results) for c in SUMMARY_COLUMNS]
    rows.append(("total", "", "", *(str(t) for t in totals), ""))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        lines.append("  ".join(cell.rjust(w) if i >= 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)
