"""Pure parsers for YouTube: Data API v3 ``search`` and ``videos`` answers, and channel Atom feeds.

``parse_search`` gives the video ids of a search page and its ``nextPageToken``; ``parse_videos`` the videos
of a ``videos?part=snippet,statistics`` answer for the ids asked, in that order, counting in ``deleted`` the
ids it no longer returns (deleted, made private); ``parse_channel_feed`` the videos of a channel's
``feeds/videos.xml``, whose ``media:statistics`` and ``media:starRating`` give views and likes. A video is a
post of kind ``video``: its title and description are its text, the URLs in its description its links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import feedparser

from crawler.parsers.feeds import FeedError
from crawler.parsers.posts import ApiError, Page, Post, joined
from crawler.text.dates import to_utc

WATCH = "https://www.youtube.com/watch?v="
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass
class SearchPage:
    ids: list[str] = field(default_factory=list)  # video ids, in the answer's order
    next: str | None = None  # nextPageToken


def parse_search(data: Any) -> SearchPage:
    """The video ids of a ``search?type=video`` answer; ``ApiError`` when it has no ``items`` list."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ApiError("the YouTube search answer has no items list")
    ids = [item["id"]["videoId"] for item in data["items"]
           if isinstance(item, dict) and isinstance(item.get("id"), dict) and item["id"].get("videoId")]
    return SearchPage(ids=ids, next=data.get("nextPageToken"))


def parse_videos(data: Any, asked: list[str]) -> Page:
    """The videos asked for that the answer holds (an answer that is no object holds none)."""
    items = {item.get("id"): item for item in (data.get("items") or []) if isinstance(item, dict)} \
        if isinstance(data, dict) else {}
    posts = []
    for video_id in asked:
        if video_id not in items:
            continue
        snippet, stats = items[video_id].get("snippet") or {}, items[video_id].get("statistics") or {}
        engagement = {"views": stats.get("viewCount"), "likes": stats.get("likeCount"),
                      "replies": stats.get("commentCount")}
        posts.append(video(video_id, snippet.get("title"), snippet.get("description"), snippet.get("publishedAt"),
                           snippet.get("channelTitle"), engagement,
                           snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")))
    return Page(posts=posts, items=len(asked), deleted=len(asked) - len(posts))


def parse_channel_feed(body: bytes) -> list[Post]:
    """The videos of a YouTube channel Atom feed; ``FeedError`` when the body is no feed."""
    parsed = feedparser.parse(body, response_headers={"content-type": "application/atom+xml"}, sanitize_html=False)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception") or "no Atom feed in the answer"
        raise FeedError(f"not a readable channel feed: {problem}")
    videos = []
    for item in parsed.entries:
        video_id = item.get("yt_videoid") or str(item.get("link", "")).rpartition("v=")[2]
        if not video_id:
            continue
        engagement = {"views": (item.get("media_statistics") or {}).get("views"),
                      "likes": (item.get("media_starrating") or {}).get("count")}
        videos.append(video(video_id, item.get("title"), item.get("summary"),
                            item.get("published") or item.get("updated"), item.get("author"), engagement))
    return videos


def video(video_id: str, title: str | None, description: str | None, created: Any, channel: str | None,
          engagement: dict[str, Any], lang: str | None = None) -> Post:
    return Post(platform_id=video_id, url=WATCH + video_id, kind="video", title=title, text=joined(title, description),
                created=to_utc(created), author=channel, lang=lang, engagement=engagement,
                links=_URL.findall(description or ""))
