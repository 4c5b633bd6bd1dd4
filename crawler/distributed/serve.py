"""Scheduled runs handed to the workers: ``seedtrack schedule --redis`` publishes, ``crawl --redis --serve`` joins.

The daemon adds each run it would start to the stream ``{prefix}:runs`` (``hand_off``) instead of
starting a crawl. Every serving worker reads every run (a plain XREAD, not a consumer group) and starts
``seedtrack crawl --redis URL --source NAME`` for it in a new process (the reactor runs once per
process), so all workers crawl the source together through the shared frontier. A source this worker
is still crawling when its next run comes is not started twice (the run is coalesced, as the daemon's
``max_instances=1`` does on one machine).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from typing import Sequence

import redis

from crawler.distributed.keys import Keys, RedisUnavailable

logger = logging.getLogger(__name__)
RUNS_KEPT = 1000  # the runs stream is trimmed to about this many entries


def hand_off(server: redis.Redis, keys: Keys, source: str) -> str:
    """Publish a run of ``source`` for the serving workers; returns its stream id."""
    return server.xadd(keys.runs, {"source": source}, maxlen=RUNS_KEPT, approximate=True).decode()


def serve_runs(server: redis.Redis, keys: Keys, sources: Sequence[str], crawl_args: Sequence[str],
               out=sys.stderr) -> int:
    """Start a worker crawl for each run of one of ``sources`` published from now on, until SIGINT/SIGTERM
    (running crawls get SIGTERM: they finish their batch and stop)."""
    stopping: list[bool] = []
    previous = {sig: signal.signal(sig, lambda *_: stopping.append(True)) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: dict[str, subprocess.Popen] = {}
    position = "$"
    print(f"serving runs of {', '.join(sources)} from {keys.runs}", file=out, flush=True)
    try:
        while not stopping:
            reply = server.xread({keys.runs: position}, block=1000, count=100)
            for name, child in list(children.items()):
                if child.poll() is not None:
                    print(f"{name}: crawl finished (exit {child.returncode})", file=out, flush=True)
                    del children[name]
            for _stream, entries in reply or []:
                for stream_id, fields in entries:
                    position = stream_id
                    source = fields[b"source"].decode()
                    if source not in sources or source in children:
                        continue
                    command = [sys.executable, "-m", "crawler", "crawl", *crawl_args, "--source", source, "-q"]
                    children[source] = subprocess.Popen(command, start_new_session=True)
                    print(f"{source}: crawl started (pid {children[source].pid})", file=out, flush=True)
    except redis.RedisError as exc:
        raise RedisUnavailable(f"lost Redis while waiting for runs: {exc}") from None
    finally:
        for child in children.values():
            child.send_signal(signal.SIGTERM)
        for child in children.values():
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
