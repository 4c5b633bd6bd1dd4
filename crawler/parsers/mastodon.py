"""Pure parsers for Mastodon's REST answers: tag timelines, ``/api/v2/search`` and single statuses.

Each status becomes a ``Status`` post identified by its ActivityPub ``uri`` (a boost by the status it
boosts), with its author as ``user@instance`` and its content's links and card link. A reply is a comment
whose ``reply_to`` is the id of the status it answers on that instance; its ``parent`` (a uri) is left for
the caller to learn. ``parse_timeline`` and ``parse_search`` give a ``Timeline`` page; ``next_link`` reads
the ``Link: <...>; rel="next"`` header that pages timelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.parsers.posts import ApiError, Page, Post, html_links, html_to_text, joined
from crawler.text.dates import to_utc

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass
class Status(Post):
    status_id: str | None = None  # the id on the instance it was read from
    reply_to: str | None = None  # in_reply_to_id: the id, on that instance, of the status it answers
    listed_at: datetime | None = None  # when it entered the timeline (a boost's own time, not its status')


@dataclass
class Timeline(Page):
    oldest: datetime | None = None  # the oldest ``created_at`` of the answer's statuses (boosts as boosted)


def parse_timeline(data: Any, instance: str, pseudonymised: bool = False) -> Timeline:
    """A timeline answer (a list of statuses); ``ApiError`` when it is not a list."""
    if not isinstance(data, list):
        raise ApiError("the tag timeline is not a list of statuses")
    return _timeline(data, instance, pseudonymised)


def parse_search(data: Any, instance: str, pseudonymised: bool = False) -> Timeline:
    """The statuses of a ``/api/v2/search?type=statuses`` answer; ``ApiError`` when it has none."""
    statuses = data.get("statuses") if isinstance(data, dict) else None
    if not isinstance(statuses, list):
        raise ApiError("the search answer has no statuses list")
    return _timeline(statuses, instance, pseudonymised)


def _timeline(statuses: list, instance: str, pseudonymised: bool) -> Timeline:
    parsed = [parse_status(status, instance, pseudonymised) for status in statuses]
    posts = [status for status in parsed if status is not None]
    dates = [d for d in (to_utc(s.get("created_at")) for s in statuses if isinstance(s, dict)) if d is not None]
    return Timeline(posts=posts, items=len(statuses), skipped=len(statuses) - len(posts),
                    oldest=min(dates) if dates else None)


def parse_status(status: Any, instance: str, pseudonymised: bool = False) -> Status | None:
    """A ``Status`` entity read from ``instance`` (None when it has no ``uri``).

    ``pseudonymised``: the permalink is the API's ``/api/v1/statuses/ID``, which names no account.
    """
    if not isinstance(status, dict) or not status.get("uri"):
        return None
    listed_at = to_utc(status.get("created_at"))
    status = status.get("reblog") or status
    account = status.get("account") or {}
    acct = account.get("acct")
    if acct and "@" not in acct:
        acct = f"{acct}@{urlsplit(instance).netloc}"
    card = status.get("card") or {}
    url = f"{instance}/api/v1/statuses/{status.get('id')}" if pseudonymised else (status.get("url") or status["uri"])
    return Status(
        platform_id=status["uri"], url=url, kind="comment" if status.get("in_reply_to_id") else "post",
        text=joined(status.get("spoiler_text"), html_to_text(status.get("content"))),
        created=to_utc(status.get("created_at")), author=acct, lang=status.get("language"),
        engagement={"likes": status.get("favourites_count"), "reposts": status.get("reblogs_count"),
                    "replies": status.get("replies_count")},
        links=[*html_links(status.get("content")), *([card["url"]] if card.get("url") else [])],
        status_id=status.get("id"), reply_to=status.get("in_reply_to_id"), listed_at=listed_at,
    )


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header."""
    found = _NEXT.search(header or "")
    return found[1] if found else None
