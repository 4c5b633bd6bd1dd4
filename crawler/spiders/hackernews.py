"""Hacker News (kind ``hackernews``): stories and comments from the Algolia search API, newest first.

Reads ``{url}/api/v1/search_by_date?query=QUERY&tags=(story,comment)`` page by page (``page``, ``nbPages``);
later crawls add ``numericFilters=created_at_i>T`` for the look-back window. Stories are posts (their link
is queued as an article page), comments are comments whose parent is the story or comment they answer
and whose title is their story's. Hits without text (deleted, dead) are skipped. No key is needed.
"""

from __future__ import annotations

from calendar import timegm
from urllib.parse import urlencode

from scrapy.http import Response

from crawler.parsers import hackernews
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 100


class HackerNewsSpider(SocialSpider):
    name = "hackernews"
    kind = "hackernews"
    platform = "hackernews"

    async def start(self):
        for query in self.source.queries:
            yield self.search_request(query, 0)

    def search_request(self, query: str, page: int):
        params = {"query": query, "tags": "(story,comment)", "hitsPerPage": PAGE_SIZE, "page": page}
        if (since := self.since(query)) is not None:
            params["numericFilters"] = f"created_at_i>{timegm(since.timetuple())}"
        url = f"{self.base_url}/api/v1/search_by_date?{urlencode(params)}"
        return self.api_request(url, self.parse_search, query, cb_kwargs={"page": page})

    def parse_search(self, response: Response, page: int):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        try:
            hits = hackernews.parse_search(data, page)
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        for post in hits.posts:
            yield from self.post(post, query=query, found_via=response.url)
        if hits.next and page + 1 < self.max_pages:
            yield self.search_request(query, int(hits.next))
