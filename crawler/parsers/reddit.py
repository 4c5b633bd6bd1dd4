"""Pure parsers for Reddit's JSON: listings (search, subreddit ``new``) and ``/comments/ID.json`` threads.

``parse_listing`` gives a ``Page`` of ``Submission`` posts (its ``next`` is the listing's ``after``);
``parse_thread`` gives a thread's comments, depth first as the spider stored them, with the "load more"
stubs counted in ``skipped`` (they are not expanded). Deleted and removed posts and comments (``[deleted]``,
``[removed]``, ``removed_by_category``) come back with ``deleted`` set and no text, so the crawl still sees
how far it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crawler.parsers.posts import ApiError, Page, Post, html_links
from crawler.text.dates import to_utc

DELETED = ("[deleted]", "[removed]")
SITE = "https://www.reddit.com"


@dataclass
class Submission(Post):
    thread_id: str | None = None  # the id in ``/comments/ID.json``
    comments: int | None = None  # num_comments
    selftext: str | None = None


def parse_listing(data: Any) -> Page:
    """The ``t3`` posts of a Listing, newest first as Reddit sends them; ``ApiError`` when it is no Listing."""
    if not (isinstance(data, dict) and data.get("kind") == "Listing"):
        raise ApiError("Reddit did not return a Listing")
    children = [c.get("data") or {} for c in data["data"].get("children") or [] if c.get("kind") == "t3"]
    return Page(posts=[submission(post) for post in children], next=data["data"].get("after"), items=len(children))


def submission(post: dict) -> Submission:
    """A ``t3`` thing's data as a post: title and self text, its link (a link post) and the links in its text."""
    deleted = bool(post.get("selftext") in DELETED or post.get("removed_by_category"))
    parts = (post.get("title"), post.get("selftext"))
    text = "" if deleted else "\n\n".join(p for p in parts if p and p not in DELETED)
    links = [post.get("url_overridden_by_dest") or post.get("url")] if not post.get("is_self") else []
    return Submission(
        platform_id=post.get("name") or f"t3_{post.get('id')}", url=permalink(post), kind="post", text=text,
        created=to_utc(post.get("created_utc")), author=_author(post), title=post.get("title"),
        engagement={"score": post.get("score"), "replies": post.get("num_comments")},
        links=[*links, *html_links(post.get("selftext_html"))], deleted=deleted,
        thread_id=post.get("id"), comments=post.get("num_comments"), selftext=post.get("selftext"),
    )


def parse_thread(data: Any, title: str | None = None) -> Page:
    """The comments of a ``[post listing, comment listing]`` pair, each titled ``title`` (its post's)."""
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], dict)):
        raise ApiError("Reddit did not return a [post, comments] pair")
    comments, more = [], 0
    stack = list(data[1].get("data", {}).get("children") or [])
    while stack:
        child = stack.pop()
        if child.get("kind") != "t1":
            more += 1
            continue
        comment = child.get("data") or {}
        replies = comment.get("replies")
        if isinstance(replies, dict):
            stack.extend(replies.get("data", {}).get("children") or [])
        deleted = comment.get("body") in DELETED
        comments.append(Post(
            platform_id=comment.get("name") or f"t1_{comment.get('id')}", url=permalink(comment), kind="comment",
            text=None if deleted else comment.get("body"), created=to_utc(comment.get("created_utc")),
            author=_author(comment), title=title, parent=comment.get("parent_id"),
            engagement={"score": comment.get("score")}, links=html_links(comment.get("body_html")), deleted=deleted,
        ))
    return Page(posts=comments, items=len(comments) + more, skipped=more)


def permalink(thing: dict) -> str:
    link = thing.get("permalink")
    if not link:  # 2016 comment listings have none: build it from the post id and the comment id
        post_id = str(thing.get("link_id", "")).removeprefix("t3_")
        link = f"/r/{thing.get('subreddit')}/comments/{post_id}/_/{thing.get('id')}/"
    return SITE + link


def _author(thing: dict) -> str | None:
    author = thing.get("author")
    return None if not author or author in DELETED else author
