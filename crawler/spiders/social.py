"""The base of the social-platform spiders: posts and comments read from a platform's API, incrementally.

A social spider asks its platform for each query (a search, a subreddit, a tag ...), page by page,
newest first, and stops at the crawl's lower bound: the newest post seen by the last crawl of that
query minus the look-back window (``lookback`` option, else ``SOCIAL_LOOKBACK``), so late edits and
engagement of recent posts are read again; a first crawl reads ``max_pages`` pages. Where the last
crawl stopped is kept in ``crawl_state`` and advanced only for queries read without an error.

Each post becomes a ``Document`` (kind post or comment) whose text comes from the API (``text_source``
``api``), with its platform id, the parent it replies to and, for posts created in the last
``ENGAGEMENT_DAYS``, an engagement snapshot. Links in posts to other sites are queued as article pages.
With ``[privacy] pseudonymise = true`` author handles are stored as keyed hashes.

The spiders fetch and page; what an answer holds is read by the platform's parser in ``crawler/parsers/``
(``Post`` and ``Page`` of ``crawler/parsers/posts.py``), which ``post`` turns into documents.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from datetime import datetime, timedelta
from typing import Any, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import Document
from crawler.parsers.feeds import Entry
from crawler.parsers.posts import Post
from crawler.spiders.base import TopicSpider, describe_failure
from crawler.text.dates import parse_interval, to_utc, utc_now
from crawler.text.urls import is_http_url, platform_document_id, url_domain

ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "views", "score")
# Links to these are media or the platforms themselves, not news articles.
NOT_ARTICLES = ("reddit.com", "redd.it", "i.redd.it", "v.redd.it", "imgur.com", "i.imgur.com", "bsky.app",
                "news.ycombinator.com", "youtube.com", "youtu.be", "t.me", "twitter.com", "x.com", "giphy.com",
                "tenor.com", "instagram.com", "tiktok.com")
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".gifv", ".webp", ".mp4", ".webm", ".mov", ".pdf")


_MENTION = re.compile(r"(?<![\w@./])@([A-Za-z0-9_][\w.-]*[\w](?:@[\w.-]*[\w])?)|(?<![\w/])/?u/([\w-]{3,20})\b")


def pseudonymise_mentions(text: str, key: str) -> str:
    """``text`` with each @handle (Bluesky, Mastodon ``@user@host``) and Reddit ``u/name`` replaced by its pseudonym."""
    def one(match: re.Match) -> str:
        return ("@" if match[1] else "u/") + pseudonym(match[1] or match[2], key)

    return _MENTION.sub(one, text)


def pseudonym(handle: str, key: str) -> str:
    """A keyed hash of an author handle: stable within one database (one key), not reversible without it."""
    digest = hmac.new(key.encode(), handle.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"anon:{digest[:16]}"


class SocialSpider(TopicSpider):
    name = None  # an abstract base
    platform = ""
    credential_env: tuple[str, ...] = ()  # environment variables read (names only: values are never logged)
    incremental = True  # the crawl-state extension gives it ``previous``: where each query stopped last time

    def __init__(self, source, **kwargs: Any):
        super().__init__(source, **kwargs)
        self.state: dict[str, dict[str, Any]] = {}  # query -> newest post seen by this crawl
        self.failed_queries: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings, options = crawler.settings, spider.source.options
        spider.lookback = timedelta(seconds=parse_interval(options.get("lookback") or settings.get("SOCIAL_LOOKBACK")))
        spider.max_pages = int(options.get("max_pages", settings.getint("SOCIAL_MAX_PAGES")))
        spider.engagement_since = utc_now() - timedelta(days=settings.getfloat("ENGAGEMENT_DAYS"))
        spider.follow_links = bool(options.get("follow_links", True))
        spider.pseudonymises = spider.topic.pseudonymise  # the crawl-state extension gives it ``key``
        return spider

    @property
    def base_url(self) -> str:
        return self.source.url.rstrip("/")

    def env(self, name: str) -> str | None:
        return os.environ.get(name) or None

    # -- incremental state --------------------------------------------------------------------------

    def since(self, query: str) -> datetime | None:
        """The oldest creation time this crawl reads for ``query``; None on a first crawl."""
        newest = (self.previous.get(query) or {}).get("newest_at")
        return newest - self.lookback if newest else None

    def saw(self, query: str, platform_id: str, created: datetime | None) -> None:
        current = self.state.setdefault(query, {"newest_at": None, "newest_id": None})
        if created is not None and (current["newest_at"] is None or created > current["newest_at"]):
            current.update(newest_at=created, newest_id=platform_id)

    def older_than_window(self, query: str, created: Any) -> bool:
        """True when a post created at ``created`` (any date form) is older than this crawl reads."""
        since, created_at = self.since(query), to_utc(created)
        return since is not None and created_at is not None and created_at < since

    def state_rows(self, reason: str) -> list[dict[str, Any]]:
        """Where each query stopped, for the crawl-state extension to save (nothing of a failed query)."""
        rows = []
        for query, seen in self.state.items():
            if query in self.failed_queries or reason != "finished" or seen["newest_at"] is None:
                continue
            previous = (self.previous.get(query) or {}).get("newest_at")
            if previous and previous > seen["newest_at"]:
                continue  # nothing newer than the last crawl: keep its mark
            rows.append({"source": self.source.name, "query": query, **seen})
        return rows

    # -- requests and responses ---------------------------------------------------------------------

    def api_request(self, url: str, callback, query: str, headers: dict | None = None, **kwargs: Any) -> scrapy.Request:
        """A request to the platform's API; a failure marks ``query`` as not fully read."""
        meta = {**kwargs.pop("meta", {}), "dont_obey_robotstxt": True, "query": query}
        return scrapy.Request(url, callback=callback, errback=self.api_failed, headers=headers, meta=meta, **kwargs)

    def api_failed(self, failure: Failure) -> None:
        self.query_failed(failure.request, failure.request.meta.get("query", ""), describe_failure(failure))

    def query_failed(self, response_or_url: Response | scrapy.Request | str, query: str, reason: str) -> None:
        """Record an error for the URL and mark ``query`` as not fully read (its crawl state is not advanced)."""
        self.failed_queries.add(query)
        self.record_error(response_or_url if isinstance(response_or_url, str) else response_or_url.url, reason)

    def json_body(self, response: Response) -> Any:
        """The decoded JSON body, or None (an error recorded, the query marked as not fully read)."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            reason = f"malformed {self.platform} API response: {exc}"
            self.query_failed(response, response.meta.get("query", ""), reason)
            return None

    def in_window(self, query: str, posts: list, when=lambda post: post.created) -> tuple[list, bool]:
        """The posts this crawl reads for ``query`` (see ``older_than_window``), and whether any was older."""
        kept = [post for post in posts if not self.older_than_window(query, when(post))]
        return kept, len(kept) < len(posts)

    def more_pages(self, page: int, cursor: Any, items: int, reached_window: bool) -> bool:
        """Whether to ask for the page after ``page``: the answer had items and a cursor, none was too old."""
        return bool(cursor and items and not reached_window and page < self.max_pages)

    # -- documents ----------------------------------------------------------------------------------

    def post(self, post: Post, *, query: str | None, found_via: str | None = None) -> Iterator[Any]:
        """The post's Document (when it has text) and requests for the article pages it links to.

        ``query`` None: a reply fetched for its thread, not a query result (it does not move the crawl state).
        """
        if post.deleted:
            self.crawler.stats.inc_value("social/deleted")
        platform_id, kind, text, title, author = post.platform_id, post.kind, post.text, post.title, post.author
        created_at, engagement, parent = to_utc(post.created), post.engagement, post.parent
        if query is not None:
            self.saw(query, platform_id, created_at)
        if not text or not text.strip():
            self.crawler.stats.inc_value("social/empty")
            return
        if self.key:
            author = pseudonym(author, self.key) if author else None
            text, title = pseudonymise_mentions(text, self.key), title and pseudonymise_mentions(title, self.key)
        snapshot = None
        if engagement is not None and created_at is not None and created_at >= self.engagement_since:
            snapshot = {name: _count(engagement.get(name)) for name in ENGAGEMENT_FIELDS}
        self.crawler.stats.inc_value(f"social/{kind}s")
        yield Document(
            url=post.url, source=self.source.name, source_kind=self.source.kind, kind=kind, title=title,
            text=text.strip(), text_source="api", author=author, published_at=created_at, lang=post.lang,
            found_via=found_via, id=platform_document_id(self.platform, platform_id), platform=self.platform, platform_id=platform_id,
            parent_id=platform_document_id(self.platform, parent) if parent else None, engagement=snapshot,
        )
        if self.follow_links:
            for link in dict.fromkeys(post.links):
                if is_article_link(link):
                    request = self.follow_entry(Entry(url=link), found_via=post.url)
                    if request is not None:
                        yield request


def is_article_link(url: str | None) -> bool:
    """True for an http(s) link that may be a news article: not media, not a social platform."""
    if not url or not is_http_url(url):
        return False
    host = url_domain(url)
    if any(host == site or host.endswith("." + site) for site in NOT_ARTICLES):
        return False
    return not urlsplit(url).path.lower().endswith(MEDIA_SUFFIXES)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
