"""Crawl state: what a spider needs from earlier crawls, loaded for it and saved after it, so spiders never
touch storage.

When the crawler is built (its spider exists, nothing is fetched yet) the extension gives the spider:
``known``, the documents this database and crawl already know (one ``KnownDocuments`` per database file
and process: spiders claim a page before fetching it, so two sources that list one article fetch it
once, and the dedup stage asks it before passing an item on); ``previous``, where each query of an
incremental source stopped last time; ``key``, the database's pseudonym key when the topic pseudonymises
handles; ``validators``, the ETag/Last-Modified of its feeds and APIs. When the spider closes it saves
the spider's new cursors (``spider.state_rows(reason)``) and, after a complete run without errors, the
validators the conditional middleware collected (``spider.answered``), through the writer thread.

A worker of a distributed crawl (``REDIS_URL`` set) opens no database: it reads this state from Redis,
where ``seedtrack load`` publishes it (``crawler/distributed/state.py``), and sends what it saves to the
item stream.
"""

from __future__ import annotations

import asyncio

from scrapy import signals

from crawler.errors import CrawlSetupError
from crawler.text.dates import utc_now
from crawler.storage import Database, state
from crawler.storage.writer import writer_thread


class KnownDocuments:
    _by_database: dict[str, "KnownDocuments"] = {}

    def __init__(self, ids: set[str], retry: set[str] = frozenset()):
        self._ids = ids
        self._retry = set(retry)  # stored from a feed entry only: their page may be fetched once more
        self._claimed: set[str] = set()

    @classmethod
    def for_crawler(cls, crawler) -> "KnownDocuments":
        """The process's instance for the crawler's database file, loaded on first use (a worker's is
        shared with every worker on Redis)."""
        if crawler.settings.get("REDIS_URL"):
            return _redis_known(crawler.settings)
        database = Database(crawler.settings["SEEDTRACK_DB"])
        key = str(database.path.resolve())
        if key not in cls._by_database:
            cls._by_database[key] = cls(*state.known_ids(database, crawler.settings.getfloat("REFETCH_FAILED_DAYS")))
        return cls._by_database[key]

    def claim(self, doc_id: str) -> bool:
        """Reserve the fetch of a page for the caller; False when it is known or another source fetches it."""
        if doc_id in self._ids or doc_id in self._claimed:
            return False
        self._claimed.add(doc_id)
        return True

    def add(self, doc_id: str, page_read: bool = False) -> bool:
        """Remember ``doc_id``; False when it is known already (a feed-only document is not, once its
        page has been read)."""
        if doc_id in self._ids or (doc_id in self._retry and not page_read):
            return False
        self._ids.add(doc_id)
        self._retry.discard(doc_id)
        return True


def _redis_known(settings):
    from crawler.distributed.keys import Keys
    from crawler.distributed.state import RedisKnownDocuments
    from crawler.distributed.worker import client

    keys = Keys.from_settings(settings)
    if keys.prefix not in KnownDocuments._by_database:
        KnownDocuments._by_database[keys.prefix] = RedisKnownDocuments(
            client(settings), keys, settings.getfloat("REDIS_CLAIM_SECONDS"))
    return KnownDocuments._by_database[keys.prefix]


class CrawlStateExtension:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.database = Database(settings["SEEDTRACK_DB"])
        spider = crawler.spider
        spider.known = KnownDocuments.for_crawler(crawler)
        spider.answered = {}  # url -> (etag, modified, request meta), filled by the conditional middleware
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        self.stream = None
        if settings.get("REDIS_URL"):
            self._from_redis(spider, settings)
            return
        spider.previous = state.crawl_state(self.database, spider.name) if getattr(spider, "incremental", False) else {}
        spider.key = state.pseudonym_key(self.database) if getattr(spider, "pseudonymises", False) else None
        conditional = settings.getbool("CONDITIONAL_ENABLED")
        spider.validators = state.validators(self.database, spider.name) if conditional else {}

    def _from_redis(self, spider, settings) -> None:
        from crawler.distributed import state as shared
        from crawler.distributed.keys import Keys
        from crawler.distributed.stream import StreamWriter

        self.stream = StreamWriter(settings)
        server, keys = self.stream.server, Keys.from_settings(settings)
        spider.previous = shared.cursors(server, keys, spider.name) if getattr(spider, "incremental", False) else {}
        spider.key = shared.pseudonym_key(server, keys) if getattr(spider, "pseudonymises", False) else None
        if getattr(spider, "pseudonymises", False) and spider.key is None:
            raise CrawlSetupError(f"no pseudonym key on Redis under {keys.prefix}: start `seedtrack load` "
                                  "(it publishes the database's key) before the workers")
        conditional = settings.getbool("CONDITIONAL_ENABLED")
        spider.validators = shared.validators(server, keys, spider.name) if conditional else {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def spider_closed(self, spider, reason: str) -> None:
        rows = spider.state_rows(reason) if hasattr(spider, "state_rows") else []
        validators = self.validator_rows(spider, reason)
        if rows or validators:
            await asyncio.get_running_loop().run_in_executor(writer_thread(), self.save, rows, validators)

    def validator_rows(self, spider, reason: str) -> list[tuple]:
        """The validators to keep: only after a finished run without errors (a run that lost entries must
        read its feeds in full next time), and not those a spider marked ``conditional_save = False``."""
        if reason != "finished" or self.crawler.stats.get_value("source/errors", 0):
            return []
        return [(url, spider.name, etag, modified, utc_now()) for url, (etag, modified, meta) in spider.answered.items()
                if meta.get("conditional_save", True)]

    def save(self, rows: list[dict], validators: list[tuple]) -> None:
        if self.stream is not None:
            self.stream.save_state(rows, validators)
            return
        state.save_state(self.database, rows)
        if validators:
            state.save_validators(self.database, validators)
