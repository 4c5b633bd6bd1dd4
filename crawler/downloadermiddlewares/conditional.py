"""Conditional requests for feeds and APIs: a 304 Not Modified costs a round trip and no parsing.

Requests marked ``meta["conditional"]`` (the source requests of every spider) carry the ``ETag`` and
``Last-Modified`` their URL last answered with, as ``If-None-Match`` and ``If-Modified-Since``. A 304
becomes ``NotModified``, which the spider's errback ignores: nothing to parse, nothing to record.

The validators are kept in ``http_validators`` (loaded and saved by ``extensions/crawlstate.py``), saved only when the source's run finished with no
error: a run that was killed, stopped or lost a page must read the whole feed again next time, or the
entries it did not finish would never be seen again. A spider that finds a response must be read in
full every time (a sitemap index, whose children change while it does not) sets
``response.meta["conditional_save"] = False``.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest, NotConfigured


class NotModified(IgnoreRequest):
    """The server answered 304: the feed or API result is unchanged since the last complete run."""


class ConditionalRequestMiddleware:
    """Reads the validators the crawl-state extension loaded (``spider.validators``) and collects those
    answered in ``spider.answered``; the extension saves them when the spider closes."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("CONDITIONAL_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request):
        stored = self.crawler.spider.validators
        if request.meta.get("conditional") and request.url in stored:
            etag, modified = stored[request.url]
            if etag:
                request.headers.setdefault("If-None-Match", etag)
            if modified:
                request.headers.setdefault("If-Modified-Since", modified)
        return None

    def process_response(self, request, response):
        if not request.meta.get("conditional"):
            return response
        spider = self.crawler.spider
        # the meta itself is kept (not its flag): a spider may set conditional_save after parsing
        if response.status == 304 and request.url in spider.validators:
            spider.answered[request.url] = (*spider.validators[request.url], request.meta)
            self.crawler.stats.inc_value("conditional/not_modified")
            raise NotModified(f"not modified: {request.url}")
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if response.status == 200 and (etag or modified):
            spider.answered[request.url] = (etag and etag.decode("latin-1"), modified and modified.decode("latin-1"),
                                            request.meta)
        return response
