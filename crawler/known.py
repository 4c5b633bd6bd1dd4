"""The documents a crawl already knows: ids stored or filtered before it started, and those seen since.

Spiders claim a page before fetching it, so two sources that list the same article fetch it once,
and the deduplication stage asks it before passing an item on. One
instance serves every spider of a crawl process that writes the same database file.
"""

from __future__ import annotations

from crawler.database import Database


class KnownDocuments:
    _by_database: dict[str, "KnownDocuments"] = {}

    def __init__(self, ids: set[str], retry: set[str] = frozenset()):
        self._ids = ids
        self._retry = set(retry)  # stored from a feed entry only: their page may be fetched once more
        self._claimed: set[str] = set()

    @classmethod
    def for_database(cls, database: Database, retry_days: float = 0) -> "KnownDocuments":
        key = str(database.path.resolve())
        if key not in cls._by_database:
            cls._by_database[key] = cls(*database.known_ids(retry_days))
        return cls._by_database[key]

    @classmethod
    def from_crawler(cls, crawler) -> "KnownDocuments":
        settings = crawler.settings
        return cls.for_database(Database(settings["SEEDTRACK_DB"]), settings.getfloat("REFETCH_FAILED_DAYS"))

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
