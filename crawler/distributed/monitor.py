"""What ``seedtrack status --redis`` shows of a distributed crawl: workers, queue depth, documents not yet sent,
the loader's lag."""

from __future__ import annotations

import json
import time
from datetime import datetime

import redis

from crawler.distributed.keys import LOADER_GROUP, Keys


def frontier_status(server: redis.Redis, keys: Keys) -> dict:
    """Workers seen (alive or not), requests queued and in flight, documents past dedup that no worker has sent
    yet (``storing`` marks: in a store stage, or a dead worker's, to be crawled again), items waiting, oldest
    item's age."""
    workers = []
    for worker, entry in sorted(server.hgetall(keys.workers).items()):
        info = json.loads(entry)
        alive = bool(server.exists(keys.heartbeat(worker.decode())))
        state = info["state"] if alive or info["state"] == "stopped" else "gone (no heartbeat)"
        workers.append({"worker": worker.decode(), "alive": alive, "state": state,
                        "sources": info.get("sources", []), "seen_at": info.get("seen_at")})
    queued = sum(server.zcard(k) for k in server.scan_iter(match=keys.requests("*")))
    in_flight = sum(server.hlen(k) for k in server.smembers(keys.inflight_index))
    unsent = sum(1 for _ in server.scan_iter(match=keys.storing("*"), count=1000))
    items = server.xlen(keys.items) if server.exists(keys.items) else 0
    oldest = server.xrange(keys.items, count=1)
    lag = max(0.0, time.time() - int(oldest[0][0].split(b"-")[0]) / 1000) if oldest else 0.0
    return {"workers": workers, "queued": queued, "in_flight": in_flight, "unsent": unsent, "items": items, "lag_seconds": lag,
            "loader": _loader_seen(server, keys)}


def _loader_seen(server: redis.Redis, keys: Keys) -> bool:
    try:
        groups = server.xinfo_groups(keys.items)
    except redis.ResponseError:  # no stream yet
        return False
    return any(g["name"] in (LOADER_GROUP, LOADER_GROUP.encode()) for g in groups)


def format_status(status: dict, keys: Keys) -> str:
    lines = [f"redis ({keys.prefix}): {status['queued']} requests queued, {status['in_flight']} in flight, "
             f"{status['items']} items waiting for the loader (oldest {status['lag_seconds']:.1f} s), "
             f"{status['unsent']} documents past dedup not yet sent by a worker"
             + ("" if status["loader"] else "; no loader has read this stream yet: start `seedtrack load`")]
    for w in status["workers"]:
        seen = datetime.fromisoformat(w["seen_at"]).strftime("%Y-%m-%d %H:%M:%S") if w["seen_at"] else "?"
        lines.append(f"worker {w['worker']}: {w['state']}, last seen {seen} UTC"
                     + (f", crawling {', '.join(w['sources'])}" if w["alive"] and w["sources"] else ""))
    if not status["workers"]:
        lines.append("no worker seen yet: start `seedtrack crawl --redis URL` on each machine")
    return "\n".join(lines)
