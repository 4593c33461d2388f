"""Local delivery targets for alert tests: an HTTP recorder (webhook + fake Telegram API) and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Recorder:
    """An HTTP server on 127.0.0.1 that records POSTs; the first `fail` requests get HTTP 500."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    event: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def http_recorder() -> Iterator[Recorder]:
    """Webhook target and fake Telegram Bot API in one."""
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if rec.fail > 0:
                rec.fail -= 1
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"try later")
                return
            rec.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            rec.event.set()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true, "result": {}}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    """Messages received by the local SMTP server."""

    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd cannot bind port 0 itself: take a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": envelope.content.decode("utf-8", "replace"),
                }
            )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()
