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
from scrapy.utils.misc import load_object
from twisted.internet import task
from twisted.python.failure import Failure

from crawler.compat import built_component
from crawler.text.dates import utc_now
from crawler.errors import CrawlFailed, CrawlSetupError
from crawler.app.overrides import project_scrapy_settings
from crawler.extensions.runs import run_counts
from crawler.spiders import spider_class
from crawler.topic import Source, Topic

SUMMARY_COLUMNS = ("fetched", "new", "duplicates", "filtered", "errors")


# The component settings of a crawl, named as a user would name what failed to load.
COMPONENT_SETTINGS = {"ITEM_PIPELINES": "pipeline stage", "DOWNLOADER_MIDDLEWARES": "downloader middleware",
                      "SPIDER_MIDDLEWARES": "spider middleware", "EXTENSIONS": "extension"}
REINSTALL_HINT = "reinstall seedtrack as the README says (pip install .), or remove it from the settings"


@dataclass
class SourceResult:
    source: Source
    status: str
    counts: dict[str, int]
    seconds: float
    offline: bool = False  # every request failed because no host name resolved


def check_components(settings: Settings) -> None:
    """Import every enabled pipeline stage, middleware and extension before the reactor starts, so a broken
    install (a missing module, an import error inside a dependency) stops the crawl with one clear line."""
    for setting, what in COMPONENT_SETTINGS.items():
        for path, order in settings.getwithbase(setting).items():
            if order is None:
                continue
            try:
                load_object(path)
            except Exception as exc:  # noqa: BLE001 - any import-time failure is reported the same way
                raise CrawlSetupError(f"cannot load the {what} {path}: {type(exc).__name__}: {exc}; {REINSTALL_HINT}") from exc


def crawl_settings(topic: Topic, db: str | Path, overrides: Mapping[str, Any] = ()) -> Settings:
    settings = project_scrapy_settings()
    settings.set("SEEDTRACK_DB", str(db), priority="project")
    settings.set("SEEDTRACK_TOPIC", topic.path, priority="project")
    settings.set("SEEDTRACK_RUN_ID", f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", priority="project")
    user_agent = topic.user_agent or settings.get("USER_AGENT")
    if topic.contact and topic.contact not in user_agent:
        user_agent = f"{user_agent} (+{topic.contact})"
    settings.set("USER_AGENT", user_agent, priority="project")
    settings.update(dict(overrides), priority="cmdline")
    if settings.get("REDIS_URL"):  # one worker of a distributed crawl (crawler/distributed/)
        from crawler.distributed.worker import worker_settings

        worker_settings(settings)
    return settings


def apply_source_settings(settings: Settings, source: Source) -> None:
    """Apply the source's own politeness options to its crawler's settings."""
    if "download_delay" in source.options:
        settings.set("DOWNLOAD_DELAY", float(source.options["download_delay"]), priority="cmdline")


def run_crawl(
    topic: Topic, sources: Sequence[Source], settings: Settings, progress: TextIO | None = sys.stderr
) -> list[SourceResult]:
    check_components(settings)
    process = CrawlerProcess(settings)
    crawlers, failures = [], []

    def setup_failed(failure: Failure, source: Source) -> None:
        if not failures:
            component = built_component(failure)
            where = f" ({component})" if component else ""
            failures.append(f"the crawl of source {source.name!r} could not start{where}: "
                            f"{failure.type.__name__}: {failure.getErrorMessage()}")
            process.stop()

    for source in sources:
        crawler = process.create_crawler(spider_class(source.kind))
        apply_source_settings(crawler.settings, source)
        process.crawl(crawler, source=source).addErrback(setup_failed, source)
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
    if failures:
        raise CrawlSetupError(failures[0])
    unwritten = [m for _source, crawler in crawlers if (m := crawler.stats.get_value("store/unwritten"))]
    if unwritten:  # the store stage could not write what it had: the crawl failed, whatever it fetched
        raise CrawlFailed("; ".join(unwritten))
    results = []
    for source, crawler in crawlers:
        stats = crawler.stats.get_stats()
        status = stats.get("source/status") or stats.get("finish_reason") or "interrupted"
        seconds = stats.get("elapsed_time_seconds") or 0.0
        results.append(SourceResult(source, status, run_counts(stats), seconds, _offline(stats)))
    return results


def _offline(stats: dict) -> bool:
    """No response at all, and host names that did not resolve."""
    prefix = "downloader/exception_type_count/"
    unresolved = sum(v for k, v in stats.items() if k.startswith(prefix) and k.rsplit(".", 1)[-1]
                     in ("DNSLookupError", "CannotResolveHostError"))
    return unresolved > 0 and not stats.get("downloader/response_count")


OFFLINE_HINT = ("no source's host name could be resolved: this machine seems to be offline. "
                "`seedtrack demo` runs the whole crawl against a replay site on 127.0.0.1 instead.")


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
