"""The Redis connection and the names of every key seedtrack keeps there, under one prefix.

The prefix (setting ``REDIS_PREFIX``; by default ``seedtrack:`` and the database file's name) keeps the
keys of two topics, or two databases, apart on one Redis server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis

from crawler.errors import UserError


class RedisUnavailable(UserError):
    """Redis did not answer, or refused the command."""


def connect(url: str, timeout: float = 10.0) -> redis.Redis:
    """A client of the Redis at ``url``, checked with a PING."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                      health_check_interval=30)
        client.ping()
    except ValueError as exc:
        raise RedisUnavailable(f"--redis {url}: not a Redis URL ({exc}); write redis://HOST:PORT/DB") from None
    except redis.RedisError as exc:
        raise RedisUnavailable(f"cannot reach Redis at {url}: {exc}; start redis-server there or pass "
                               "the right --redis URL") from None
    return client


def default_prefix(db: str | Path) -> str:
    return f"seedtrack:{Path(db).stem}"


@dataclass(frozen=True)
class Keys:
    prefix: str

    @classmethod
    def from_settings(cls, settings) -> "Keys":
        return cls(settings.get("REDIS_PREFIX") or default_prefix(settings["SEEDTRACK_DB"]))

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # the frontier: scrapy-redis's queue and dupefilter per source (spider), in-flight requests per worker
    def requests(self, spider: str) -> str:
        return self.key("requests", spider)

    def dupefilter(self, spider: str) -> str:
        return self.key("dupefilter", spider)

    def inflight(self, spider: str, worker: str) -> str:
        return self.key("inflight", spider, worker)

    def round(self, spider: str) -> str:  # a source's round: while it lives, its feeds are read once
        return self.key("round", spider)

    def popped(self, spider: str, worker: str, call: int) -> str:  # the lease token one pop call gave (for its retry)
        return self.key("popped", spider, worker, str(call))

    def seen_call(self, spider: str, worker: str, call: int) -> str:  # one dupefilter call added its fingerprint
        return self.key("seen", spider, worker, str(call))

    @property
    def inflight_index(self) -> str:  # the set of in-flight hashes, to find a dead worker's
        return self.key("inflight")

    def heartbeat(self, worker: str) -> str:  # expires when the worker stops beating
        return self.key("worker", worker)

    @property
    def workers(self) -> str:  # worker -> JSON {seen_at, sources, pid, host}: the workers ever seen
        return self.key("workers")

    # crawl state the loader publishes
    @property
    def known(self) -> str:
        return self.key("known")

    @property
    def retry(self) -> str:
        return self.key("retry")

    def claim(self, doc_id: str) -> str:
        return self.key("claim", doc_id)

    def storing(self, doc_id: str) -> str:  # the worker whose store stage has the document, not yet on the stream
        return self.key("storing", doc_id)

    def cursors(self, source: str) -> str:
        return self.key("cursors", source)

    def validators(self, source: str) -> str:
        return self.key("validators", source)

    @property
    def pseudonym_key(self) -> str:
        return self.key("pseudonym-key")

    @property
    def state_ready(self) -> str:  # set by the loader once its first snapshot is published
        return self.key("state-ready")

    # rows on their way to the database, and runs handed to the workers
    @property
    def items(self) -> str:
        return self.key("items")

    @property
    def runs(self) -> str:
        return self.key("runs")


LOADER_GROUP = "loader"
