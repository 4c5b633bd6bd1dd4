"""Every use of a framework's internals (Scrapy, Twisted, APScheduler), in one place.

Each function names the private attribute it relies on; ``tests/test_compat.py`` checks each against the
installed versions, so an upgrade that changes one fails there first. ``pyproject.toml`` allows only the
versions those tests cover.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure


def robots_parsers(middleware) -> dict:
    """Scrapy's RobotsTxtMiddleware keeps ``_parsers``: netloc -> parser, or the Deferred of its download."""
    return middleware._parsers


def hold_downloader_slot(crawler, request, seconds: float, call_later, release_at: dict[str, float],
                         now: float) -> bool:
    """Let no request of ``request``'s downloader slot start for ``seconds``: the slot's ``latercall`` (the
    timer Scrapy's downloader sets for DOWNLOAD_DELAY) is replaced by one that fires after ``seconds`` and
    calls ``Downloader._latercall``, which processes the slot's queue again. ``release_at`` remembers the
    hold per slot key; False when the slot is unknown or already held at least as long."""
    downloader = crawler.engine.downloader
    key = request.meta.get("download_slot") or downloader.get_slot_key(request)
    slot = downloader.slots.get(key)
    if slot is None:
        return False
    until = now + seconds
    if slot.latercall is not None and release_at.get(key, 0) >= until:
        return False
    if slot.latercall is not None:
        slot.latercall.cancel()
    release_at[key] = until
    slot.latercall = call_later(seconds, downloader._latercall, slot)
    return True


def restore_job(job_class, state: dict[str, Any], scheduler, alias: str):
    """An APScheduler 3 ``Job`` rebuilt from its ``__getstate__`` (as its SQLAlchemy job store does), bound to
    ``scheduler`` through the private ``_scheduler`` and ``_jobstore_alias``."""
    job = job_class.__new__(job_class)
    job.__setstate__(state)
    job._scheduler, job._jobstore_alias = scheduler, alias
    return job


def built_component(failure: Failure) -> str | None:
    """The class Scrapy's ``build_from_crawler(objcls, crawler)`` was building when ``failure`` was raised."""
    tb = failure.getTracebackObject()
    name = None
    while tb is not None:
        objcls = tb.tb_frame.f_locals.get("objcls")
        if isinstance(objcls, type):
            name = f"{objcls.__module__}.{objcls.__qualname__}"
        tb = tb.tb_next
    return name


def wake_engine(crawler) -> None:
    """Ask Scrapy's engine to ask its scheduler for requests now, as its 5-second heartbeat does: the
    engine's ``_slot.nextcall`` (a ``CallLaterOnce``), scheduled. No-op while the engine has no slot."""
    slot = getattr(crawler.engine, "_slot", None) if crawler.engine is not None else None
    if slot is not None:
        slot.nextcall.schedule()


class HTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler with the race in its ``close`` fixed (the private ``_pool`` and
    ``_disconnect_timeout``). Scrapy fires the pool's closing Deferred itself after ``_disconnect_timeout``
    seconds, in case the pool hangs; on a busy machine that timer can run after the Deferred has fired but
    before ``close`` resumes to cancel it, and Twisted then logs an AlreadyCalledError traceback as the crawl
    ends. Here the timer fires the Deferred only if nothing has."""

    async def close(self) -> None:
        from twisted.internet import reactor

        closing = self._pool.closeCachedConnections()

        def give_up() -> None:
            if not closing.called:
                closing.callback(None)

        timer = reactor.callLater(self._disconnect_timeout, give_up)
        try:
            await maybe_deferred_to_future(closing)
        finally:
            if timer.active():
                timer.cancel()
