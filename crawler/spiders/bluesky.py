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
        if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
            self.failed_queries.add(query)
            self.record_error(response.url, "searchPosts did not return a posts list")
            return
        reached_window = False
        for view in data["posts"]:
            record = view.get("record") if isinstance(view, dict) else None
            if not isinstance(record, dict) or not isinstance(view.get("author"), dict):
                self.crawler.stats.inc_value("social/deleted")
                continue
            if self.older_than_window(query, record.get("createdAt")):
                reached_window = True
                continue
            yield from self.post_view(query, view, record, response.url)
        if data.get("cursor") and data["posts"] and not reached_window and page < self.max_pages:
            yield self.search_request(query, data["cursor"], page + 1)

    def authenticate(self, response: Response, query: str, cursor: str | None, page: int):
        handle, password = self.env("BLUESKY_HANDLE"), self.env("BLUESKY_APP_PASSWORD")
        if self.token or not (handle and password):
            self.failed_queries.add(query)
            hint = "the app password was refused" if self.token else \
                "set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD to search with an app password"
            self.record_error(response.url, f"HTTP {response.status}: Bluesky asks for authentication; {hint}")
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

    def post_view(self, query: str, view: dict, record: dict, found_via: str):
        author, uri = view["author"], str(view.get("uri", ""))
        did, rkey = uri.removeprefix("at://").split("/")[0], uri.rsplit("/", 1)[-1]
        profile = did if self.key else (author.get("handle") or did)  # pseudonymised: no handle in the link
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        langs = record.get("langs") or []
        yield from self.post(
            query=query, platform_id=uri, url=f"https://bsky.app/profile/{profile}/post/{rkey}",
            kind="comment" if parent else "post", text=record.get("text"), created=record.get("createdAt"),
            author=author.get("handle"), parent=parent, lang=langs[0] if langs else None, found_via=found_via,
            engagement={"likes": view.get("likeCount"), "reposts": view.get("repostCount"),
                        "replies": view.get("replyCount")},
            links=_links(record) + _links(view),
        )


def _links(node: dict) -> list[str]:
    """Links of a post record's facets and of a link card (``app.bsky.embed.external``)."""
    links = [feature.get("uri") for facet in _dicts(node.get("facets")) for feature in _dicts(facet.get("features"))
             if str(feature.get("$type", "")).endswith("#link") and feature.get("uri")]
    embed = node.get("embed") if isinstance(node.get("embed"), dict) else {}
    media = embed.get("media") if isinstance(embed.get("media"), dict) else {}  # a list in some clients' records
    for external in (embed.get("external"), media.get("external")):
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            links.append(external["uri"])
    return links


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
