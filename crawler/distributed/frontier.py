"""The shared frontier: scrapy-redis's scheduler and dupefilter, with leases on the requests workers pop.

scrapy-redis pops a request from the shared queue with no acknowledgement: a worker killed after the
pop would lose it. Here the pop also files the request under the worker's in-flight hash
(``{prefix}:inflight:{source}:{worker}``), atomically; the lease is released when the response's
callback output has been handled (its items released when the store stage has pushed them to the
stream), when the download fails, or when the request is scheduled again (a retry, a redirect). A live
worker gives the requests of a worker whose heartbeat expired back to the queue. A worker waits, before
it closes, until no other worker has requests in flight (they may yet give more, or die).

Rounds: feed requests are filtered by their fingerprints, so two workers read a feed once. A round of
a source lasts while workers crawl it (``{prefix}:round:{source}``, kept alive by their heartbeats, expiring
``REDIS_WORKER_TIMEOUT`` after the last one closed it); a worker opening a source with no round starts one
and clears the source's fingerprints, so the next scheduled run reads its feeds again. A worker holds
at most ``REDIS_PREFETCH`` requests at once, and asks for more twice a second while the frontier has
some (Scrapy's engine alone asks every 5 s when its scheduler had none).
"""

from __future__ import annotations

import logging
import time

import redis
from scrapy import Request, signals
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from crawler.compat import wake_engine
from crawler.distributed.keys import Keys
from crawler.distributed.worker import WORKER_ID, client

logger = logging.getLogger(__name__)

LEASE = "seedtrack_lease"  # request meta: (in-flight hash, token)

_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0)
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, r[1])
redis.call('SADD', KEYS[4], KEYS[2])
return {token, r[1]}
"""
_REQUEUE = """
local items = redis.call('HVALS', KEYS[1])
for _, data in ipairs(items) do redis.call('ZADD', KEYS[2], 0, data) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], KEYS[1])
return #items
"""


# Leases this process holds (popped, not yet released): a worker takes no more than REDIS_PREFETCH at once,
# so it does not hoard requests another worker could fetch meanwhile.
_HELD: set[tuple[str, str]] = set()


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue; ``pop`` files the request under the worker's in-flight hash."""

    def lease_to(self, keys: Keys, spider: str) -> None:
        self.inflight = keys.inflight(spider, WORKER_ID)
        self.index = keys.inflight_index
        self.sequence = keys.key("lease-seq")
        self._pop = self.server.register_script(_POP)

    def pop(self, timeout=0):
        popped = self._pop(keys=[self.key, self.inflight, self.sequence, self.index])
        if not popped:
            return None
        token, data = popped
        request = self._decode_request(data)
        lease = (self.inflight, token.decode() if isinstance(token, bytes) else str(token))
        request.meta[LEASE] = lease
        _HELD.add(lease)
        return request


class DupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprint set; kept when a spider closes (rounds clear it, see the module)."""

    def close(self, reason=""):
        pass


def release(server: redis.Redis, leases) -> None:
    """Release the leases ``(in-flight hash, token)`` given (those already released are ignored)."""
    leases = [tuple(lease) for lease in leases if lease]
    if not leases:
        return
    _HELD.difference_update(leases)
    pipe = server.pipeline(transaction=False)
    for inflight, token in leases:
        pipe.hdel(inflight, token)
    pipe.execute()


class Scheduler(RedisScheduler):
    """scrapy-redis's scheduler on the prefix's keys, with leases, rounds and dead workers' requests."""

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        keys = Keys.from_settings(settings)
        scheduler = cls(server=client(settings), persist=True)
        scheduler.stats, scheduler.keys = crawler.stats, keys
        scheduler.timeout = settings.getfloat("REDIS_WORKER_TIMEOUT")
        scheduler.prefetch = settings.getint("REDIS_PREFETCH")
        scheduler.crawler = crawler
        scheduler._checked = 0.0
        scheduler._others = False
        scheduler._was_pending = False
        scheduler._poll = task.LoopingCall(scheduler._wake)
        return scheduler

    def open(self, spider):
        round_key = self.keys.key("round", spider.name)
        if self.server.set(round_key, WORKER_ID, nx=True, px=int(self.timeout * 1000)):
            self.server.delete(self.keys.dupefilter(spider.name))  # a new round: read the feeds again
        self.spider = spider
        self.df = DupeFilter(self.server, self.keys.dupefilter(spider.name))
        self.queue = LeasedQueue(server=self.server, spider=spider, key=self.keys.requests(spider.name),
                                 serializer=self.serializer)
        self.queue.lease_to(self.keys, spider.name)
        self._requeue = self.server.register_script(_REQUEUE)
        self._poll.start(0.5, now=False)

    def close(self, reason):
        # the round key outlives the last worker by REDIS_WORKER_TIMEOUT: a worker started a little late joins it
        if self._poll.running:
            self._poll.stop()
        self.server.delete(self.queue.inflight)
        self.server.srem(self.keys.inflight_index, self.queue.inflight)

    def _wake(self) -> None:
        """Twice a second, while this worker has room: ask the engine to fetch (its own heartbeat waits 5 s)
        when the shared queue has requests, or another worker's may come back."""
        try:
            pending = self.has_pending_requests()
        except redis.RedisError as exc:  # Redis restarting for longer than REDIS_RETRY_SECONDS: try again later
            logger.warning("the frontier on Redis did not answer: %s", exc)
            return
        if len(_HELD) < self.prefetch and (pending or self._was_pending):
            wake_engine(self.crawler)  # also once the frontier has emptied: the engine then sees it is idle
        self._was_pending = pending

    # enqueue_request and next_request are scrapy-redis's without the ``spider`` argument to stats, which
    # Scrapy 2.19 deprecates
    def enqueue_request(self, request: Request) -> bool:
        lease = request.meta.pop(LEASE, None)  # a retry or redirect of a leased request replaces it
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            queued = False
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
            self.queue.push(request)
            queued = True
        release(self.server, [lease])
        return queued

    def next_request(self):
        self._others_in_flight()
        if len(_HELD) >= self.prefetch:
            return None
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return len(self) > 0 or self._others_in_flight()

    def _others_in_flight(self) -> bool:
        """True while another worker has requests of this source in flight; a dead worker's are queued
        again (checked at most once a second)."""
        now = time.monotonic()
        if now - self._checked < 1.0:
            return self._others
        self._checked = now
        prefix = self.keys.inflight(self.spider.name, "")
        others = False
        for name in self.server.smembers(self.keys.inflight_index):
            name = name.decode()
            if not name.startswith(prefix) or name == self.queue.inflight:
                continue
            owner = name[len(prefix):]
            if not self.server.exists(self.keys.heartbeat(owner)):
                moved = self._requeue(keys=[name, self.queue.key, self.keys.inflight_index])
                if moved:
                    logger.warning("worker %s stopped beating: its %d requests in flight are queued again",
                                   owner, moved)
                    self.stats.inc_value("frontier/requeued", moved)
            elif self.server.hlen(name):
                others = True
        self._others = others
        return others


class LeaseSpiderMiddleware:
    """Releases a request's lease once its callback's output is handled; items carry it to the store."""

    def __init__(self, crawler):
        self.server = client(crawler.settings)
        crawler.signals.connect(self.item_done, signal=signals.item_dropped)
        crawler.signals.connect(self.item_done, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        lease, carried = response.request.meta.get(LEASE), False
        try:
            for output in result:
                if lease and not carried and not isinstance(output, Request):
                    setattr(output, LEASE, lease)  # released when the store stage has pushed the item
                    carried = True
                yield output
        finally:  # also when the callback raised
            if lease and not carried:
                release(self.server, [lease])

    async def process_spider_output_async(self, response, result):
        lease, carried = response.request.meta.get(LEASE), False
        try:
            async for output in result:
                if lease and not carried and not isinstance(output, Request):
                    setattr(output, LEASE, lease)
                    carried = True
                yield output
        finally:
            if lease and not carried:
                release(self.server, [lease])

    def process_spider_exception(self, response, exception):
        release(self.server, [response.request.meta.get(LEASE)])  # an HTTP error status: its errback runs next

    def item_done(self, item, **kwargs) -> None:
        release(self.server, [getattr(item, LEASE, None)])


class LeaseDownloaderMiddleware:
    """Releases the lease of a request whose download failed (a retry is a new request)."""

    def __init__(self, crawler):
        self.server = client(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_exception(self, request, exception):
        release(self.server, [request.meta.get(LEASE)])
