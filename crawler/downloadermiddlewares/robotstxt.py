"""Downloader middlewares of seedtrack.

``RobotsTxtMiddleware`` fixes Scrapy 2.19's robots.txt check for requests that arrive while robots.txt
is still being fetched: they all await one Deferred, whose callback chain hands the parser to the
first of them and ``None`` ("allowed") to the others, so disallowed pages slipped through whenever
several requests to a new host started at once. Here each waiter reads the parser once it is known.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.compat import robots_parsers


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        parsers = robots_parsers(self)
        pending = parsers.get(netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()
            pending.addBoth(lambda result: (waiter.callback(None), result)[1])
            await maybe_deferred_to_future(waiter)
            return parsers.get(netloc)
        return await super().robot_parser(request)
