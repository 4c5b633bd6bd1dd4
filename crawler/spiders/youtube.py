"""YouTube (kind ``youtube``): the Data API v3 with a key, channel Atom feeds without one.

With ``YOUTUBE_API_KEY`` in the environment (sent as the ``X-Goog-Api-Key`` header, so it appears in no
URL, log or error row) it runs ``{url}/youtube/v3/search?part=snippet&type=video&order=date`` for each
query (later crawls add ``publishedAfter`` for the look-back window), follows ``nextPageToken``, and
reads each page's videos from ``{url}/youtube/v3/videos?part=snippet,statistics``: views, likes and
comment counts become engagement. A search hit that ``videos`` no longer returns (deleted, private) is
skipped. For each of the ``channels`` option (channel ids) it reads ``{feeds_url}/feeds/videos.xml?channel_id=ID``,
whose ``media:statistics`` and ``media:starRating`` give views and ratings; that needs no key.
Links in descriptions are queued as article pages.
"""

from __future__ import annotations

from urllib.parse import urlencode

from scrapy.http import Response

from crawler.parsers import youtube
from crawler.parsers.feeds import FeedError
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 50


class YouTubeSpider(SocialSpider):
    name = "youtube"
    kind = "youtube"
    platform = "youtube"
    credential_env = ("YOUTUBE_API_KEY",)

    async def start(self):
        if not self.env("YOUTUBE_API_KEY") and not self.source.options.get("channels"):
            self.record_error(self.base_url, "nothing to read: set YOUTUBE_API_KEY to search, or list channel ids "
                                             "in the source's channels option")
        if self.env("YOUTUBE_API_KEY"):
            for query in self.source.queries:
                yield self.search_request(query)
        feeds = (self.source.options.get("feeds_url") or "https://www.youtube.com").rstrip("/")
        for channel in self.source.options.get("channels", ()):
            yield self.api_request(f"{feeds}/feeds/videos.xml?{urlencode({'channel_id': channel})}",
                                   self.parse_feed_response, f"channel:{channel}")

    def headers(self) -> dict[str, str]:
        return {"X-Goog-Api-Key": self.env("YOUTUBE_API_KEY") or ""}

    def search_request(self, query: str, token: str | None = None, page: int = 1):
        params = {"part": "snippet", "q": query, "type": "video", "order": "date", "maxResults": PAGE_SIZE}
        if (since := self.since(query)) is not None:
            params["publishedAfter"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        if token:
            params["pageToken"] = token
        return self.api_request(f"{self.base_url}/youtube/v3/search?{urlencode(params)}", self.parse_search, query,
                                headers=self.headers(), cb_kwargs={"page": page})

    def parse_search(self, response: Response, page: int):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        try:
            found = youtube.parse_search(data)
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        if found.ids:
            params = {"part": "snippet,statistics", "id": ",".join(found.ids), "maxResults": PAGE_SIZE}
            yield self.api_request(f"{self.base_url}/youtube/v3/videos?{urlencode(params)}", self.parse_videos, query,
                                   headers=self.headers(), cb_kwargs={"asked": found.ids, "found_via": response.url})
        if self.more_pages(page, found.next, len(found.ids), False):
            yield self.search_request(query, found.next, page + 1)

    def parse_videos(self, response: Response, asked: list[str], found_via: str):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        videos = youtube.parse_videos(data, asked)
        if videos.deleted:  # deleted or made private since the search indexed them
            self.crawler.stats.inc_value("social/deleted", videos.deleted)
        for video in videos.posts:
            yield from self.post(video, query=query, found_via=found_via)

    def parse_feed_response(self, response: Response):
        query = response.meta["query"]
        try:
            videos = youtube.parse_channel_feed(response.body)
        except FeedError as exc:
            self.query_failed(response, query, str(exc))
            return
        for video in videos:
            yield from self.post(video, query=query, found_via=response.url)
