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

import re
from urllib.parse import urlencode

import feedparser

from scrapy.http import Response

from crawler.parsers.feeds import FeedError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 50
WATCH = "https://www.youtube.com/watch?v="
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


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
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            self.failed_queries.add(query)
            self.record_error(response.url, "the YouTube search answer has no items list")
            return
        ids = [item["id"]["videoId"] for item in data["items"]
               if isinstance(item, dict) and isinstance(item.get("id"), dict) and item["id"].get("videoId")]
        if ids:
            params = {"part": "snippet,statistics", "id": ",".join(ids), "maxResults": PAGE_SIZE}
            yield self.api_request(f"{self.base_url}/youtube/v3/videos?{urlencode(params)}", self.parse_videos, query,
                                   headers=self.headers(), cb_kwargs={"asked": ids, "found_via": response.url})
        if data.get("nextPageToken") and ids and page < self.max_pages:
            yield self.search_request(query, data["nextPageToken"], page + 1)

    def parse_videos(self, response: Response, asked: list[str], found_via: str):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        items = {item.get("id"): item for item in (data.get("items") or []) if isinstance(item, dict)} \
            if isinstance(data, dict) else {}
        for video_id in asked:
            if video_id not in items:  # deleted or made private since the search indexed it
                self.crawler.stats.inc_value("social/deleted")
                continue
            snippet, stats = items[video_id].get("snippet") or {}, items[video_id].get("statistics") or {}
            yield from self.video(query, video_id, snippet.get("title"), snippet.get("description"),
                                  snippet.get("publishedAt"), snippet.get("channelTitle"), found_via,
                                  {"views": stats.get("viewCount"), "likes": stats.get("likeCount"),
                                   "replies": stats.get("commentCount")},
                                  snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage"))

    def parse_feed_response(self, response: Response):
        query = response.meta["query"]
        try:
            videos = parse_channel_feed(response.body)
        except FeedError as exc:
            self.failed_queries.add(query)
            self.record_error(response.url, str(exc))
            return
        for video in videos:
            yield from self.video(query, **video, found_via=response.url)

    def video(self, query, video_id, title, description, created, channel, found_via, engagement, lang=None):
        """A video as a document; its description's links are queued as article pages."""
        yield from self.post(
            query=query, platform_id=video_id, url=WATCH + video_id, kind="video", title=title,
            text="\n\n".join(p for p in (title, description) if p), created=created, author=channel,
            lang=lang, found_via=found_via, engagement=engagement, links=_URL.findall(description or ""),
        )


def parse_channel_feed(body: bytes) -> list[dict]:
    """The videos of a YouTube channel Atom feed, with ``media:statistics`` views and ``media:starRating`` count."""
    parsed = feedparser.parse(body, response_headers={"content-type": "application/atom+xml"}, sanitize_html=False)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception") or "no Atom feed in the answer"
        raise FeedError(f"not a readable channel feed: {problem}")
    videos = []
    for item in parsed.entries:
        video_id = item.get("yt_videoid") or str(item.get("link", "")).rpartition("v=")[2]
        if not video_id:
            continue
        videos.append({
            "video_id": video_id, "title": item.get("title"), "description": item.get("summary"),
            "created": item.get("published") or item.get("updated"), "channel": item.get("author"),
            "engagement": {"views": (item.get("media_statistics") or {}).get("views"),
                           "likes": (item.get("media_starrating") or {}).get("count")},
        })
    return videos
