"""Publisher URLs behind Google News and Bing News links (pure functions, no I/O).

Old Google News article ids ("CBMi...") are URL-safe base64 of a small
protobuf holding the publisher URL and are decoded offline. Newer ids wrap an
opaque token ("AU_yqL...") that only Google can resolve: the spider fetches
the article page for a signature and timestamp, then POSTs them to
batchexecute. The helpers for that protocol follow the googlenewsdecoder
package (github.com/SSujitX/google-news-url-decoder, files
googlenewsdecoder/new_decoderv1.py and googlenewsdecoder/_parse.py).
"""

import base64
import binascii
import json
from urllib.parse import SplitResult, parse_qs, quote, urlencode, urlsplit

from parsel import Selector

GOOGLE_NEWS_HOST = "news.google.com"
GOOGLE_BATCHEXECUTE_URL = "https://news.google.com/_/DotsSplashUi/data/batchexecute"
GOOGLE_BATCHEXECUTE_HEADERS = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
# Protobuf framing Google used for old ids: field 1 = 19, field 4 = URL, field 26 = "".
_GN_PREFIX = b"\x08\x13\x22"
_GN_SUFFIX = b"\xd2\x01\x00"
# Fixed client context of the "garturlreq" call, as sent by googlenewsdecoder.
_GARTURLREQ_CONTEXT = [
    ["X", "X", ["X", "X"], None, None, 1, 1, "US:en", None, 1, None, None, None, None, None, 0, 1],
    "X", "X", 1, [1, 1, 1], 1, 1, None, 0, 0, None, 0,
]


def _split(url: str) -> tuple[str, SplitResult]:
    """(host without trailing dot, split URL); malformed URLs give an empty host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. a broken IPv6 literal
        return "", urlsplit("")
    return (parts.hostname or "").rstrip("."), parts


def google_news_article_id(url: str) -> str | None:
    """The <ID> of a news.google.com `/articles/<ID>`, `/rss/articles/<ID>` or `/read/<ID>` link."""
    host, parts = _split(url)
    segments = parts.path.split("/")
    if host != GOOGLE_NEWS_HOST or len(segments) < 3:
        return None
    return (segments[-1] or None) if segments[-2] in ("articles", "read") else None


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf varint at `pos`; returns (value, next position)."""
    value = shift = 0
    while True:
        byte = data[pos]  # IndexError on truncated data
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_google_news_url(url: str) -> str | None:
    """Publisher URL inside an old-format Google News link, else None (new ids too)."""
    article_id = google_news_article_id(url)
    if article_id is None:
        return None
    try:
        data = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
        if data[0] != 0x08:
            return None
        _, pos = _read_varint(data, 1)  # field 1 (kind), value unused
        if data[pos] != 0x22:
            return None
        length, pos = _read_varint(data, pos + 1)
        if pos + length > len(data):
            return None
        target = data[pos:pos + length].decode("utf-8")
    except (binascii.Error, ValueError, IndexError):
        return None
    # New opaque ids carry "AU_yqL..." here instead of a URL.
    return target if target.startswith(("http://", "https://")) else None


def encode_google_news_url(article_url: str) -> str:
    """Old-format Google News RSS link for `article_url` (inverse of decode_google_news_url)."""
    raw = article_url.encode("utf-8")
    payload = _GN_PREFIX + _encode_varint(len(raw)) + raw + _GN_SUFFIX
    article_id = base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")
    return f"https://{GOOGLE_NEWS_HOST}/rss/articles/{article_id}?oc=5"


def google_news_page_url(article_id: str) -> str:
    """Page carrying the decoding attributes: per googlenewsdecoder's _parse.py,
    /articles/<ID> and /read/<ID> send non-browser clients to google.com/sorry."""
    return f"https://{GOOGLE_NEWS_HOST}/rss/articles/{quote(article_id)}?hl=en-US&gl=US&ceid=US:en"


def parse_google_news_page(html: str | bytes) -> tuple[str, str] | None:
    """(signature, timestamp) from `data-n-a-sg`/`data-n-a-ts` of `c-wiz > div[jscontroller]`."""
    selector = Selector(body=html) if isinstance(html, bytes) else Selector(text=html)
    for node in selector.css("c-wiz > div[jscontroller]"):
        signature, timestamp = node.attrib.get("data-n-a-sg"), node.attrib.get("data-n-a-ts")
        if signature and timestamp:
            return signature, timestamp
    return None


def google_batchexecute_body(article_id: str, timestamp: str | int, signature: str) -> str:
    """Form-encoded body (`f.req=...`) of the batchexecute POST resolving `article_id`."""
    ts = int(timestamp) if str(timestamp).isdigit() else timestamp  # a JSON number when numeric
    request = ["garturlreq", _GARTURLREQ_CONTEXT, article_id, ts, signature]
    envelope = ["Fbv4je", json.dumps(request, separators=(",", ":")), None, "generic"]
    return urlencode({"f.req": json.dumps([[envelope]], separators=(",", ":"))})


def _json_values(text: str):
    """Every top-level JSON array in `text`, skipping `)]}'` and chunk-length lines."""
    decoder, pos = json.JSONDecoder(), text.find("[")
    while pos != -1:
        try:
            value, pos = decoder.raw_decode(text, pos)
            yield value
        except ValueError:
            pos += 1
        pos = text.find("[", pos)


def _rpc_payloads(value):
    """String payloads of the `["wrb.fr", rpc_id, payload, ...]` rows nested in `value`."""
    if not isinstance(value, list):
        return
    if len(value) > 2 and value[0] == "wrb.fr" and isinstance(value[2], str):
        yield value[2]
        return
    for item in value:
        yield from _rpc_payloads(item)


def parse_google_batchexecute_response(text: str) -> str | None:
    """Publisher URL from a batchexecute response (`)]}'` + JSON rows, chunked or not)."""
    for value in _json_values(text):
        for payload in _rpc_payloads(value):
            try:
                result = json.loads(payload)
            except ValueError:
                continue
            if isinstance(result, list) and len(result) > 1 and result[0] == "garturlres":
                return result[1] if isinstance(result[1], str) else None
    return None


def decode_bing_news_url(url: str) -> str | None:
    """Publisher URL in the `url=` parameter of a bing.com/news/apiclick.aspx link."""
    host, parts = _split(url)
    if host != "bing.com" and not host.endswith(".bing.com"):
        return None
    if parts.path.lower() != "/news/apiclick.aspx":
        return None
    target = parse_qs(parts.query).get("url", [""])[0].strip()
    return target if urlsplit(target).scheme.lower() in ("http", "https") else None


def publisher_url(url: str) -> str:
    """The publisher URL behind `url` when it can be decoded offline, else `url`."""
    return decode_bing_news_url(url) or decode_google_news_url(url) or url
