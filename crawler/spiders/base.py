"""The base of every seedtrack spider: one spider instance crawls one source of the topic file.

It turns feed-like entries into article-page requests (skipping pages the database already has),
turns fetched pages into ``Document`` items, keeps the entry's title and summary as a document when
its page cannot be fetched, and records every error with its URL for ``crawl_runs`` and ``errors``.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator
from urllib.parse import quote_plus, urljoin, urlsplit

import scrapy
from scrapy.http import HtmlResponse, Response
from twisted.python.failure import Failure
from w3lib.encoding import html_body_declared_encoding

from crawler.text.dates import utc_now
from crawler.downloadermiddlewares.conditional import NotModified
from crawler.parsers.feeds import Entry
from crawler.items import Document
from crawler.text.terms import RelevanceMatcher
from crawler.topic import Source, load_topic
from crawler.text.urls import canonicalize_url, document_id, is_http_url

logger = logging.getLogger(__name__)

# Feeds and APIs named in the topic file are subscriptions, fetched like a feed reader does;
# robots.txt is obeyed for the article pages they lead to.
FEED_META = {"dont_obey_robotstxt": True}
MAX_REPLACEMENT_CHARS = 3  # more undecodable bytes than this: the page's charset is wrong


class TopicSpider(scrapy.Spider):
    name = None  # an abstract base: `scrapy list` names only the spiders of source kinds
    kind = ""
    default_follow = "all"  # "all": fetch every entry's page and check its text; "matching": only entries whose title matches

    def __init__(self, source: Source, **kwargs: Any):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.errors: list[dict[str, Any]] = []
        self.follow = source.options.get("follow", self.default_follow)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        topic = load_topic(crawler.settings.get("SEEDTRACK_TOPIC"))
        spider.topic = topic
        spider.matcher = RelevanceMatcher(topic.terms, topic.exclude)
        spider.max_entries = int(spider.source.options.get("max_items", crawler.settings.getint("FEED_MAX_ENTRIES")))
        return spider

    # -- source URLs --------------------------------------------------------------------------------

    def source_urls(self) -> list[str]:
        """The URLs this source starts from: its url, once per query when it is a {query} template."""
        if "{query}" not in self.source.url:
            return [self.source.url]
        return [self.source.url.replace("{query}", quote_plus(query)) for query in self.source.queries]

    def source_request(self, url: str, callback, **kwargs: Any) -> scrapy.Request:
        """A request for a feed or API URL: conditional (a 304 Not Modified is not parsed), robots.txt not asked."""
        return scrapy.Request(url, callback=callback, errback=self.source_failed,
                              meta={**FEED_META, "conditional": True}, **kwargs)

    def source_failed(self, failure: Failure) -> None:
        if failure.check(NotModified):  # unchanged since the last complete run: nothing to do
            return
        self.record_error(failure.request.url, describe_failure(failure))

    # -- entries and pages --------------------------------------------------------------------------

    def follow_entry(self, entry: Entry, found_via: str) -> scrapy.Request | None:
        """A request for the entry's page, or None when the page is known, off-topic by title, or no URL."""
        self.crawler.stats.inc_value("source/entries")
        try:
            url = canonicalize_url(entry.url)
        except ValueError as exc:
            self.record_error(entry.url, f"bad link in entry: {exc}")
            return None
        if not is_http_url(url):
            self.record_error(entry.url, "entry link is not an http(s) URL")
            return None
        if self.follow == "matching":
            context = " ".join(filter(None, [entry.summary, *entry.keywords]))
            if not self.matcher.check(entry.title, context).relevant:
                self.crawler.stats.inc_value("relevance/skipped_entry")
                return None
        entry.url = url
        if not self.known.claim(document_id(url)):
            self.crawler.stats.inc_value("dedup/skipped_fetch")
            return None
        # dont_filter: known pages are skipped by ``self.known`` above; Scrapy's duplicate filter would
        # silently drop a redirect loop's next hop, losing the entry with no error recorded
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.article_failed,
            cb_kwargs={"entry": entry, "found_via": found_via}, dont_filter=True,
        )

    def parse_article(self, response: Response, entry: Entry, found_via: str | None) -> Iterator[Document]:
        if not isinstance(response, HtmlResponse):
            self.record_error(response.url, f"not an HTML page ({response.headers.get('Content-Type', b'').decode()})")
            yield self.entry_document(entry, found_via)
            return
        response = self.decoded(response)
        document = self.entry_document(entry, found_via, url=canonical_url(response))
        document.html = response.text
        yield document

    def decoded(self, response: HtmlResponse) -> HtmlResponse:
        """The page, re-read in the charset its own ``<meta>`` declares when the HTTP header's charset garbles
        it; a page garbled either way is kept as it reads, and recorded."""
        garbled = response.text.count("\ufffd")
        if garbled <= MAX_REPLACEMENT_CHARS:
            return response
        declared = html_body_declared_encoding(response.body)
        if declared:
            fixed = response.replace(encoding=declared)
            if fixed.text.count("\ufffd") <= MAX_REPLACEMENT_CHARS:
                self.crawler.stats.inc_value("source/charset_corrected")
                return fixed
        self.record_error(response.url, f"garbled text: {garbled} invalid characters in charset {response.encoding}")
        return response

    def article_failed(self, failure: Failure) -> Iterator[Document]:
        request = failure.request
        self.record_error(request.url, describe_failure(failure))
        entry = request.cb_kwargs.get("entry")
        if entry is not None and (entry.title or entry.summary):
            yield self.entry_document(entry, request.cb_kwargs.get("found_via"))

    def entry_document(self, entry: Entry, found_via: str | None, url: str | None = None) -> Document:
        return Document(
            url=url or entry.url, source=self.source.name, source_kind=self.source.kind, title=entry.title,
            summary=entry.summary, author=entry.author, published_at=entry.published_at, seen_at=entry.seen_at,
            lang=entry.lang, found_via=found_via, links=[link for link in (entry.url, entry.aggregator_url) if link],
        )

    # -- errors -------------------------------------------------------------------------------------

    def record_error(self, url: str | None, reason: str) -> None:
        self.crawler.stats.inc_value("source/errors")
        logger.warning("%s: %s: %s", self.source.name, url, reason)
        self.errors.append(
            {"run_id": self.crawler.settings.get("SEEDTRACK_RUN_ID"), "source": self.source.name, "url": url,
             "reason": reason, "occurred_at": utc_now()}
        )


def canonical_url(response: Response) -> str:
    """The page's rel=canonical URL, unless it is unusable: not http(s), or a site's front page (a common
    template mistake that would merge every article of the site into one document)."""
    canonical = response.css('link[rel="canonical"]::attr(href)').get()
    if not canonical:
        return response.url
    url = urljoin(response.url, canonical.strip())
    if not is_http_url(url) or urlsplit(url).path in ("", "/"):
        return response.url
    return url


def describe_failure(failure: Failure) -> str:
    """One line saying why a request failed: the HTTP status, or the network error."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"
