"""One spider per source family. ``kinds.KINDS`` is the registry of source kinds: each names its spider
class, which ``spider_class`` imports when a crawl needs it (a topic loads without importing Scrapy)."""

from __future__ import annotations

from importlib import import_module


def spider_class(kind: str):
    """The spider class of a source kind (a name of ``kinds.KINDS``)."""
    from crawler.spiders.kinds import KINDS

    module, _, name = KINDS[kind].spider.rpartition(".")
    return getattr(import_module(module), name)
