"""Conditional requests for feeds and APIs: a 304 Not Modified costs a round trip and no parsing.

Requests marked ``meta["conditional"]`` (the source requests of every spider) carry the ``ETag`` and
``Last-Modified`` their URL last answered with, as ``If-None-Match`` and ``If-Modified-Since``. A 304
becomes ``NotModified``, which the spider's errback ignores: nothing to parse, nothing to record.

The validators are kept in ``http_validators`` and saved only when the source's run finished with no
error: a run that was killed, stopped or lost a page must read the whole feed again next time, or the
entries it did not finish would never be seen again. A spider that finds a response must be read in
full every time (a sitemap index, whose children change while it does not) sets
``response.meta["conditional_save"] = False``.
"""

from __future__ import annotations

import asyncio

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.database import Database
from crawler.dates import utc_now


class NotModified(IgnoreRequest):
    """The server answered 304: the feed or API result is unchanged since the last complete run."""


class ConditionalRequestMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.database = Database(crawler.settings["SEEDTRACK_DB"])
        self.stored: dict[str, tuple[str | None, str | None]] = {}
        # url -> (etag, modified, meta): the meta itself, since a spider may set conditional_save after parsing
        self.answered: dict[str, tuple[str | None, str | None, dict]] = {}
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("CONDITIONAL_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        if not self.database.path.exists():
            return
        with self.database.reading() as con:
            rows = con.execute("SELECT url, etag, last_modified FROM http_validators WHERE source = ?",
                               [spider.name]).fetchall()
        self.stored = {url: (etag, modified) for url, etag, modified in rows}

    def process_request(self, request):
        if request.meta.get("conditional") and request.url in self.stored:
            etag, modified = self.stored[request.url]
            if etag:
                request.headers.setdefault("If-None-Match", etag)
            if modified:
                request.headers.setdefault("If-Modified-Since", modified)
        return None

    def process_response(self, request, response):
        if not request.meta.get("conditional"):
            return response
        if response.status == 304 and request.url in self.stored:
            self.answered[request.url] = (*self.stored[request.url], request.meta)
            self.crawler.stats.inc_value("conditional/not_modified")
            raise NotModified(f"not modified: {request.url}")
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if response.status == 200 and (etag or modified):
            self.answered[request.url] = (etag and etag.decode("latin-1"), modified and modified.decode("latin-1"),
                                          request.meta)
        return response

    async def spider_closed(self, spider, reason: str) -> None:
        errors = self.crawler.stats.get_value("source/errors", 0)
        if reason != "finished" or errors or not self.answered:
            return
        from pipelines.store import writer_thread

        rows = [(url, spider.name, etag, modified, utc_now()) for url, (etag, modified, meta) in self.answered.items()
                if meta.get("conditional_save", True)]
        if not rows:
            return
        await asyncio.get_running_loop().run_in_executor(writer_thread(), self._save, rows)

    def _save(self, rows: list[tuple]) -> None:
        with self.database.writing() as con:
            con.executemany(
                "INSERT INTO http_validators (url, source, etag, last_modified, checked_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET source = excluded.source, etag = excluded.etag, "
                "last_modified = excluded.last_modified, checked_at = excluded.checked_at", rows)
