"""Crawl state on Redis: what spiders need from earlier crawls, published by the loader, read by workers.

The loader publishes, when it starts and after each commit: the known document ids (``{prefix}:known``)
and those worth fetching again (``{prefix}:retry``), each source's cursors and HTTP validators, and the
database's pseudonym key. A worker claims a page with ``SET NX`` on ``{prefix}:claim:{id}`` (its worker id,
expiring after ``REDIS_CLAIM_SECONDS``, or taken over once that worker stops beating), so a page two workers
both list is fetched once. ``add`` (dedup's) marks the document ``{prefix}:storing:{id}`` with the worker's
id; the id joins ``known`` only when its row is on the item stream (``StreamWriter.store``). A worker killed
in between has its requests crawled again by another, whose ``add`` then takes the document over: were the
id known at once, the second crawl would drop it as a duplicate of a row that never reached the stream.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Iterable

import redis

from crawler.distributed.keys import Keys
from crawler.distributed.messages import decode_rows, dumps_rows
from crawler.distributed.worker import WORKER_ID

# A mark (a claim, a document taken through dedup) holds its worker's id and the call's own token; a mark whose
# worker stopped beating (killed before the document was stored: its requests are queued again) is taken over.
# A call sent again by the client's retry after Redis restarted (the first ran, its reply was lost) finds its
# own token and gets the first answer, where a second call of the same worker (a duplicate) gets 0.
# KEYS[1] the known set, KEYS[2] the mark; ARGV: the document id, the mark's lifetime, this worker, the
# heartbeat key prefix, the call's token.
_TAKE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local mine = ARGV[3] .. ' ' .. ARGV[5]
if redis.call('SET', KEYS[2], mine, 'NX', 'EX', ARGV[2]) then return 1 end
local owner = redis.call('GET', KEYS[2])
if owner == mine then return 1 end
local worker = owner and string.match(owner, '^%S+')
if worker and worker ~= ARGV[3] and redis.call('EXISTS', ARGV[4] .. worker) == 0 then
  redis.call('SET', KEYS[2], mine, 'EX', ARGV[2])
  return 1
end
return 0
"""
# dedup's: a feed entry (ARGV[6] '0') of a document worth a second fetch of its page (KEYS[3], retry) is a duplicate
_ADD = """
if ARGV[6] == '0' and redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
""" + _TAKE


class RedisKnownDocuments:
    """``KnownDocuments`` shared by every worker of a prefix (same ``claim`` and ``add``)."""

    def __init__(self, server: redis.Redis, keys: Keys, claim_seconds: float):
        self.server, self.keys, self.claim_seconds = server, keys, int(max(1, claim_seconds))
        self._claim = server.register_script(_TAKE)
        self._add = server.register_script(_ADD)
        self._calls = itertools.count()

    def claim(self, doc_id: str, call: str | None = None) -> bool:
        """Whether this worker fetches the page (``call``: the call's token, new by default)."""
        return bool(self._claim(keys=[self.keys.known, self.keys.claim(doc_id)], args=self._args(doc_id, call)))

    def add(self, doc_id: str, page_read: bool = False, call: str | None = None) -> bool:
        """Whether the document is new: not known, and not being stored by a live worker (this one included)."""
        return bool(self._add(keys=[self.keys.known, self.keys.storing(doc_id), self.keys.retry],
                              args=[*self._args(doc_id, call), "1" if page_read else "0"]))

    def _args(self, doc_id: str, call: str | None) -> list:
        return [doc_id, self.claim_seconds, WORKER_ID, self.keys.heartbeat(""), call or str(next(self._calls))]


# -- read by workers ------------------------------------------------------------------------------

def cursors(server: redis.Redis, keys: Keys, source: str) -> dict[str, dict[str, Any]]:
    """query -> {cursor, newest_id, newest_at}, as ``storage.state.crawl_state`` gives them."""
    out = {}
    for query, value in server.hgetall(keys.cursors(source)).items():
        row = decode_rows("crawl_state", json.loads(value))[0]
        out[query.decode()] = {k: row.get(k) for k in ("cursor", "newest_id", "newest_at")}
    return out


def validators(server: redis.Redis, keys: Keys, source: str) -> dict[str, tuple[str | None, str | None]]:
    return {url.decode(): tuple(json.loads(value)) for url, value in server.hgetall(keys.validators(source)).items()}


def pseudonym_key(server: redis.Redis, keys: Keys) -> str | None:
    value = server.get(keys.pseudonym_key)
    return value.decode() if value else None


# -- written by the loader ------------------------------------------------------------------------

def publish_known(server: redis.Redis, keys: Keys, known: Iterable[str], retry: Iterable[str]) -> None:
    """Ids not to fetch again, and ids whose page is worth another fetch (read from their feed only)."""
    known, retry = list(known), list(retry)
    pipe = server.pipeline(transaction=False)
    for start in range(0, max(len(known), len(retry)), 5000):
        if part := known[start:start + 5000]:
            pipe.sadd(keys.known, *part)
            pipe.srem(keys.retry, *part)
        if part := retry[start:start + 5000]:
            pipe.sadd(keys.retry, *part)
            pipe.srem(keys.known, *part)
    pipe.execute()


def publish_state(server: redis.Redis, keys: Keys, state_rows: Iterable[dict], validator_rows: Iterable[dict],
                  key: str | None = None) -> None:
    """crawl_state rows (cursors) and http_validators rows, as the database has them."""
    pipe = server.pipeline(transaction=False)
    for row in state_rows:
        pipe.hset(keys.cursors(row["source"]), row["query"], dumps_rows([row]))
    for row in validator_rows:
        pipe.hset(keys.validators(row["source"]), row["url"], json.dumps([row.get("etag"), row.get("last_modified")]))
    if key:
        pipe.set(keys.pseudonym_key, key)
    pipe.execute()
