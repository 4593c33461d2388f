"""Serve a DevSite over HTTP on 127.0.0.1 (random free port), in a background thread or in the foreground."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.devsite.site import DevSite

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    """Routes every GET to the DevSite; feeds and listings answer conditional requests with 304."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        log.debug("devsite %s", fmt % args)

    def do_GET(self) -> None:
        """Answer one request."""
        dev = self.server.dev
        parts = urlsplit(self.path)
        with dev.lock:
            dev.hits[parts.path] += 1
        if parts.path.startswith("/slow/"):
            time.sleep(dev.site.slow_seconds)
        status, headers, body = dev.site.respond(parts.path, parts.query, dev.base)
        conditional = status == 200 and (parts.path.endswith(".xml") or parts.path.startswith(("/starye/", "/s/")))
        if conditional:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            headers = {**headers, "ETag": etag, "Last-Modified": dev.site.http_date()}
            if self.headers.get("If-None-Match") == etag:
                with dev.lock:
                    dev.not_modified[parts.path] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    dev: DevServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (timeouts, size limits) are normal here: log quietly."""
        log.debug("devsite: client %s went away", client_address)


class DevServer:
    """Run a DevSite on 127.0.0.1; `with DevServer(site) as srv: srv.url`."""

    def __init__(self, site: DevSite, port: int = 0, host: str = "127.0.0.1") -> None:
        self.site = site
        self.httpd = _Server((host, port), _Handler)
        self.httpd.dev = self
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:34567."""
        return self.base

    def start(self) -> DevServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="devsite", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
