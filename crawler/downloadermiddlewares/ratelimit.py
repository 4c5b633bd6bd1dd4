"""Rate-limit headers: when an API says its quota is spent, no request goes to that host until it resets.

Reads ``X-RateLimit-Remaining`` / ``RateLimit-Remaining`` and the matching ``Reset`` header, in the three
forms the social APIs use: seconds until the reset (Reddit), a Unix time (Bluesky) or an ISO 8601 date
(Mastodon). When at most ``RATELIMIT_MIN_REMAINING`` requests remain, the host's downloader slot is held
until the reset (at most ``BACKOFF_MAX_RETRY_AFTER`` seconds), through the back-off middleware's ``hold``:
the same pause a 429 gets, before the 429 happens.

The headers are read on Scrapy's ``response_downloaded`` signal, the moment the downloader has the
response and before its slot starts the next request; not in ``process_response``, which runs a few event
loop turns later, when requests from other callbacks may already have gone out despite the spent quota.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.downloadermiddlewares.backoff import BackoffRetryMiddleware

logger = logging.getLogger(__name__)

REMAINING = ("X-RateLimit-Remaining", "RateLimit-Remaining")
RESET = ("X-RateLimit-Reset", "RateLimit-Reset")


def reset_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds until a ``Reset`` header's moment: a delta, a Unix time or an ISO 8601 date; None if unusable."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    now = time.time() if now is None else now
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return max(0.0, moment.timestamp() - now)
    return max(0.0, number - now) if number > 1e9 else max(0.0, number)


class RateLimitMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.min_remaining = crawler.settings.getfloat("RATELIMIT_MIN_REMAINING")
        self.max_wait = crawler.settings.getfloat("BACKOFF_MAX_RETRY_AFTER")
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getfloat("RATELIMIT_MIN_REMAINING") < 0:
            raise NotConfigured("RATELIMIT_MIN_REMAINING is negative")
        return cls(crawler)

    def response_downloaded(self, response, request, spider=None) -> None:
        remaining = next((response.headers.get(name) for name in REMAINING if response.headers.get(name)), None)
        try:
            spent = remaining is not None and float(remaining) <= self.min_remaining
        except ValueError:
            spent = False
        if spent:
            reset = next((response.headers.get(name) for name in RESET if response.headers.get(name)), None)
            wait = reset_seconds(reset)
            if wait:
                wait = min(wait, self.max_wait)
                logger.info("%s: rate limit spent (%s left), holding its requests for %.1fs",
                            request.url, remaining.decode("latin-1"), wait)
                self.crawler.stats.inc_value("ratelimit/waits")
                if (backoff := self._backoff()) is not None:
                    backoff.hold(request, wait)

    def _backoff(self) -> BackoffRetryMiddleware | None:
        """The back-off middleware that holds hosts (None when it is switched off)."""
        return next((m for m in self.crawler.engine.downloader.middleware.middlewares
                     if isinstance(m, BackoffRetryMiddleware)), None)
