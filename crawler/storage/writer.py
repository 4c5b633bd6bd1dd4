"""The process's one writer thread, shared by every spider's store stage, dedup and the extensions, and the
read-write connection a busy writer keeps open between batches.

Batches land in the order they were handed over, and a wait for the file lock never stalls the reactor.

Closing a DuckDB connection checkpoints the file (rewrites its changed blocks and indexes): once per batch,
that was most of the write time at a million documents. A ``Database(keep_open=True)`` (the store stage)
keeps its connection open while batches keep coming; each committed batch is in the write-ahead log, so a
SIGKILL loses none. The connection is closed (and the file checkpointed) when no batch has come for
``IDLE_SECONDS``, when this process reads the file, and when another process waits for the file: a process
refused by the lock writes its pid to ``<file>.wait``; the holder sees it after its batch, closes, and
does not open again until the waiter is in (or ``YIELD_SECONDS`` have passed).

A kept connection checkpoints when its log reaches ``checkpoint_threshold``: a share of the file, not a fixed
size. DuckDB's checkpoint writes every ART index of a changed table whole (duckdb/duckdb#24848: its cost
follows the index, not the change; 3.7 s at 310k documents, 0.3 s at 60k, for the same 6,000 new ones), so
with a fixed threshold its cost per document grew with the file; spaced in proportion to the file it stays
flat. The floor keeps small files from checkpointing often, the cap bounds the log (its rows are held in
memory and replayed after a crash).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

IDLE_SECONDS = 0.5
YIELD_SECONDS = 2.0
WAITER_FRESH_SECONDS = 2.0
CHECKPOINT_SHARE = 0.5
CHECKPOINT_FLOOR_MB = 256
CHECKPOINT_CAP_MB = 2048

_writer: ThreadPoolExecutor | None = None


def checkpoint_threshold(path: Path) -> str:
    """The write-ahead log size at which a kept connection to ``path`` checkpoints (DuckDB's setting)."""
    try:
        size_mb = path.stat().st_size / 2**20
    except OSError:
        size_mb = 0
    return f"{round(min(max(size_mb * CHECKPOINT_SHARE, CHECKPOINT_FLOOR_MB), CHECKPOINT_CAP_MB))}MiB"


def writer_thread() -> ThreadPoolExecutor:
    global _writer
    if _writer is None:
        _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedtrack-store")
    return _writer


class HeldConnections:
    """Open read-write connections by file, each closed after ``IDLE_SECONDS`` without a write.

    Every method is called with ``lock`` held (the database module's process lock), as the timers do.
    """

    def __init__(self, lock: threading.RLock):
        self.lock = lock
        self._held: dict[str, object] = {}
        self._timers: dict[str, threading.Timer] = {}

    def take(self, path: Path):
        """The connection kept open for ``path``, or None; it is the caller's until handed back with ``keep``."""
        key = str(path)
        if (timer := self._timers.pop(key, None)) is not None:
            timer.cancel()
        return self._held.pop(key, None)

    def keep(self, path: Path, con) -> None:
        """Keep ``con`` open for the next write, unless another process is waiting for the file."""
        if waiting(path):
            con.close()
            return
        con.execute(f"SET checkpoint_threshold = '{checkpoint_threshold(path)}'")  # the file has grown
        key = str(path)
        self._held[key] = con
        timer = threading.Timer(IDLE_SECONDS, self._idle, (key, con))
        timer.daemon = True
        self._timers[key] = timer
        timer.start()

    def release(self, path: Path | None = None) -> None:
        """Close the connection kept for ``path`` (every one, when None)."""
        for key in [str(path)] if path is not None else list(self._held):
            con = self.take(Path(key))
            if con is not None:
                con.close()

    def _idle(self, key: str, con) -> None:
        with self.lock:
            if self._held.get(key) is con:
                del self._held[key]
                self._timers.pop(key, None)
                con.close()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".wait")


def announce_wait(path: Path) -> None:
    """Tell the process holding ``path`` open that this one waits for it."""
    try:
        _marker(path).write_text(str(os.getpid()), encoding="ascii")
    except OSError:  # a read-only directory: the holder lets go when idle
        pass


def done_waiting(path: Path) -> None:
    try:
        if _marker(path).read_text(encoding="ascii") == str(os.getpid()):
            _marker(path).unlink()
    except OSError:
        pass


def waiting(path: Path) -> bool:
    """Whether another process asked for ``path`` in the last ``WAITER_FRESH_SECONDS``."""
    marker = _marker(path)
    try:
        fresh = time.time() - marker.stat().st_mtime < WAITER_FRESH_SECONDS
        return fresh and marker.read_text(encoding="ascii") != str(os.getpid())
    except (OSError, ValueError):
        return False


def let_waiters_in(path: Path) -> None:
    """Before opening ``path`` again after yielding it: wait (up to ``YIELD_SECONDS``) while a waiter asks."""
    deadline = time.monotonic() + YIELD_SECONDS
    while waiting(path) and time.monotonic() < deadline:
        time.sleep(0.02)


_all: list[HeldConnections] = []


def held_connections(lock: threading.RLock) -> HeldConnections:
    held = HeldConnections(lock)
    _all.append(held)
    return held


@atexit.register
def _close_all() -> None:
    for held in _all:
        with held.lock:
            held.release()
