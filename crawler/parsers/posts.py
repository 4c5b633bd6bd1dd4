"""What the social-platform parsers return: ``Post`` (a post, comment or video) and ``Page`` (one API answer).

The platform parsers (``reddit``, ``hackernews``, ``bluesky``, ``mastodon``, ``telegram``, ``youtube``) take a
decoded API answer (JSON object or list, or HTML/XML text) and return these plain dataclasses; an answer not
in the platform's format raises ``ApiError`` with the reason. The HTML helpers turn a post's HTML into text
and links. Nothing here fetches, stores or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import lxml.html


class ApiError(ValueError):
    """An answer that is not what the platform's API returns (the message says what was expected)."""


@dataclass
class Post:
    platform_id: str
    url: str
    kind: str  # post | comment | video
    text: str | None
    created: datetime | None  # naive UTC
    author: str | None
    title: str | None = None
    parent: str | None = None  # the platform id of the post or comment it answers
    lang: str | None = None
    engagement: dict[str, Any] | None = None  # likes, reposts, replies, views, score as the platform gives them
    links: list[str] = field(default_factory=list)  # links in the post (mentions and hashtags excepted)
    deleted: bool = False  # the platform marks it deleted or removed (its text is then empty)


@dataclass
class Page:
    posts: list[Post]
    next: str | None = None  # the next page's cursor, ``after``, token or URL, as the answer gives it
    items: int = 0  # entries in the answer, skipped ones included (none: the last page)
    deleted: int = 0  # entries the platform gives as deleted (no record, gone), not in ``posts``
    skipped: int = 0  # entries not read: no id, not an object, a "load more" stub


def html_to_text(html: str | None) -> str | None:
    """Plain text of a post's HTML (Mastodon content, Reddit body_html), one paragraph a line."""
    if not html or not html.strip():
        return None
    root = lxml.html.fromstring(f"<div>{html}</div>")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "li", "pre", "blockquote", "h1", "h2", "h3"):
        block.tail = "\n\n" + (block.tail or "")
    lines = [" ".join(line.split()) for line in root.text_content().split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() or None


def html_links(html: str | None) -> list[str]:
    """The ``href`` of every link in a post's HTML, except mentions and hashtags."""
    if not html:
        return []
    root = lxml.html.fromstring(f"<div>{html}</div>")
    return [a.get("href") for a in root.iter("a")
            if a.get("href") and not {"mention", "hashtag"} & set((a.get("class") or "").split())]


def joined(*parts: str | None) -> str:
    """The non-empty parts, a blank line apart (a title and its body)."""
    return "\n\n".join(p for p in parts if p)
