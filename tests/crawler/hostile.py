"""Hostile web servers on 127.0.0.1 for the crawler's safety tests: fixed routes, hit counts, a black hole."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]
Route = Answer | Callable[[str], Answer]

ARTICLE_TEXT = (
    "Банк объявил о снижении ставок по вкладам для частных клиентов. Решение вступит в силу с понедельника "
    "и коснётся всех новых договоров. Аналитики считают, что другие банки последуют примеру в ближайшие недели. "
    "Представитель банка пояснил, что снижение связано с изменением ключевой ставки и ситуацией на рынке. "
    "Клиенты, открывшие вклады ранее, сохранят прежние условия до окончания срока договора."
)


def article_html(title: str, text: str = ARTICLE_TEXT, canonical: str | None = None, charset: bool = True) -> bytes:
    """A plain news article page."""
    head = '<meta charset="utf-8">' if charset else ""
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in text.split(".") if s.strip())
    return (
        f"<html><head>{head}<title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def rss(items: list[tuple[str, str]], extra: str = "") -> bytes:
    """An RSS 2.0 feed of (title, link) items."""
    body = "".join(f"<item><title>{t}</title><link>{link}</link>{extra}</item>" for t, link in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{body}</channel></rss>'.encode()


HTML = {"Content-Type": "text/html; charset=utf-8"}
_SEQUENCE = itertools.count()  # one clock for the hits of every test server, to compare their order
XML = {"Content-Type": "application/xml; charset=utf-8"}


class Site:
    """A web server on a free loopback port answering fixed routes (path with query); records every hit."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        self.order: list[tuple[int, str]] = []  # (global sequence number, path) of every hit
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                site.hits[self.path] += 1
                site.order.append((next(_SEQUENCE), self.path))
                route = site.routes.get(self.path)
                if route is None and self.path == "/robots.txt":
                    route = (404, {}, b"")
                if route is None:
                    route = (404, HTML, b"<html><body>not here</body></html>")
                status, headers, body = route(self.path) if callable(route) else route
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def article_hits(self, prefix: str = "/a/") -> int:
        """Requests for paths under a prefix."""
        return sum(n for path, n in self.hits.items() if path.startswith(prefix))


class BlackHole:
    """A host that accepts connections and never answers (a dead host behind a firewall); counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self.held.append(conn)

    def __enter__(self) -> BlackHole:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll until the predicate holds (True) or the timeout passes (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
