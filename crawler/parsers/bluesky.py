"""Pure parser for Bluesky ``app.bsky.feed.searchPosts`` answers (``{"posts": [postView ...], "cursor": ...}``).

``parse_search`` gives a ``Page`` whose ``next`` is the answer's ``cursor``. Each post view becomes a post,
or a comment whose parent is the post it answers (``record.reply.parent``); its links are those of the
record's facets and of link cards (``app.bsky.embed.external``). Views without a record or author (deleted,
``notFoundPost``) are counted in ``deleted``.
"""

from __future__ import annotations

from typing import Any

from crawler.parsers.posts import ApiError, Page, Post
from crawler.text.dates import to_utc


def parse_search(data: Any, pseudonymised: bool = False) -> Page:
    """The post views of one answer; ``pseudonymised``: permalinks name the author's DID, not the handle."""
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise ApiError("searchPosts did not return a posts list")
    posts = []
    for view in data["posts"]:
        record = view.get("record") if isinstance(view, dict) else None
        if isinstance(record, dict) and isinstance(view.get("author"), dict):
            posts.append(post_view(view, pseudonymised))
    return Page(posts=posts, next=data.get("cursor"), items=len(data["posts"]), deleted=len(data["posts"]) - len(posts))


def post_view(view: dict, pseudonymised: bool = False) -> Post:
    """An ``app.bsky.feed.defs#postView`` with its record and author."""
    author, record, uri = view["author"], view["record"], str(view.get("uri", ""))
    did, rkey = uri.removeprefix("at://").split("/")[0], uri.rsplit("/", 1)[-1]
    profile = did if pseudonymised else (author.get("handle") or did)  # pseudonymised: no handle in the link
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    langs = record.get("langs") or []
    return Post(
        platform_id=uri, url=f"https://bsky.app/profile/{profile}/post/{rkey}", kind="comment" if parent else "post",
        text=record.get("text"), created=to_utc(record.get("createdAt")), author=author.get("handle"), parent=parent,
        lang=langs[0] if langs else None, links=_links(record) + _links(view),
        engagement={"likes": view.get("likeCount"), "reposts": view.get("repostCount"),
                    "replies": view.get("replyCount")},
    )


def _links(node: dict) -> list[str]:
    """Links of a post record's facets and of a link card (``app.bsky.embed.external``)."""
    links = [feature.get("uri") for facet in _dicts(node.get("facets")) for feature in _dicts(facet.get("features"))
             if str(feature.get("$type", "")).endswith("#link") and feature.get("uri")]
    embed = node.get("embed") if isinstance(node.get("embed"), dict) else {}
    media = embed.get("media") if isinstance(embed.get("media"), dict) else {}  # a list in some clients' records
    for external in (embed.get("external"), media.get("external")):
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            links.append(external["uri"])
    return links


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
