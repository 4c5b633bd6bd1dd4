"""Reddit (kind ``reddit``): search and subreddit listings (JSON), posts and their comment trees.

Reads ``{url}/search.json?q=QUERY&sort=new`` for each query and ``{url}/r/NAME/new.json`` for each of the
``subreddits`` option, following ``after`` page by page; for each on-topic post with comments it reads
``{url}/comments/ID.json`` (``comments = false`` turns that off; "load more" stubs are not expanded).
With ``REDDIT_CLIENT_ID`` and ``REDDIT_CLIENT_SECRET`` in the environment it first gets an application-only
OAuth token (client credentials) from ``{url}/api/v1/access_token`` and sends every API request to the
``oauth_url`` option (``https://oauth.reddit.com``) with it. The identifying User-Agent is always sent.
Deleted and removed posts and comments (``[deleted]``, ``[removed]``) are skipped. Requests are two
seconds apart unless the source sets ``download_delay``.
"""

from __future__ import annotations

import base64
from typing import Any, Iterator
from urllib.parse import urlencode

from scrapy.http import Response

from crawler.parsers import reddit
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 100


class RedditSpider(SocialSpider):
    name = "reddit"
    kind = "reddit"
    platform = "reddit"
    custom_settings = {"DOWNLOAD_DELAY": 2.0}  # Reddit allows few requests a minute without OAuth; its rate-limit headers say more
    credential_env = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")

    async def start(self):
        self.token = None
        client_id, secret = self.env("REDDIT_CLIENT_ID"), self.env("REDDIT_CLIENT_SECRET")
        if client_id and secret:
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            yield self.api_request(
                self.base_url + "/api/v1/access_token", self.parse_token, query="", method="POST",
                body="grant_type=client_credentials",
                headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            )
            return
        for request in self.listing_requests():
            yield request

    def parse_token(self, response: Response):
        data = self.json_body(response)
        self.token = data.get("access_token") if isinstance(data, dict) else None
        if not self.token:
            self.record_error(response.url, "Reddit gave no access token; check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET")
            return
        yield from self.listing_requests()

    @property
    def api_base(self) -> str:
        return (self.source.options.get("oauth_url") or "https://oauth.reddit.com").rstrip("/") if self.token \
            else self.base_url

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def listing_requests(self) -> Iterator[Any]:
        for query in self.source.queries:
            yield self.listing_request(f"search:{query}", "/search.json", {"q": query, "sort": "new"})
        for name in self.source.options.get("subreddits", ()):
            yield self.listing_request(f"r/{name}", f"/r/{name}/new.json", {})

    def listing_request(self, query: str, path: str, params: dict, after: str | None = None, page: int = 1):
        params = {**params, "limit": PAGE_SIZE, "raw_json": 1, **({"after": after} if after else {})}
        url = f"{self.api_base}{path}?{urlencode(params)}"
        return self.api_request(url, self.parse_listing, query, headers=self.auth(),
                                cb_kwargs={"path": path, "params": params, "page": page})

    def parse_listing(self, response: Response, path: str, params: dict, page: int):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        try:
            listing = reddit.parse_listing(data)
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        posts, reached_window = self.in_window(query, listing.posts)
        for post in posts:
            yield from self.submission(query, post, response.url)
        if self.more_pages(page, listing.next, listing.items, reached_window):
            yield self.listing_request(query, path, {k: v for k, v in params.items() if k != "after"}, listing.next,
                                       page + 1)

    def submission(self, query: str, post: reddit.Submission, found_via: str) -> Iterator[Any]:
        yield from self.post(post, query=query, found_via=found_via)
        if post.text and post.comments and self.source.options.get("comments", True) \
                and self.matcher.check(post.title, post.selftext).relevant:
            params = urlencode({"sort": "new", "limit": 500, "raw_json": 1})
            url = f"{self.api_base}/comments/{post.thread_id}.json?{params}"
            yield self.api_request(url, self.parse_comments, query, headers=self.auth(),
                                   cb_kwargs={"title": post.title})

    def parse_comments(self, response: Response, title: str | None):
        data = self.json_body(response)
        if data is None:
            return
        try:
            thread = reddit.parse_thread(data, title)
        except ApiError as exc:
            self.record_error(response.url, str(exc))  # the listing was read: the query is not marked as failed
            return
        if thread.skipped:
            self.crawler.stats.inc_value("reddit/more_not_expanded", thread.skipped)
        for comment in thread.posts:
            yield from self.post(comment, query=None, found_via=response.url)
