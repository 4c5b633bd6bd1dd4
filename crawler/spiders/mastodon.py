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
from urllib.parse import urlencode, urlsplit

from scrapy.http import Response

from crawler.spiders.social import SocialSpider, html_links, html_to_text

PAGE_SIZE = 40
GONE = [404, 410]
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


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
        statuses = self.json_body(response)
        if statuses is None:
            return
        if not isinstance(statuses, list):
            self.failed_queries.add(query)
            self.record_error(response.url, "the tag timeline is not a list of statuses")
            return
        reached_window = False
        for status in statuses:
            if isinstance(status, dict) and self.older_than_window(query, status.get("created_at")):
                reached_window = True
                continue
            yield from self.status(query, instance, status, response.url)
        link = response.headers.get("Link", b"").decode("latin-1")
        if (found := _NEXT.search(link)) and statuses and not reached_window and page < self.max_pages:
            yield self.api_request(found[1], self.parse_timeline, query, cb_kwargs={"instance": instance, "page": page + 1})

    def parse_search(self, response: Response, offset: int, token: str):
        query = response.meta["query"]
        data = self.json_body(response)
        if data is None:
            return
        statuses = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(statuses, list):
            self.failed_queries.add(query)
            self.record_error(response.url, "the search answer has no statuses list")
            return
        for status in statuses:
            yield from self.status(query, self.base_url, status, response.url)
        if len(statuses) >= PAGE_SIZE and offset // PAGE_SIZE + 1 < self.max_pages:
            yield self.search_request(query.removeprefix("search:"), offset + PAGE_SIZE, token)

    def status(self, query: str | None, instance: str, status, found_via: str, parent: str | None = None,
               resolved: bool = False):
        """The status as a document; a reply waits until its parent's uri is known (``resolved``)."""
        if not isinstance(status, dict) or not status.get("uri"):
            return
        status = status.get("reblog") or status
        if status.get("in_reply_to_id") and not resolved:  # learn the parent's uri first
            url = f"{instance}/api/v1/statuses/{status['in_reply_to_id']}"
            yield self.api_request(url, self.parse_parent, query or "", meta={"handle_httpstatus_list": GONE},
                                   cb_kwargs={"reply": status, "instance": instance, "found_via": found_via,
                                              "reply_query": query})
            return
        account = status.get("account") or {}
        acct = account.get("acct")
        if acct and "@" not in acct:
            acct = f"{acct}@{urlsplit(instance).netloc}"
        card = status.get("card") or {}
        text = "\n\n".join(p for p in (status.get("spoiler_text"), html_to_text(status.get("content"))) if p)
        url = f"{instance}/api/v1/statuses/{status.get('id')}" if self.key else (status.get("url") or status["uri"])
        yield from self.post(
            query=query, platform_id=status["uri"], url=url, kind="comment" if status.get("in_reply_to_id") else "post",
            text=text, created=status.get("created_at"), author=acct, parent=parent, lang=status.get("language"),
            found_via=found_via, engagement={"likes": status.get("favourites_count"),
                                             "reposts": status.get("reblogs_count"),
                                             "replies": status.get("replies_count")},
            links=[*html_links(status.get("content")), *([card["url"]] if card.get("url") else [])],
        )

    def parse_parent(self, response: Response, reply: dict, instance: str, found_via: str, reply_query: str | None):
        parent = self.json_body(response) if response.status not in GONE else None
        if response.status in GONE:
            self.crawler.stats.inc_value("social/deleted")
        uri = parent.get("uri") if isinstance(parent, dict) else None
        if uri:  # the parent itself, stored when on topic (its own parent is not looked up)
            yield from self.status(None, instance, parent, found_via, resolved=True)
        yield from self.status(reply_query, instance, reply, found_via, parent=uri, resolved=True)
