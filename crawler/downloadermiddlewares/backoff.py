"""Retries with exponential back-off, honouring ``Retry-After`` on HTTP 429 and 503.

Replaces Scrapy's ``RetryMiddleware`` (same ``RETRY_*`` settings, same retry requests) and adds a wait
before each retry: the server's ``Retry-After`` (seconds or an HTTP date) on a 429 or 503, otherwise
``BACKOFF_BASE_DELAY * 2 ** (attempt - 1)`` up to ``BACKOFF_MAX_DELAY``, with a little jitter. The wait
holds the whole downloader slot (the host), not only the retried request: a server that asked for a
pause gets no other request from this crawler meanwhile. A ``Retry-After`` longer than
``BACKOFF_MAX_RETRY_AFTER`` is not waited for: the request gives up with its HTTP status, which the
spider records as an error, and the rest of the run goes on.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from crawler.compat import hold_downloader_slot

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (429, 503)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def __init__(self, settings):
        super().__init__(settings)
        self.base_delay = settings.getfloat("BACKOFF_BASE_DELAY")
        self.max_delay = settings.getfloat("BACKOFF_MAX_DELAY")
        self.max_retry_after = settings.getfloat("BACKOFF_MAX_RETRY_AFTER")
        self._release_at: dict[str, float] = {}  # downloader slot key -> monotonic time its hold ends

    def response_downloaded(self, response, request, spider=None) -> None:
        """A 429/503's Retry-After holds the host the moment the downloader has the response, before its slot
        starts the next request (``process_response`` runs a few event-loop turns later)."""
        if response.status in RETRY_AFTER_STATUSES and not request.meta.get("dont_retry", False):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait and wait <= self.max_retry_after:
                self.hold(request, wait)
                request.meta["backoff_held"] = True

    def process_response(self, request, response):
        held = request.meta.pop("backoff_held", False)  # the host is held already (response_downloaded)
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = None
        if response.status in RETRY_AFTER_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.max_retry_after:
                self.crawler.stats.inc_value("backoff/retry_after_too_long")
                logger.warning("%s asks to retry in %.0fs (over BACKOFF_MAX_RETRY_AFTER=%gs): giving up on it",
                               request.url, wait, self.max_retry_after)
                return response
            if wait is not None:
                self.crawler.stats.inc_value("backoff/retry_after")
        return self._retry_later(request, response_status_message(response.status), wait, held) or response

    def process_exception(self, request, exception):
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry", False):
            return self._retry_later(request, exception, None)
        return None

    def _retry_later(self, request, reason, wait: float | None, held: bool = False):
        retry = self._retry(request, reason)
        if retry is None:
            return None
        if wait is None:
            attempt = retry.meta.get("retry_times", 1)
            wait = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(1.0, 1.2)  # noqa: S311
        if wait > 0 and not held:
            self.hold(request, wait)
        return retry

    def hold(self, request, seconds: float) -> None:
        """Let no request of ``request``'s downloader slot start for ``seconds``."""
        if hold_downloader_slot(self.crawler, request, seconds, call_later, self._release_at, time.monotonic()):
            self.crawler.stats.inc_value("backoff/waits")
            self.crawler.stats.inc_value("backoff/seconds", round(seconds, 3))
            logger.info("holding requests to %s for %.1fs before retrying %s", urlparse_cached(request).netloc,
                        seconds, request.url)
