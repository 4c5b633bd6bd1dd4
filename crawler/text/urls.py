"""URL canonicalisation and document ids: the one place seedtrack normalises URLs.

`canonicalize_url` gives the form stored and shown for a link: the same
resource always maps to the same string, with tracking parameters removed and
the remaining query left in its original order. `document_id` hashes a
stricter form (query arguments sorted by w3lib) so ids survive reordering.

Built on w3lib.url.safe_url_string (percent-encoding, IDNA, lowercase host).
courlan.clean_url / normalize_url are deliberately not used: they sort query
parameters, delete spaces inside the URL instead of escaping them, lowercase
the userinfo and drop the trailing slash of a root path with an explicit port.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as _w3lib_canonicalize_url
from w3lib.url import safe_url_string

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "ref_src", "ref", "cmpid", "ocid", "taid", "smid", "yclid", "_ga",
    "guccounter", "guce_referrer", "guce_referrer_sig",
})
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def is_tracking_param(name: str) -> bool:
    """True for a query parameter name that only tracks the visitor (any case)."""
    name = unquote(name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def strip_tracking_params(query: str) -> str:
    """Drop tracking parameters (and empty `&&` pieces), keeping the rest in order.

    Works on the raw query so the kept pairs stay byte-identical; w3lib's
    url_query_cleaner matches names case-sensitively and cannot match `utm_*`.
    """
    pairs = [pair for pair in query.split("&") if pair]
    return "&".join(pair for pair in pairs if not is_tracking_param(pair.split("=", 1)[0]))


def normalize_netloc(scheme: str, netloc: str) -> str:
    """Lowercase the host and drop the scheme's default port; userinfo is kept."""
    userinfo, at, hostport = netloc.rpartition("@")
    hostport = hostport.lower()
    default_port = DEFAULT_PORTS.get(scheme)
    if default_port and hostport.endswith(default_port):
        hostport = hostport[: -len(default_port)]
    return f"{userinfo}{at}{hostport}"


def canonicalize_url(url: str, base: str | None = None) -> str:
    """Canonical form of `url` (resolved against `base` when given).

    Whitespace is stripped, scheme and host lowercased, default ports,
    fragment and tracking parameters dropped, percent-encoding normalised.
    Path case, trailing slash, http vs https and parameter order are kept.
    Raises ValueError for malformed URLs (broken IPv6 literal, port > 65535).
    """
    url = url.strip()
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(safe_url_string(url))
    scheme = parts.scheme.lower()
    netloc = normalize_netloc(scheme, parts.netloc)
    return urlunsplit((scheme, netloc, parts.path, strip_tracking_params(parts.query), ""))


def document_id(url: str) -> str:
    """Stable 16-hex id of the document at `url`; query order does not matter."""
    key = _w3lib_canonicalize_url(canonicalize_url(url))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def platform_document_id(platform: str, platform_id: str) -> str:
    """Stable 16-hex id of a post known by its platform's own id (social sources)."""
    return hashlib.sha256(f"{platform}:{platform_id}".encode("utf-8")).hexdigest()[:16]


def url_domain(url: str) -> str:
    """Host of `url`, lowercased, punycoded, without port and leading `www.`.

    This is the full host name (news.bbc.co.uk stays news.bbc.co.uk), not the
    registrable domain.
    """
    host = urlsplit(canonicalize_url(url)).hostname or ""
    return host.removeprefix("www.")


def is_http_url(url: str) -> bool:
    """True when `url` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
