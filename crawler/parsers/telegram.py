"""Pure parser for Telegram's public channel previews (``t.me/s/NAME``, HTML).

``parse_channel`` gives a ``Page`` of the preview's messages, newest first (the page lists them oldest
first), whose ``next`` is the absolute URL of the older messages (``?before=ID``). A message is a post:
``data-post`` ``NAME/ID`` is its id, its date link its permalink, the channel its author; its view count
and the sum of its reactions are its engagement. A message without text (a photo, a sticker) has no text.
A page without a channel on it (a wrong or private name) raises ``ApiError``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import parsel

from crawler.parsers.posts import ApiError, Page, Post, html_links, html_to_text
from crawler.text.dates import to_utc

_COUNT = re.compile(r"^([\d.,]+)\s*([KMB]?)$", re.I)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
NO_CHANNEL = "not a Telegram channel preview (no channel on the page): is the channel public and its name right?"


def parse_count(text: str | None) -> int | None:
    """Telegram's short counts: "948", "1.2K", "3M" -> 948, 1200, 3000000."""
    match = _COUNT.match((text or "").strip())
    if not match:
        return None
    return int(float(match[1].replace(",", "")) * _SCALE[match[2].lower()])


def parse_channel(html: str, url: str, site: str = "https://t.me") -> Page:
    """The messages of the preview page read from ``url``; ``site`` makes permalinks of messages without one."""
    page = parsel.Selector(text=html, type="html")
    if not page.css("div.tgme_channel_info, section.tgme_channel_history"):
        raise ApiError(NO_CHANNEL)
    messages = page.css("div.tgme_widget_message[data-post]")
    older = page.css("a.tme_messages_more[data-before]::attr(href), link[rel=prev]::attr(href)").get()
    return Page(posts=[message(m, url, site) for m in reversed(messages)], next=urljoin(url, older) if older else None,
                items=len(messages))


def message(node: parsel.Selector, url: str, site: str = "https://t.me") -> Post:
    """One ``div.tgme_widget_message`` of a preview read from ``url``."""
    post_id = node.attrib["data-post"]
    html = node.css("div.tgme_widget_message_text").get()
    reactions = [parse_count(r) for r in node.css("span.tgme_reaction::text").getall()]
    views = parse_count(node.css("span.tgme_widget_message_views::text").get())
    link = node.css("a.tgme_widget_message_date::attr(href)").get()
    return Post(
        platform_id=post_id, url=urljoin(url, link) if link else f"{site.rstrip('/')}/{post_id}", kind="post",
        text=html_to_text(html), created=to_utc(node.css("a.tgme_widget_message_date time::attr(datetime)").get()),
        author=post_id.split("/")[0], links=[urljoin(url, href) for href in html_links(html)],
        engagement={"views": views, "likes": sum(r for r in reactions if r) if reactions else None},
    )
