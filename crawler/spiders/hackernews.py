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

from crawler.spiders.social import SocialSpider, html_links, html_to_text

PAGE_SIZE = 100
ITEM_URL = "https://news.ycombinator.com/item?id="


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
        if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
            self.failed_queries.add(query)
            self.record_error(response.url, "Algolia did not return a hits list")
            return
        for hit in data["hits"]:
            if not isinstance(hit, dict) or not hit.get("objectID"):
                continue
            yield from self.hit(query, hit, response.url)
        if data["hits"] and page + 1 < int(data.get("nbPages") or 0) and page + 1 < self.max_pages:
            yield self.search_request(query, page + 1)

    def hit(self, query: str, hit: dict, found_via: str):
        tags = hit.get("_tags") or []
        item_id = str(hit["objectID"])
        common = {"query": query, "platform_id": item_id, "url": ITEM_URL + item_id, "created": hit.get("created_at_i")
                  or hit.get("created_at"), "author": hit.get("author"), "found_via": found_via}
        if "comment" in tags:
            yield from self.post(
                **common, kind="comment", title=hit.get("story_title"), text=html_to_text(hit.get("comment_text")),
                parent=str(hit["parent_id"]) if hit.get("parent_id") else None,
                engagement={"likes": hit.get("points")}, links=html_links(hit.get("comment_text")),
            )
        else:
            story_text = html_to_text(hit.get("story_text"))
            text = "\n\n".join(p for p in (hit.get("title"), story_text) if p)
            yield from self.post(
                **common, kind="post", title=hit.get("title"), text=text,
                engagement={"score": hit.get("points"), "replies": hit.get("num_comments")},
                links=[hit.get("url"), *html_links(hit.get("story_text"))],
            )
