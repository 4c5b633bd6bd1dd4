"""Links found in crawled content are never followed to loopback, private, link-local or other non-public
addresses, so a feed cannot steer the crawler at the machine it runs on or at its local network.

Hosts the user named are exempt: those of the topic file's source URLs (and of the URL options each kind
declares in ``crawler/spiders/kinds.py``: ``urls``, ``google_base``, ``instances``, ``oauth_url`` ...), of
``--feed``/``--page`` URLs, and the hosts listed in ``[crawl] allow_private``.
A host name is resolved (once per crawl) and blocked when any of its addresses is not public; the check
applies to every request, redirects included, before robots.txt is asked. A blocked request fails with
``PrivateAddressBlocked``, which the spider records in ``errors`` with its URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler.spiders.kinds import source_urls
from crawler.topic import load_topic


class PrivateAddressBlocked(IgnoreRequest):
    """A link led to a non-public address on a host the user did not name."""


def user_hosts(topic, source) -> set[str]:
    """Hosts of every URL the user gave: the topic's sources (with their options) and this crawl's source."""
    urls = []
    for src in (*topic.sources, source):
        if src is None:
            continue
        urls += source_urls(src.kind, src.url, src.options)
    hosts = {(urlsplit(url).hostname or "").lower() for url in urls if url}
    return (hosts | {host.lower() for host in topic.allow_private}) - {""}


def non_public(addresses: list[str]) -> str | None:
    """The first address that is not public (loopback, private, link-local, reserved ...), else None."""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global:
            return str(ip)
    return None


class PrivateAddressMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.topic = load_topic(crawler.settings.get("SEEDTRACK_TOPIC"))
        self._allowed: set[str] | None = None
        self._verdicts: dict[str, str | None] = {}  # host -> the non-public address it resolves to, or None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("PRIVATE_GUARD_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    @property
    def allowed(self) -> set[str]:
        if self._allowed is None:
            self._allowed = user_hosts(self.topic, getattr(self.crawler.spider, "source", None))
        return self._allowed

    async def process_request(self, request):
        host = (urlparse_cached(request).hostname or "").lower()
        if not host or host in self.allowed:
            return None
        if host not in self._verdicts:
            self._verdicts[host] = await self._resolve(host)
        if (address := self._verdicts[host]) is not None:
            self.crawler.stats.inc_value("private_guard/blocked")
            shown = host if host == address else f"{host} ({address})"
            raise PrivateAddressBlocked(f"not followed: {shown} is not a public address; "
                                        "add the host to [crawl] allow_private in the topic file to allow it")
        return None

    @staticmethod
    async def _resolve(host: str) -> str | None:
        try:
            return non_public([host])
        except ValueError:
            pass  # a name, not an address
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None  # unresolvable: the download fails with Scrapy's own DNS error
        return non_public([info[4][0] for info in infos])
