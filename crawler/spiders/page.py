"""Article pages named directly (kind ``page``): the source's ``url`` and its ``urls`` option, or ``--page``."""

from __future__ import annotations

from crawler.parsers.feeds import Entry
from crawler.spiders.base import TopicSpider


class PageSpider(TopicSpider):
    name = "page"
    kind = "page"

    async def start(self):
        for url in [self.source.url, *self.source.options.get("urls", [])]:
            request = self.follow_entry(Entry(url=url), found_via=None)
            if request is not None:
                yield request
