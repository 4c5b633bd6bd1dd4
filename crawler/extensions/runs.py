"""Records each source's run in ``crawl_runs`` (counts, outcome, timing) and its errors in ``errors``.

The rows are written by the process's store writer thread, so the reactor never waits for the file lock;
a worker of a distributed crawl sends them to the item stream instead (``stream.output_for``).
"""

from __future__ import annotations

import asyncio

from scrapy import signals

from crawler.distributed.stream import output_for
from crawler.storage.writer import writer_thread
from crawler.text.dates import utc_now


def run_counts(stats: dict) -> dict[str, int]:
    """The per-source figures shown in the summary and stored in crawl_runs, from a crawler's stats."""
    return {
        "fetched": stats.get("downloader/response_count", 0) - stats.get("robotstxt/response_count", 0),
        "new": stats.get("store/new", 0),
        "duplicates": stats.get("dedup/dropped", 0) + stats.get("dedup/skipped_fetch", 0)
        + stats.get("store/duplicates", 0),
        "filtered": stats.get("relevance/filtered", 0) + stats.get("relevance/skipped_entry", 0),
        "errors": stats.get("source/errors", 0),
    }


class RunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.database = output_for(crawler.settings)
        self.started_at = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        self.started_at = utc_now()

    def spider_error(self, failure, response, spider) -> None:
        spider.record_error(response.url, f"spider error: {failure.getErrorMessage()}")

    def item_error(self, item, response, spider, failure) -> None:
        spider.record_error(getattr(item, "url", None), f"pipeline error: {failure.getErrorMessage()}")

    async def spider_closed(self, spider, reason: str) -> None:
        await asyncio.get_running_loop().run_in_executor(writer_thread(), self.record, spider, reason)

    def record(self, spider, reason: str) -> None:
        finished = utc_now()
        counts = run_counts(self.crawler.stats.get_stats())
        if reason != "finished":
            status = reason
        elif counts["errors"] and not (counts["new"] or counts["duplicates"] or counts["filtered"]):
            status = "failed"  # errors and nothing to show for them
        else:
            status = "partial" if counts["errors"] else "ok"
        self.database.store(errors=spider.errors)
        self.database.record_run(
            {
                "run_id": self.crawler.settings["SEEDTRACK_RUN_ID"], "source": spider.source.name,
                "source_kind": spider.source.kind, "started_at": self.started_at, "finished_at": finished,
                "status": status, **counts, "seconds": (finished - self.started_at).total_seconds(),
            }
        )
        self.crawler.stats.set_value("source/status", status)
