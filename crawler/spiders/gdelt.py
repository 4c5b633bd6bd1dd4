"""The GDELT DOC 2.0 API (kind ``gdelt``): ``mode=artlist&format=json`` article lists, one request per query.

GDELT asks for at most one request every five seconds, so this spider waits that long between requests
unless the source sets ``download_delay`` (applied by the runner).
"""

from __future__ import annotations

from scrapy.http import Response

from crawler.parsers.feeds import FeedError, parse_gdelt_artlist
from crawler.spiders.base import TopicSpider


class GdeltSpider(TopicSpider):
    name = "gdelt"
    kind = "gdelt"
    custom_settings = {"DOWNLOAD_DELAY": 5.0, "DOWNLOAD_DELAY_JITTER": 0}

    async def start(self):
        for url in self.source_urls():
            yield self.source_request(url, self.parse_artlist)

    def parse_artlist(self, response: Response):
        try:
            entries = parse_gdelt_artlist(response.body)
        except FeedError as exc:
            self.record_error(response.url, str(exc))
            return
        for entry in entries[: self.max_entries]:
            request = self.follow_entry(entry, response.url)
            if request is not None:
                yield request
