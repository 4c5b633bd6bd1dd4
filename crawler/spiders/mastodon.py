"""Mastodon (kind ``mastodon``): tag timelines on each listed instance, and search with a token.

For the instance in ``url`` and each of the ``instances`` option it reads
``/api/v1/timelines/tag/TAG?limit=40`` for every tag of the ``tags`` option (default: the queries without
spaces or punctuation), following the ``Link: rel="next"`` header newest first down to the look-back
window. With ``MASTODON_TOKEN`` set it also runs ``/api/v2/search?type=statuses`` for each query on the
``url`` instance (search needs an account there). Posts are identified by their ActivityPub ``uri``, so
one post seen on two instances is stored once. A reply's parent is read from ``/api/v1/statuses/ID``
to learn its ``uri`` (the parent is stored too, when on topic); a deleted parent (404) leaves
``parent_id`` empty.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

from scrapy.http import Response

from crawler.parsers import mastodon
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider

PAGE_SIZE = 40
GONE = [404, 410]


class MastodonSpider(SocialSpider):
    name = "mastodon"
    kind = "mastodon"
    platform = "mastodon"
    credential_env = ("MASTODON_TOKEN",)

    async def start(self):
        instances = [self.base_url, *(url.rstrip("/") for url in self.source.options.get("instances", ()))]
        tags = self.source.options.get("tags") or list(dict.fromkeys(re.sub(r"\W", "", q) for q in self.source.queries))
        for instance in dict.fromkeys(instances):
            for tag in filter(None, tags):
                query = f"{urlsplit(instance).netloc} #{tag}"
                url = f"{instance}/api/v1/timelines/tag/{tag}?limit={PAGE_SIZE}"
                yield self.api_request(url, self.parse_timeline, query, cb_kwargs={"instance": instance, "page": 1})
        if token := self.env("MASTODON_TOKEN"):
            for query in self.source.queries:
                yield self.search_request(query, 0, token)

    def search_request(self, query: str, offset: int, token: str):
        params = {"q": query, "type": "statuses", "limit": PAGE_SIZE, "offset": offset, "resolve": "false"}
        return self.api_request(
            f"{self.base_url}/api/v2/search?{urlencode(params)}", self.parse_search, f"search:{query}",
            headers={"Authorization": f"Bearer {token}"}, cb_kwargs={"offset": offset, "token": token})

    def parse_timeline(self, response: Response, instance: str, page: int):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        try:
            timeline = mastodon.parse_timeline(data, instance, pseudonymised=bool(self.key))
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        statuses, _ = self.in_window(query, timeline.posts, when=lambda status: status.listed_at)
        for status in statuses:
            yield from self.status(query, instance, status, response.url)
        next_url = mastodon.next_link(response.headers.get("Link", b"").decode("latin-1"))
        if self.more_pages(page, next_url, timeline.items, self.older_than_window(query, timeline.oldest)):
            yield self.api_request(next_url, self.parse_timeline, query,
                                   cb_kwargs={"instance": instance, "page": page + 1})

    def parse_search(self, response: Response, offset: int, token: str):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        try:
            found = mastodon.parse_search(data, self.base_url, pseudonymised=bool(self.key))
        except ApiError as exc:
            self.query_failed(response, query, str(exc))
            return
        for status in found.posts:
            yield from self.status(query, self.base_url, status, response.url)
        if found.items >= PAGE_SIZE and offset // PAGE_SIZE + 1 < self.max_pages:
            yield self.search_request(query.removeprefix("search:"), offset + PAGE_SIZE, token)

    def status(self, query: str | None, instance: str, status: mastodon.Status, found_via: str):
        """The status as a document; a reply waits until its parent's uri is known."""
        if status.reply_to:  # learn the parent's uri first
            url = f"{instance}/api/v1/statuses/{status.reply_to}"
            yield self.api_request(url, self.parse_parent, query or "", meta={"handle_httpstatus_list": GONE},
                                   cb_kwargs={"reply": status, "instance": instance, "found_via": found_via,
                                              "reply_query": query})
            return
        yield from self.post(status, query=query, found_via=found_via)

    def parse_parent(self, response: Response, reply: mastodon.Status, instance: str, found_via: str,
                     reply_query: str | None):
        data = self.json_body(response) if response.status not in GONE else None
        if response.status in GONE:
            self.crawler.stats.inc_value("social/deleted")
        parent = mastodon.parse_status(data, instance, pseudonymised=bool(self.key))
        if parent is not None:  # the parent itself, stored when on topic (its own parent is not looked up)
            yield from self.post(parent, query=None, found_via=found_via)
        uri = data.get("uri") if parent is not None else None  # the status answered, not what it may boost
        yield from self.post(replace(reply, parent=uri), query=reply_query, found_via=found_via)
