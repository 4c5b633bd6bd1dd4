"""The registry of source kinds: for each ``kind`` of a topic's ``[[source]]``, its spider, the shape of its
``url``, whether it sends queries, and the options it reads (with their checks, and which ones hold URLs).

The topic loader validates sources with it, the private-address guard exempts the hosts of its URL
options, ``seedtrack sources`` and the demo read it, and the runner finds each kind's spider here. It is
plain data (no Scrapy import), so loading a topic stays cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from crawler.text.dates import parse_interval

Check = Callable[[Any], "str | None"]  # None when the value is fine, else the problem


def url_problem(url: Any, template: bool = False) -> str | None:
    """What is wrong with ``url`` as a source URL (a ``{query}`` template when ``template``), or None."""
    if not isinstance(url, str):
        return f"must be a URL, got {url!r}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"url {url!r} must be an absolute http:// or https:// URL"
    holes = set(re.findall(r"\{([^{}]*)\}", url))
    if holes - {"query"}:
        return f"url has unknown placeholder(s) {sorted(holes - {'query'})}; the only one is {{query}}"
    if holes and not template:
        return "{query} is only filled in for search kinds (news_search, gdelt)"
    if template and not holes:
        return "a search url must contain {query} where each search query goes"
    return None


def _one_of(*choices) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(repr, choices))}, got {v!r}"


def _number(minimum: float, integer: bool = False) -> Check:
    def check(v):
        kinds = (int,) if integer else (int, float)
        if isinstance(v, bool) or not isinstance(v, kinds) or v < minimum:
            return f"must be {'a whole number' if integer else 'a number'} >= {minimum}, got {v!r}"
        return None
    return check


def _bool(v) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def _names(v) -> str | None:
    if isinstance(v, list) and all(isinstance(x, str) and re.fullmatch(r"[\w.-]+", x) for x in v):
        return None
    return f'must be a list of names (letters, digits, "_", "-", "."), e.g. ["name"]; got {v!r}'


def _urls(v) -> str | None:
    if isinstance(v, list) and all(url_problem(u) is None for u in v):
        return None
    return "must be a list of http(s) URLs"


def _interval(v) -> str | None:
    try:
        parse_interval(v)
    except ValueError as exc:
        return str(exc)
    return None


def _language(v) -> str | None:
    return None if isinstance(v, str) and v else f'must be a language code such as "en", got {v!r}'


# Options every kind reads (crawler/spiders/base.py).
COMMON_OPTIONS: dict[str, Check] = {
    "follow": _one_of("all", "matching"), "max_items": _number(1, integer=True), "download_delay": _number(0),
    "lang": _language,
}
# Options of the social kinds (crawler/spiders/social.py).
SOCIAL_OPTIONS: dict[str, Check] = {
    "lookback": _interval, "max_pages": _number(1, integer=True), "follow_links": _bool,
}


@dataclass(frozen=True)
class SourceKind:
    name: str
    spider: str  # dotted path of the spider class
    url: str  # "url": a feed, page or API URL; "template": a URL with {query}; "base": the platform's base URL
    queries: bool = False  # sends queries (default: the topic's [terms] search)
    options: dict[str, Check] = field(default_factory=dict)  # its own options, beside COMMON_OPTIONS
    url_options: tuple[str, ...] = ()  # options whose values are URLs (or lists of URLs)

    def all_options(self) -> dict[str, Check]:
        return {**COMMON_OPTIONS, **(SOCIAL_OPTIONS if self.url == "base" else {}), **self.options}


def _spider(module: str, cls: str) -> str:
    return f"crawler.spiders.{module}.{cls}"


KINDS: dict[str, SourceKind] = {k.name: k for k in (
    SourceKind("feed", _spider("feed", "FeedSpider"), "url"),
    SourceKind("news_search", _spider("news_search", "NewsSearchSpider"), "template", queries=True,
               options={"google_base": url_problem}, url_options=("google_base",)),
    SourceKind("gdelt", _spider("gdelt", "GdeltSpider"), "template", queries=True),
    SourceKind("sitemap", _spider("sitemap", "SitemapSpider"), "url"),
    SourceKind("page", _spider("page", "PageSpider"), "url", options={"urls": _urls}, url_options=("urls",)),
    SourceKind("reddit", _spider("reddit", "RedditSpider"), "base", queries=True,
               options={"subreddits": _names, "comments": _bool, "oauth_url": url_problem},
               url_options=("oauth_url",)),
    SourceKind("hackernews", _spider("hackernews", "HackerNewsSpider"), "base", queries=True),
    SourceKind("bluesky", _spider("bluesky", "BlueskySpider"), "base", queries=True,
               options={"auth_url": url_problem}, url_options=("auth_url",)),
    SourceKind("mastodon", _spider("mastodon", "MastodonSpider"), "base", queries=True,
               options={"tags": _names, "instances": _urls}, url_options=("instances",)),
    SourceKind("telegram", _spider("telegram", "TelegramSpider"), "base", queries=True, options={"channels": _names}),
    SourceKind("youtube", _spider("youtube", "YouTubeSpider"), "base", queries=True,
               options={"channels": _names, "feeds_url": url_problem}, url_options=("feeds_url",)),
)}
SOURCE_KINDS = tuple(KINDS)


def source_urls(kind: str, url: str, options: dict[str, Any]) -> list[str]:
    """Every URL a source of ``kind`` names: its url and the values of its URL options."""
    urls = [url.replace("{query}", "q")]
    for name in KINDS[kind].url_options:
        value = options.get(name)
        urls += value if isinstance(value, list) else [value] if value else []
    return urls
