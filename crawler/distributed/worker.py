"""What makes a crawl process a worker: its id, its Redis client, its settings, and its heartbeat.

``worker_settings`` swaps the components that would touch the database for their Redis counterparts:
scrapy-redis's scheduler (``frontier.Scheduler``), the stream store stage, and the lease middlewares.
The heartbeat (``Presence``) says every few seconds that the worker is alive and which sources it
crawls; a worker whose heartbeat has expired has its in-flight requests crawled by another.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from scrapy import signals
from twisted.internet import task

from crawler.distributed.keys import Keys, connect
from crawler.errors import UserError
from crawler.text.dates import utc_now

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"

_clients: dict[str, redis.Redis] = {}


def client(settings) -> redis.Redis:
    """The process's client of ``REDIS_URL``: a command retried while Redis restarts, for about
    ``REDIS_RETRY_SECONDS``, then a clear error."""
    url = settings["REDIS_URL"]
    if url not in _clients:
        connect(url)  # a clear error now rather than retries later
        seconds = settings.getfloat("REDIS_RETRY_SECONDS")
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=max(1, int(seconds))),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError])
    return _clients[url]


def worker_settings(settings) -> None:
    """Make the crawl of ``settings`` a worker of the frontier on ``REDIS_URL`` (checked reachable, and
    holding the crawl state a loader published: without it every stored page would be fetched again)."""
    keys = Keys.from_settings(settings)
    if not connect(settings["REDIS_URL"]).exists(keys.state_ready):
        raise UserError(f"no loader has published the crawl state under {keys.prefix} on {settings['REDIS_URL']}: "
                        f"start `seedtrack load --redis URL --db {settings['SEEDTRACK_DB']}` first (the same --db, "
                        "or the same REDIS_PREFIX)")
    settings.set("SCHEDULER", "crawler.distributed.frontier.Scheduler", priority="cmdline")
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    order = pipelines.pop("pipelines.store.StorePipeline", 600)
    pipelines["pipelines.stream.StreamStorePipeline"] = order
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    settings.set("SPIDER_MIDDLEWARES", {**settings.getdict("SPIDER_MIDDLEWARES"),
                                        "crawler.distributed.frontier.LeaseSpiderMiddleware": 5}, priority="cmdline")
    settings.set("EXTENSIONS", {**settings.getdict("EXTENSIONS"),
                                "crawler.distributed.worker.Presence": 50}, priority="cmdline")


class Presence:
    """The worker's heartbeat: ``{prefix}:worker:{id}`` (expires after ``REDIS_WORKER_TIMEOUT``) and its
    entry in ``{prefix}:workers``; it also keeps alive the round of each source the worker crawls."""

    _by_process: dict[str, "Presence"] = {}

    def __init__(self, server: redis.Redis, keys: Keys, timeout: float):
        self.server, self.keys, self.timeout = server, keys, timeout
        self.sources: set[str] = set()
        self.loop = task.LoopingCall(self.beat)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        keys = Keys.from_settings(settings)
        if keys.prefix not in cls._by_process:
            cls._by_process[keys.prefix] = cls(client(settings), keys, settings.getfloat("REDIS_WORKER_TIMEOUT"))
        presence = cls._by_process[keys.prefix]
        crawler.signals.connect(presence.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(presence.spider_closed, signal=signals.spider_closed)
        return presence

    @classmethod
    def of(cls, keys: Keys) -> "Presence | None":
        return cls._by_process.get(keys.prefix)

    def spider_opened(self, spider) -> None:
        self.sources.add(spider.name)
        self.beat()
        if not self.loop.running:
            self.loop.start(max(0.2, self.timeout / 4), now=False)

    def spider_closed(self, spider) -> None:
        self.sources.discard(spider.name)
        if self.sources:
            self.beat()
            return
        if self.loop.running:
            self.loop.stop()
        self.server.delete(self.keys.heartbeat(WORKER_ID))
        self.server.hset(self.keys.workers, WORKER_ID, self._entry("stopped"))

    def _entry(self, state: str) -> str:
        return json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "state": state,
                           "sources": sorted(self.sources), "seen_at": utc_now().isoformat()})

    def beat(self) -> None:
        try:
            pipe = self.server.pipeline()
            pipe.set(self.keys.heartbeat(WORKER_ID), self._entry("crawling"), px=int(self.timeout * 1000))
            pipe.hset(self.keys.workers, WORKER_ID, self._entry("crawling"))
            for source in self.sources:
                pipe.pexpire(self.keys.round(source), int(self.timeout * 1000))
            pipe.execute()
        except redis.RedisError as exc:  # Redis restarting: the next beat tries again
            logger.warning("heartbeat not sent: %s", exc)
