"""A threaded local HTTP server that replays a static news site for seedtrack.

``ReplayServer(root).start()`` serves the files under ``root`` on 127.0.0.1 (a
free port by default) from a daemon thread; ``url`` is its base URL and
``requests`` logs every request as ``(method, path_with_query, headers)``.

In text bodies ``__BASE_URL__`` becomes the server's URL. An optional
``root/_routes.json`` maps a path (``/p``, or ``/p?query`` matched exactly
first) to a route object with any of these keys::

    status, location     redirect (Location may hold __BASE_URL__ or be relative)
    body                 literal body (e.g. for error statuses)
    file                 serve another file under root
    headers              extra response headers
    gzip                 gzip the body when the client accepts gzip
    delay                seconds to wait before answering
    content_type, charset  override the type; the body is encoded in charset
    template_links       expand {{gnews:/p}}, {{gnewsid:/p}} and {{bing:/p}}
    truncate             send only this many bytes of the body (after the full
                         Content-Length), then close the connection
    sequence             a list of route objects: the nth request of the path
                         gets the nth (the last one repeats), over the other keys

Files whose first path segment starts with ``_`` are only reachable through a
route. With ``validators=True`` files are served with an ETag and a
Last-Modified header, and a request whose If-None-Match or If-Modified-Since
matches gets 304 Not Modified. ``request_times`` holds the monotonic time of
each logged request. ``python -m crawler.demo.replay.server ROOT [--port N]
[--build N] [--validators]`` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

TYPES = {".html": "text/html", ".htm": "text/html", ".xml": "application/xml", ".rss": "application/rss+xml",
         ".atom": "application/atom+xml", ".rdf": "application/rdf+xml", ".json": "application/json",
         ".txt": "text/plain", ".css": "text/css", ".js": "application/javascript", ".png": "image/png"}
_TEMPLATE = re.compile(r"\{\{(gnews|gnewsid|bing):([^}]+)\}\}")


def _is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or any(k in content_type for k in ("xml", "json", "javascript"))


def bing_link(article_url: str) -> str:
    """A Bing News ``apiclick.aspx`` redirect link (lower-case escapes, as Bing writes them)."""
    digest = hashlib.md5(article_url.encode()).hexdigest()
    encoded = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(article_url, safe=""))
    return (f"http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid={digest.upper()}"
            f"&url={encoded}&c={int(digest[:12], 16) % 10**19}&mkt=en-us")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server_version = "seedtrack-replay/1.0"

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_POST(self) -> None:  # API logins (OAuth tokens, sessions): the body is read, the route answers
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._respond(head=False)

    def log_message(self, format: str, *args) -> None:
        if self.server.replay.verbose:
            super().log_message(format, *args)

    def _respond(self, head: bool) -> None:
        replay: ReplayServer = self.server.replay
        replay._log(self.command, self.path, dict(self.headers.items()))
        status, headers, body = replay.resolve(self.path, self.headers.get("Accept-Encoding", ""), self.headers)
        truncate = headers.pop("X-Replay-Truncate", None)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body if truncate is None else body[: int(truncate)])
        if truncate is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when a crawler opens dozens at once (SYN retries, timeouts).
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:
        if self.replay.verbose:  # e.g. a client that hung up mid-response
            super().handle_error(request, client_address)


class ReplayServer:
    """Serve ``root`` over HTTP on ``host:port`` (0 = a free port) from a daemon thread."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, verbose: bool = False,
                 validators: bool = False):
        self.root = Path(root).resolve()
        self.host, self.port, self.verbose, self.validators = host, port, verbose, validators
        self.requests: list[tuple[str, str, dict]] = []
        self.request_times: list[float] = []
        self._served: dict[str, int] = {}  # route key -> requests answered (for "sequence" routes)
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: tuple[float, dict] = (-1.0, {})
        self._cache: dict[tuple, bytes] = {}

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("ReplayServer is not started; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ReplayServer":
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.replay = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"replay-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> "ReplayServer":
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _log(self, method: str, path: str, headers: dict) -> None:
        with self._lock:
            self.requests.append((method, path, headers))
            self.request_times.append(time.monotonic())

    def routes(self) -> dict:
        """``_routes.json``, re-read when it changes."""
        path = self.root / "_routes.json"
        mtime = path.stat().st_mtime if path.exists() else 0.0
        if mtime != self._routes[0]:
            self._routes = (mtime, json.loads(path.read_text(encoding="utf-8")) if mtime else {})
        return self._routes[1]

    def _file(self, rel: str) -> Path | None:
        target = (self.root / rel.lstrip("/")).resolve()
        if not target.is_relative_to(self.root):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _expand(self, text: str, xml: bool) -> str:
        def one(match: re.Match) -> str:
            kind, path = match.groups()
            article_url = self.url + path
            if kind == "bing":
                link = bing_link(article_url)
                return escape(link, quote=False) if xml else link
            from crawler.parsers.newslinks import encode_google_news_url
            link = encode_google_news_url(article_url)
            return link.split("/articles/", 1)[1].split("?", 1)[0] if kind == "gnewsid" else link

        return _TEMPLATE.sub(one, text)

    def _render(self, text: str, route: dict, ctype: str) -> str:
        text = text.replace("__BASE_URL__", self.url)
        if route.get("template_links"):
            text = self._expand(text, xml="xml" in ctype or "html" in ctype)
        return text

    def resolve(self, raw_path: str, accept_encoding: str = "", request_headers=None) -> tuple[int, dict, bytes]:
        """Status, headers and body for a request path (with query)."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path) or "/"
        routes = self.routes()
        key = f"{path}?{parts.query}" if parts.query and f"{path}?{parts.query}" in routes else path
        route = dict(routes.get(key) or {})
        if steps := route.pop("sequence", None):
            with self._lock:
                served = self._served[key] = self._served.get(key, -1) + 1
            route.update(steps[min(served, len(steps) - 1)])
        if route.get("delay"):
            time.sleep(float(route["delay"]))
        status = int(route.get("status", 302 if "location" in route else 200))
        headers = {k: v.replace("__BASE_URL__", self.url) for k, v in route.get("headers", {}).items()}
        if "location" in route:
            headers["Location"] = route["location"].replace("__BASE_URL__", self.url)
        ctype = route.get("content_type")
        if "body" in route:
            raw, ctype = route["body"].encode("utf-8"), ctype or "text/html"
        elif "location" in route and "file" not in route:
            raw, ctype = b"<html><body>Moved</body></html>", ctype or "text/html"
        else:
            rel = route.get("file", path)
            hidden = "file" not in route and path.lstrip("/").startswith("_")
            target = None if hidden else self._file(rel)
            if target is None:
                status = 404 if status == 200 else status
                reason = BaseHTTPRequestHandler.responses.get(status, ("Error",))[0]
                raw, ctype = f"<html><body><h1>{status} {reason}</h1></body></html>".encode(), "text/html"
            else:
                raw = target.read_bytes()
                ctype = ctype or TYPES.get(target.suffix.lower(), "application/octet-stream")
                if self.validators and status == 200:
                    if _not_modified(headers, raw, target.stat().st_mtime, request_headers or {}):
                        return 304, headers, b""
        body = raw
        if _is_text(ctype):
            declared = re.search(r"charset=([\w.:-]+)", ctype)
            charset = declared.group(1) if declared else route.get("charset", "utf-8")
            key = (path, hash(raw))
            try:
                body = self._cache.get(key) or self._render(raw.decode("utf-8"), route, ctype).encode(
                    charset, "xmlcharrefreplace")
            except UnicodeDecodeError:  # not UTF-8 on disk: serve the bytes as they are
                charset = None
            if route.get("template_links"):
                self._cache[key] = body
            if charset and not declared:
                ctype = f"{ctype}; charset={charset}"
        headers["Content-Type"] = ctype
        if "truncate" in route:
            headers["X-Replay-Truncate"] = str(int(route["truncate"]))
        if route.get("gzip"):
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in accept_encoding.lower():
                body = gzip.compress(body, mtime=0)
                headers["Content-Encoding"] = "gzip"
        return status, headers, body


def _not_modified(headers: dict, raw: bytes, mtime: float, request_headers) -> bool:
    """Add the file's ETag and Last-Modified to ``headers``; True when the request's validators match."""
    etag = '"' + hashlib.sha1(raw).hexdigest()[:16] + '"'  # noqa: S324 (an ETag, not a secret)
    last_modified = formatdate(int(mtime), usegmt=True)
    headers["ETag"], headers["Last-Modified"] = etag, last_modified
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request_headers.get("If-Modified-Since")
    try:
        return since is not None and parsedate_to_datetime(since).timestamp() >= int(mtime)
    except (TypeError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.demo.replay.server", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path, help="folder holding the site (see crawler.demo.replay.site)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--build", type=int, metavar="N", help="first build a replay site of N articles in ROOT")
    parser.add_argument("--seed", type=int, default=2026, help="seed for --build (default 2026)")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    parser.add_argument("--validators", action="store_true", help="send ETag/Last-Modified and answer 304")
    args = parser.parse_args(argv)
    if args.build:
        from .site import build_site
        build_site(args.root, articles=args.build, seed=args.seed)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a folder; build one with --build N")
    server = ReplayServer(args.root, host=args.host, port=args.port, verbose=args.verbose,
                          validators=args.validators).start()
    try:
        print(server.url, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
