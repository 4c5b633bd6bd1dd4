"""The process's one writer thread, shared by every spider's store stage, dedup and the extensions.

Batches land in the order they were handed over, and a wait for the file lock never stalls the reactor.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

_writer: ThreadPoolExecutor | None = None


def writer_thread() -> ThreadPoolExecutor:
    global _writer
    if _writer is None:
        _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedtrack-store")
    return _writer
