"""``CONCURRENT_REQUESTS_PER_DOMAIN`` for the whole crawl process, not for each source's crawler.

Every source of a crawl is its own Scrapy crawler with its own downloader, so two sources leading to one
site (its RSS feed and its sitemap, say) would each use the full per-domain limit. This middleware keeps
one semaphore per host for the process: a request waits for a free place before it is downloaded, and
frees it when its response or its failure comes back. It runs last before the download, after robots.txt
and the other middlewares have had their say.

It also makes the limit hold inside one crawler: Scrapy 2.19's downloader starts every request queued in a
slot at once when there is no download delay (it counts a request as transferring only once its download
task runs), so with AutoThrottle off a burst of links went out all together.
"""

from __future__ import annotations

import asyncio

from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

_HOSTS: dict[str, asyncio.Semaphore] = {}  # host -> places left, shared by every crawler of the process
_META = "seedtrack_host_place"


class HostLimitMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.limit = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("HOSTLIMIT_ENABLED") or crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") < 1:
            raise NotConfigured
        return cls(crawler)

    async def process_request(self, request):
        host = urlparse_cached(request).hostname or ""
        places = _HOSTS.setdefault(host, asyncio.Semaphore(self.limit))
        if places.locked():
            self.crawler.stats.inc_value("hostlimit/waits")
        await places.acquire()
        request.meta[_META] = host
        return None

    def process_response(self, request, response):
        self._release(request)
        return response

    def process_exception(self, request, exception):
        self._release(request)
        return None

    @staticmethod
    def _release(request) -> None:
        host = request.meta.pop(_META, None)
        if host is not None:
            _HOSTS[host].release()
