"""The framework internals of crawler/compat.py, checked against the installed Scrapy, Twisted and APScheduler.

A supported version that renames or reshapes one of them fails here, before the behaviour built on it does.
"""

from __future__ import annotations

import inspect
from datetime import datetime, timezone

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from scrapy.core.downloader import Downloader, Slot
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.compat import built_component, restore_job, robots_parsers


def test_compat_robots_parsers_is_the_dict_scrapy_fills():
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    middleware = RobotsTxtMiddleware.from_crawler(crawler)
    assert robots_parsers(middleware) == {}
    assert "self._parsers" in inspect.getsource(RobotsTxtMiddleware.robot_parser)


def test_compat_downloader_slot_internals_exist():
    assert callable(Downloader._latercall)
    assert "slots" in inspect.getsource(Downloader.__init__)
    assert list(inspect.signature(Downloader._latercall).parameters)[1:] == ["slot"]
    slot = Slot(concurrency=1, delay=0, randomize_delay=False)
    assert slot.latercall is None
    assert "latercall" in inspect.getsource(Downloader._process_queue)


def test_compat_restore_job_round_trips_an_apscheduler_job():
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(print, IntervalTrigger(minutes=5, timezone=timezone.utc), id="feed",
                                next_run_time=datetime(2026, 2, 12, 9, 0, tzinfo=timezone.utc))
        restored = restore_job(Job, job.__getstate__(), scheduler, "default")
    finally:
        scheduler.shutdown(wait=False)
    assert (restored.id, str(restored.trigger), restored.next_run_time) == (job.id, str(job.trigger), job.next_run_time)
    assert restored._scheduler is scheduler and restored._jobstore_alias == "default"


def test_compat_built_component_names_the_class_scrapy_was_building():
    class Broken:
        @classmethod
        def from_crawler(cls, crawler):
            raise ValueError("bad setting")

    assert list(inspect.signature(build_from_crawler).parameters)[:2] == ["objcls", "crawler"]
    with pytest.raises(ValueError):
        try:
            build_from_crawler(Broken, get_crawler())
        except ValueError:
            failure = Failure()
            raise
    assert built_component(failure).endswith("Broken")


def test_compat_http_handler_close_internals_exist():
    """HTTPDownloadHandler.close replaces Scrapy's: Scrapy's handler keeps its connection pool in ``_pool`` and
    the timeout in ``_disconnect_timeout`` (set in __init__, which needs a running reactor: read from the source),
    and the crawl's settings use the project's handler for http and https."""
    import inspect

    from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

    from crawler import settings
    from crawler.compat import HTTPDownloadHandler

    init = inspect.getsource(HTTP11DownloadHandler.__init__)
    assert "self._pool" in init and "self._disconnect_timeout" in init
    assert "closeCachedConnections" in inspect.getsource(HTTP11DownloadHandler.close)
    assert inspect.iscoroutinefunction(HTTPDownloadHandler.close)
    assert settings.DOWNLOAD_HANDLERS == {"http": "crawler.compat.HTTPDownloadHandler",
                                          "https": "crawler.compat.HTTPDownloadHandler"}
