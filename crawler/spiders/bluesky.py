"""Bluesky (kind ``bluesky``): ``app.bsky.feed.searchPosts`` on the public AppView, newest first, by cursor.

Reads ``{url}/xrpc/app.bsky.feed.searchPosts?q=QUERY&sort=latest&limit=100`` (later crawls add ``since``
for the look-back window) and follows ``cursor``. When the server asks for authentication (401 or 403)
and ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD`` are set, it opens a session with
``com.atproto.server.createSession`` on ``auth_url`` (``https://bsky.social``) and sends the searches
there with the session's token. Replies are comments whose parent is the post they answer; links in
facets and link cards are queued as article pages. Post views without a record (deleted) are skipped.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from scrapy.http import Response

from crawler.parsers import bluesky
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 100
AUTH_STATUSES = [401, 403]


class BlueskySpider(SocialSpider):
    name = "bluesky"
    kind = "bluesky"
    platform = "bluesky"
    credential_env = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")

    async def start(self):
        self.token = None
        self.waiting: list[tuple[str, str | None, int]] | None = None  # searches waiting for the session
        for query in self.source.queries:
            yield self.search_request(query)

    @property
    def auth_url(self) -> str:
        return (self.source.options.get("auth_url") or "https://bsky.social").rstrip("/")

    def search_request(self, query: str, cursor: str | None = None, page: int = 1, again: bool = False):
        params = {"q": query, "sort": "latest", "limit": PAGE_SIZE}
        if (since := self.since(query)) is not None:
            params["since"] = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if cursor:
            params["cursor"] = cursor
        base, headers = (self.auth_url, {"Authorization": f"Bearer {self.token}"}) if self.token else (self.base_url, {})
        return self.api_request(f"{base}/xrpc/app.bsky.feed.searchPosts?{urlencode(params)}", self.parse_search, query,
                                headers=headers, cb_kwargs={"cursor": cursor, "page": page},
                                meta={"handle_httpstatus_list": AUTH_STATUSES}, dont_filter=again)

    def parse_search(self, response: Response, cursor: str | None, page: int):
        query = response.meta["query"]
        if response.status in AUTH_STATUSES:
            yield from self.authenticate(response, query, cursor, page)
            return
        data = self.json_body(response)
        if data is None:
            return
        try:
            found = bluesky.parse_search(data, pseudonymised=bool(self.key))
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        if found.deleted:
            self.crawler.stats.inc_value("social/deleted", found.deleted)
        posts, reached_window = self.in_window(query, found.posts)
        for post in posts:
            yield from self.post(post, query=query, found_via=response.url)
        if self.more_pages(page, found.next, found.items, reached_window):
            yield self.search_request(query, found.next, page + 1)

    def authenticate(self, response: Response, query: str, cursor: str | None, page: int):
        handle, password = self.env("BLUESKY_HANDLE"), self.env("BLUESKY_APP_PASSWORD")
        if self.token or not (handle and password):
            hint = "the app password was refused" if self.token else \
                "set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD to search with an app password"
            self.query_failed(response, query, f"HTTP {response.status}: Bluesky asks for authentication; {hint}")
            return
        if self.waiting is not None:
            self.waiting.append((query, cursor, page))
            return
        self.waiting = [(query, cursor, page)]
        yield self.api_request(
            f"{self.auth_url}/xrpc/com.atproto.server.createSession", self.parse_session, query, method="POST",
            body=json.dumps({"identifier": handle, "password": password}), headers={"Content-Type": "application/json"},
        )

    def parse_session(self, response: Response):
        data = self.json_body(response)
        self.token = data.get("accessJwt") if isinstance(data, dict) else None
        waiting, self.waiting = self.waiting or [], None
        if not self.token:
            self.record_error(response.url, "Bluesky opened no session; check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD")
            self.failed_queries.update(query for query, _, _ in waiting)
            return
        for query, cursor, page in waiting:  # the same URL again, now with the token
            yield self.search_request(query, cursor, page, again=True)
