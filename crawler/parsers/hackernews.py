"""Pure parser for Hacker News search answers (Algolia ``/api/v1/search_by_date``, stories and comments).

``parse_search`` gives a ``Page``: stories are posts (title and text; their link first among ``links``),
comments are comments whose parent is the story or comment they answer and whose title is their story's.
``next`` is the number of the page after the one asked for, when ``nbPages`` says there is one. Hits that
are not objects or have no ``objectID`` are counted in ``skipped``; a deleted hit has no text.
"""

from __future__ import annotations

from typing import Any

from crawler.parsers.posts import ApiError, Page, Post, html_links, html_to_text, joined
from crawler.text.dates import to_utc

ITEM_URL = "https://news.ycombinator.com/item?id="


def parse_search(data: Any, page: int = 0) -> Page:
    """The hits of page ``page`` (as asked for, from 0); ``ApiError`` when the answer has no ``hits`` list."""
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise ApiError("Algolia did not return a hits list")
    hits = [hit for hit in data["hits"] if isinstance(hit, dict) and hit.get("objectID")]
    more = bool(data["hits"]) and page + 1 < int(data.get("nbPages") or 0)
    return Page(posts=[parse_hit(hit) for hit in hits], next=str(page + 1) if more else None, items=len(data["hits"]),
                skipped=len(data["hits"]) - len(hits))


def parse_hit(hit: dict) -> Post:
    """One story or comment hit (a comment has ``comment`` among its ``_tags``)."""
    item_id = str(hit["objectID"])
    common = {"platform_id": item_id, "url": ITEM_URL + item_id, "author": hit.get("author"),
              "created": to_utc(hit.get("created_at_i") or hit.get("created_at"))}
    if "comment" in (hit.get("_tags") or []):
        return Post(**common, kind="comment", title=hit.get("story_title"), text=html_to_text(hit.get("comment_text")),
                    parent=str(hit["parent_id"]) if hit.get("parent_id") else None,
                    engagement={"likes": hit.get("points")}, links=html_links(hit.get("comment_text")))
    return Post(**common, kind="post", title=hit.get("title"),
                text=joined(hit.get("title"), html_to_text(hit.get("story_text"))),
                engagement={"score": hit.get("points"), "replies": hit.get("num_comments")},
                links=[hit.get("url"), *html_links(hit.get("story_text"))])
