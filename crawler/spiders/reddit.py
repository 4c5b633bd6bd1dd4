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

from crawler.spiders.social import SocialSpider, html_links

DELETED = ("[deleted]", "[removed]")
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
        if not (isinstance(data, dict) and data.get("kind") == "Listing"):
            self.failed_queries.add(query)
            self.record_error(response.url, "Reddit did not return a Listing")
            return
        children = [c.get("data") or {} for c in data["data"].get("children") or [] if c.get("kind") == "t3"]
        reached_window = False
        for post in children:
            if self.older_than_window(query, post.get("created_utc")):
                reached_window = True
                continue
            yield from self.submission(query, post, response.url)
        after = data["data"].get("after")
        if after and children and not reached_window and page < self.max_pages:
            yield self.listing_request(query, path, {k: v for k, v in params.items() if k != "after"}, after, page + 1)

    def submission(self, query: str, post: dict, found_via: str) -> Iterator[Any]:
        text = "\n\n".join(p for p in (post.get("title"), post.get("selftext")) if p and p not in DELETED)
        if post.get("selftext") in DELETED or post.get("removed_by_category"):
            self.crawler.stats.inc_value("social/deleted")
            text = ""
        links = [post.get("url_overridden_by_dest") or post.get("url")] if not post.get("is_self") else []
        yield from self.post(
            query=query, platform_id=post.get("name") or f"t3_{post.get('id')}", url=self.permalink(post), kind="post",
            title=post.get("title"), text=text, created=post.get("created_utc"), author=_author(post),
            engagement={"score": post.get("score"), "replies": post.get("num_comments")}, found_via=found_via,
            links=[*links, *html_links(post.get("selftext_html"))],
        )
        if text and post.get("num_comments") and self.source.options.get("comments", True) \
                and self.matcher.check(post.get("title"), post.get("selftext")).relevant:
            url = f"{self.api_base}/comments/{post.get('id')}.json?{urlencode({'sort': 'new', 'limit': 500, 'raw_json': 1})}"
            yield self.api_request(url, self.parse_comments, query, headers=self.auth(),
                                   cb_kwargs={"title": post.get("title")})

    def parse_comments(self, response: Response, title: str | None):
        data = self.json_body(response)
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], dict)):
            if data is not None:
                self.record_error(response.url, "Reddit did not return a [post, comments] pair")
            return
        stack = list(data[1].get("data", {}).get("children") or [])
        while stack:
            child = stack.pop()
            if child.get("kind") != "t1":
                self.crawler.stats.inc_value("reddit/more_not_expanded")
                continue
            comment = child.get("data") or {}
            replies = comment.get("replies")
            if isinstance(replies, dict):
                stack.extend(replies.get("data", {}).get("children") or [])
            deleted = comment.get("body") in DELETED
            if deleted:
                self.crawler.stats.inc_value("social/deleted")
            yield from self.post(
                query=None, platform_id=comment.get("name") or f"t1_{comment.get('id')}",
                url=self.permalink(comment), kind="comment", title=title,
                text=None if deleted else comment.get("body"), created=comment.get("created_utc"),
                author=_author(comment), parent=comment.get("parent_id"),
                engagement={"score": comment.get("score")}, found_via=response.url,
                links=html_links(comment.get("body_html")),
            )

    def permalink(self, thing: dict) -> str:
        link = thing.get("permalink")
        if not link:  # 2016 comment listings have none: build it from the post id and the comment id
            post_id = str(thing.get("link_id", "")).removeprefix("t3_")
            link = f"/r/{thing.get('subreddit')}/comments/{post_id}/_/{thing.get('id')}/"
        return "https://www.reddit.com" + link


def _author(thing: dict) -> str | None:
    author = thing.get("author")
    return None if not author or author in DELETED else author
