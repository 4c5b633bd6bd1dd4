"""The one item schema: every article, post, comment or video travels through the pipelines as a ``Document``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("article", "post", "comment", "video")


@dataclass
class Document:
    """A document found by a spider; the pipelines fill in the fields after ``html``."""

    url: str
    source: str
    source_kind: str
    kind: str = "article"
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    author: str | None = None
    published_at: Any = None  # datetime, struct_time, epoch or date string until validation makes it UTC
    seen_at: Any = None  # when an aggregator first saw it: used only when neither source nor page has a date
    lang: str | None = None  # a hint from the source (e.g. GDELT's language); detection overrides it
    found_via: str | None = None  # the feed, search or sitemap URL that led to the document
    links: list[str] = field(default_factory=list)  # links that led here (followed, aggregator): kept as aliases
    html: str | None = None  # the fetched page, consumed by the extraction stage and never stored
    # social posts and comments (crawler/spiders/social.py): their id is platform_document_id(platform, platform_id)
    platform: str | None = None  # "reddit", "hackernews", "bluesky", "mastodon" ...
    platform_id: str | None = None  # the platform's own id of the post (Reddit t3_/t1_ name, at:// URI ...)
    parent_id: str | None = None  # document id of the post or comment this one replies to
    engagement: dict[str, Any] | None = None  # likes, reposts, replies, views, score as the platform gives them
    # filled by the pipelines
    id: str | None = None
    aliases: list[dict[str, str]] = field(default_factory=list)  # url_aliases rows: alias_id, url
    site: str | None = None
    fetched_at: datetime | None = None
    text_source: str | None = None  # "page" (extracted from the fetched page) or "feed" (title and summary only)
    word_count: int | None = None
    relevance: str | None = None
    matched_terms: list[str] = field(default_factory=list)
    filtered_reason: str | None = None  # set when the document is not about the topic: stored in `filtered`
    analysed: bool = False
    entities: list[dict[str, Any]] = field(default_factory=list)
    reception: dict[str, Any] | None = None  # stance, score, confidence, evidence, frames, frame_stances, actors
    run_id: str | None = None
