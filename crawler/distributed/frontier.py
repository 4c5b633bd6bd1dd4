"""The shared frontier: scrapy-redis's scheduler and dupefilter, with leases on the requests workers pop.

scrapy-redis pops a request from the shared queue with no acknowledgement: a worker killed after the
pop would lose it. Here the pop also files the request under the worker's in-flight hash
(``{prefix}:inflight:{source}:{worker}``), atomically. The lease is released when what the request
gave is safe: when its callback's or errback's output has been handled and every item of that output is
on the stream (or dropped), or when the request is scheduled again (a retry, a redirect: after the new
one is queued). A live worker gives the requests of a worker whose heartbeat expired back to the queue.
A worker closes a source only when one atomic look at Redis finds the source's queue empty and no live
worker with requests of it in flight (they may yet give more, or die).

Rounds: feed requests are filtered by their fingerprints, so two workers read a feed once. A round of
a source lasts while workers crawl it (``{prefix}:round:{source}``, kept alive by their heartbeats, expiring
``REDIS_WORKER_TIMEOUT`` after the last one closed it); a worker opening a source with no round starts one
and clears the source's fingerprints, so the next scheduled run reads its feeds again. A worker holds
at most ``REDIS_PREFETCH`` requests at once, and asks for more twice a second while the frontier has
some (Scrapy's engine alone asks every 5 s when its scheduler had none).
"""

from __future__ import annotations

import itertools
import logging
import threading

import redis
from scrapy import Request, signals
from scrapy.utils.misc import arg_to_iter
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task
from twisted.python.failure import Failure

from crawler.compat import wake_engine
from crawler.distributed.keys import Keys
from crawler.distributed.worker import WORKER_ID, client

logger = logging.getLogger(__name__)

_OPENS = itertools.count()  # this process's source openings, each with its own round key value
LEASE = "seedtrack_lease"  # request meta: (in-flight hash, token)

# KEYS[5] names this pop call: a pop sent again by the client's retry after Redis restarted (the first ran, its
# reply was lost) gets the request the first one leased, which would otherwise sit leased to no one
_POP = """
local done = redis.call('GET', KEYS[5])
if done then
  local data = redis.call('HGET', KEYS[2], done)
  if data then return {done, data} end
  return false
end
local r = redis.call('ZRANGE', KEYS[1], 0, 0)
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, r[1])
redis.call('SADD', KEYS[4], KEYS[2])
redis.call('SET', KEYS[5], token, 'EX', 600)
return {token, r[1]}
"""
# the queue's length, how many live workers other than ARGV[2] hold requests of the source in flight, and
# the in-flight hashes of dead ones (ARGV[1]: the source's in-flight prefix; ARGV[3]: the heartbeat prefix)
_PENDING = """
local queued = redis.call('ZCARD', KEYS[1])
local others, dead = 0, {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if string.sub(name, 1, #ARGV[1]) == ARGV[1] and name ~= ARGV[2] then
    if redis.call('EXISTS', ARGV[3] .. string.sub(name, #ARGV[1] + 1)) == 0 then
      table.insert(dead, name)
    elseif redis.call('HLEN', name) > 0 then
      others = others + 1
    end
  end
end
return {queued, others, dead}
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


class Carried:
    """A popped request's lease while what the request gave is on its way: the callback's (or errback's)
    output being handled, and the items of that output not yet on the stream. Released when the last of
    them is done (from the reactor or the store stage's writer thread)."""

    def __init__(self, server: redis.Redis, lease: tuple[str, str]):
        self.server, self.lease = server, lease
        self.holds, self.started, self.released = 0, False, False
        self._lock = threading.Lock()

    def hold(self) -> None:
        with self._lock:
            self.holds += 1
            self.started = True

    def done(self) -> None:
        with self._lock:
            if self.holds <= 0:  # a done without its hold: a bug, but never a second release
                logger.warning("lease %s: done() without a hold", self.lease)
                return
            self.holds -= 1
            last = self.holds == 0 and not self.released
            self.released = self.released or last
        if last:
            release(self.server, [self.lease])

    def carry(self, item) -> None:
        """``item`` came of the request: the lease waits for it (``item_done``)."""
        if getattr(item, LEASE, None) is not self:
            self.hold()
            setattr(item, LEASE, self)

    def take(self, output) -> None:
        """One thing the request's callback or errback gave: an item waits for its lease; a new request
        (its meta perhaps copied from the response) is not a retry of this one, so it carries none."""
        if isinstance(output, Request):
            output.meta.pop(LEASE, None)
        else:
            self.carry(output)

    def unused(self) -> None:
        """Nothing of the request's was ever handled (a failure without an errback): release it now."""
        with self._lock:
            first = not self.started and not self.released
            self.released = self.released or first
        if first:
            release(self.server, [self.lease])


def item_done(item) -> None:
    """The item is on the stream, or dropped: its request's lease no longer waits for it."""
    carried = getattr(item, LEASE, None)
    if isinstance(carried, Carried):
        setattr(item, LEASE, None)
        carried.done()


class CarryingErrback:
    """A leased request's errback: the output it gives carries the lease as a callback's does. Every leased
    request gets one: with no errback of the spider's (``errback`` None) it releases the lease and gives the
    failure back, which Scrapy then handles as a failure without an errback (a download error, or an
    ``IgnoreRequest`` a downloader middleware raised on the response, such as a 304)."""

    def __init__(self, errback, carried: Carried):
        self.errback, self.carried = errback, carried

    def __call__(self, failure):
        if self.errback is None:
            self.carried.unused()
            return failure
        self.carried.hold()
        try:
            output = self.errback(failure)
        except BaseException:
            self.carried.done()
            raise
        if output is None or isinstance(output, Failure):
            self.carried.done()
            return output
        if hasattr(output, "__aiter__"):
            return _carrying_async(output, self.carried)
        return _carrying(arg_to_iter(output), self.carried)


def _carrying(output, carried: Carried):
    try:
        for result in output:
            carried.take(result)
            yield result
    finally:
        carried.done()


async def _carrying_async(output, carried: Carried):
    try:
        async for result in output:
            carried.take(result)
            yield result
    finally:
        carried.done()


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue; ``pop`` files the request under the worker's in-flight hash."""

    def lease_to(self, keys: Keys, spider: str) -> None:
        self.inflight = keys.inflight(spider, WORKER_ID)
        self.index = keys.inflight_index
        self.sequence = keys.key("lease-seq")
        self._pop = self.server.register_script(_POP)
        self._popped = lambda call: keys.popped(spider, WORKER_ID, call)
        self._pops = itertools.count()

    def pop(self, timeout=0):
        popped = self._pop(keys=[self.key, self.inflight, self.sequence, self.index,
                                   self._popped(next(self._pops))])
        if not popped:
            return None
        token, data = popped
        request = self._decode_request(data)
        lease = (self.inflight, token.decode() if isinstance(token, bytes) else str(token))
        carried = request.meta[LEASE] = Carried(self.server, lease)
        request.errback = CarryingErrback(request.errback, carried)
        _HELD.add(lease)
        return request


# KEYS[1] the fingerprint set, KEYS[2] names this call: a SADD sent again after a Redis restart (the first ran,
# its reply lost) would find its own fingerprint and drop the request as seen
_SEEN = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('SET', KEYS[2], 1, 'EX', 600)
  return 0
end
return redis.call('EXISTS', KEYS[2]) == 1 and 0 or 1
"""


class DupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprint set; kept when a spider closes (rounds clear it, see the module)."""

    def __init__(self, server, key, keys: Keys, spider: str):
        super().__init__(server, key)
        self._seen = server.register_script(_SEEN)
        self._call = lambda call: keys.seen_call(spider, WORKER_ID, call)
        self._calls = itertools.count()

    def request_seen(self, request) -> bool:
        return bool(self._seen(keys=[self.key, self._call(next(self._calls))], args=[self.request_fingerprint(request)]))

    def close(self, reason=""):
        pass


def release(server: redis.Redis, leases) -> None:
    """Release the leases ``(in-flight hash, token)`` given (those already released are ignored); each
    token is one pop's, so a late release never touches another pop's lease."""
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
        scheduler._was_pending = False
        scheduler._poll = task.LoopingCall(scheduler._wake)
        return scheduler

    def open(self, spider):
        round_key, mine = self.keys.round(spider.name), f"{WORKER_ID} {next(_OPENS)}"
        # the GET: a SET sent again after a Redis restart (the first ran, its reply lost) finds its own value
        started = self.server.set(round_key, mine, nx=True, px=int(self.timeout * 1000))
        if started or self.server.get(round_key) == mine.encode():
            self.server.delete(self.keys.dupefilter(spider.name))  # a new round: read the feeds again
        self.spider = spider
        self.df = DupeFilter(self.server, self.keys.dupefilter(spider.name), self.keys, spider.name)
        self.queue = LeasedQueue(server=self.server, spider=spider, key=self.keys.requests(spider.name),
                                 serializer=self.serializer)
        self.queue.lease_to(self.keys, spider.name)
        self._requeue = self.server.register_script(_REQUEUE)
        self._pending = self.server.register_script(_PENDING)
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
        carried = request.meta.pop(LEASE, None)  # a retry or redirect of a leased request replaces it
        if isinstance(request.errback, CarryingErrback):
            request.errback = request.errback.errback  # the spider's own method, which the queue can name
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            queued = False
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
            self.queue.push(request)
            queued = True
        if carried is not None:
            release(self.server, [carried.lease])
        return queued

    def next_request(self):
        if len(_HELD) >= self.prefetch:
            return None
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """True while the source's queue has requests or another live worker has some in flight, read in
        one atomic step: read apart, a request could move from the queue to a lease between the reads and
        be seen in neither. A dead worker's requests are queued again."""
        prefix = self.keys.inflight(self.spider.name, "")
        queued, others, dead = self._pending(keys=[self.queue.key, self.keys.inflight_index],
                                             args=[prefix, self.queue.inflight, self.keys.heartbeat("")])
        for name in dead:
            moved = self._requeue(keys=[name, self.queue.key, self.keys.inflight_index])
            if moved:
                owner = name.decode()[len(prefix):]
                logger.warning("worker %s stopped beating: its %d requests in flight are queued again", owner, moved)
                self.stats.inc_value("frontier/requeued", moved)
                queued += moved
        return queued > 0 or others > 0


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
        carried = response.request.meta.get(LEASE)
        if carried is None:
            yield from result
            return
        carried.hold()
        try:
            for output in result:
                carried.take(output)
                yield output
        finally:  # also when the callback raised
            carried.done()

    async def process_spider_output_async(self, response, result):
        carried = response.request.meta.get(LEASE)
        if carried is None:
            async for output in result:
                yield output
            return
        carried.hold()
        try:
            async for output in result:
                carried.take(output)
                yield output
        finally:
            carried.done()

    def item_done(self, item, **kwargs) -> None:
        item_done(item)

