"""A loopback mock of the VK API (the JSON shapes of the public API docs) for the `type: vk` tests and bench.

`POST /method/<name>` with a form body (or GET with a query): `wall.get`, `wall.getComments`, `newsfeed.search`.
Answers are `{"response": {...}}` with `count`/`items` (and `profiles`/`groups` when `extended=1`,
`next_from` for the search), or `{"error": {"error_code", "error_msg", "request_params"}}`. The mock checks the
token, can refuse walls (15/18/30), answers error 6 to calls that come too fast or on demand, and records
every call (method, parameters without the token, time, where the token travelled).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ERRORS = {
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    15: "Access denied: this wall available only for community members",
    18: "User was deleted or banned",
    30: "This profile is private",
    100: "One of the parameters specified was missing or invalid: owner_id is undefined",
}


@dataclass
class Call:
    """One API call as the mock saw it."""

    method: str
    params: dict[str, str]
    at: float
    token_in_url: bool
    answer: str = "ok"  # ok, or the error code


@dataclass
class VkData:
    """Communities, persons, walls (newest first), comments and refusals served by the mock."""

    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    walls: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)  # owner id → error code of wall.get
    next_id: dict[int, int] = field(default_factory=dict)

    def community(self, gid: int, screen_name: str, name: str) -> None:
        """Add a community with an empty wall."""
        self.groups[gid] = {"id": gid, "name": name, "screen_name": screen_name, "is_closed": 0, "type": "page"}
        self.walls.setdefault(-gid, [])

    def person(self, uid: int, first: str, last: str) -> None:
        """Add a person (their posts and comments carry from_id = uid)."""
        self.profiles[uid] = {"id": uid, "first_name": first, "last_name": last, "screen_name": f"id{uid}"}
        self.walls.setdefault(uid, [])

    def post(
        self,
        owner: int,
        text: str,
        when: datetime,
        *,
        from_id: int | None = None,
        likes: int = 0,
        reposts: int = 0,
        views: int = 0,
        repost_of: dict[str, Any] | None = None,
        pinned: bool = False,
        comments: list[tuple[int, str]] | None = None,
    ) -> dict[str, Any]:
        """Publish a post on a wall (kept newest first; a pinned post stays on top); returns it."""
        pid = self.next_id.get(owner, 0) + 1
        self.next_id[owner] = pid
        post: dict[str, Any] = {
            "id": pid,
            "owner_id": owner,
            "from_id": from_id if from_id is not None else owner,
            "date": int(when.timestamp()),
            "post_type": "post",
            "text": text,
            "attachments": [],
            "likes": {"count": likes, "user_likes": 0, "can_like": 1},
            "reposts": {"count": reposts, "user_reposted": 0},
            "comments": {"count": len(comments or []), "can_post": 1},
            "views": {"count": views},
        }
        if repost_of is not None:
            post["copy_history"] = [repost_of]
        if pinned:
            post["is_pinned"] = 1
        wall = self.walls.setdefault(owner, [])
        wall.insert(1 if wall and wall[0].get("is_pinned") and not pinned else 0, post)
        for number, (author, body) in enumerate(comments or [], 1):
            self.comments.setdefault((owner, pid), []).append(
                {
                    "id": pid * 1000 + number,
                    "from_id": author,
                    "date": int((when + timedelta(minutes=number)).timestamp()),
                    "text": body,
                    "likes": {"count": number, "user_likes": 0},
                }
            )
        return post


class VkMock:
    """The mock server on a free loopback port; `with VkMock(data, token) as vk:` … `vk.url`."""

    def __init__(self, data: VkData, token: str, min_interval: float = 0.0) -> None:
        self.data = data
        self.token = token
        self.min_interval = min_interval  # calls closer than this answer error 6 (VK's per-second limit)
        self.rate_limit_next = 0  # answer error 6 to this many next calls
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the API (`/method/...` is appended)."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> VkMock:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def methods(self) -> list[str]:
        """Methods called so far, in order."""
        return [c.method for c in self.calls]

    # ----- the API ---------------------------------------------------------------------------------
    def answer(self, method: str, params: dict[str, str], token_in_url: bool) -> dict[str, Any]:
        """The JSON answer of one call."""
        now = time.monotonic()
        with self.lock:
            previous = self.calls[-1].at if self.calls else None
            call = Call(method, {k: v for k, v in params.items() if k != "access_token"}, now, token_in_url)
            self.calls.append(call)
            if params.get("access_token") != self.token:
                return self._error(call, 5)
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return self._error(call, 6)
            if self.min_interval and previous is not None and now - previous < self.min_interval:
                return self._error(call, 6)
        handler = {
            "wall.get": self._wall_get,
            "wall.getComments": self._get_comments,
            "newsfeed.search": self._search,
        }.get(method)
        if handler is None:
            return self._error(call, 3)
        return handler(call, params)

    def _error(self, call: Call, code: int) -> dict[str, Any]:
        call.answer = str(code)
        shown = [{"key": "method", "value": call.method}, {"key": "v", "value": call.params.get("v", "")}]
        shown += [{"key": k, "value": v} for k, v in call.params.items() if k != "v"]
        return {
            "error": {
                "error_code": code,
                "error_msg": ERRORS.get(code, "Unknown method passed"),
                "request_params": shown,
            }
        }

    def _extended(self, items: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        """profiles/groups of the authors and owners of `items` when extended=1."""
        if params.get("extended") != "1":
            return {}
        ids: set[int] = set()
        for item in items:
            ids |= {int(item.get("owner_id", 0)), int(item.get("from_id", 0))}
            for repost in item.get("copy_history") or []:
                ids |= {int(repost.get("owner_id", 0)), int(repost.get("from_id", 0))}
        return {
            "profiles": [self.data.profiles[i] for i in sorted(ids) if i > 0 and i in self.data.profiles],
            "groups": [self.data.groups[-i] for i in sorted(ids) if i < 0 and -i in self.data.groups],
        }

    def _owner(self, params: dict[str, str]) -> int | None:
        if "owner_id" in params:
            return int(params["owner_id"])
        name = params.get("domain", "")
        for gid, group in self.data.groups.items():
            if group["screen_name"] == name:
                return -gid
        return None

    def _wall_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        owner = self._owner(params)
        if owner is None or owner not in self.data.walls:
            return self._error(call, 100)
        if owner in self.data.refused:
            return self._error(call, self.data.refused[owner])
        offset, count = int(params.get("offset", 0)), min(100, int(params.get("count", 20)))
        wall = self.data.walls[owner]
        items = wall[offset : offset + count]
        return {"response": {"count": len(wall), "items": items, **self._extended(items, params)}}

    def _get_comments(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        key = (int(params["owner_id"]), int(params["post_id"]))
        offset, count = int(params.get("offset", 0)), min(100, int(params.get("count", 10)))
        comments = self.data.comments.get(key, [])
        items = comments[offset : offset + count]
        return {
            "response": {
                "count": len(comments),
                "current_level_count": len(comments),
                "can_post": True,
                "items": items,
                **self._extended(items, params),
            }
        }

    def _search(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        query = params.get("q", "").lower()
        since = int(params.get("start_time", 0))
        found = sorted(
            (
                p
                for wall in self.data.walls.values()
                for p in wall
                if query
                and query in p["text"].lower()
                and p["date"] >= since
                and p["owner_id"] not in self.data.refused
            ),
            key=lambda p: (p["date"], p["owner_id"], p["id"]),
            reverse=True,
        )
        offset = int(params.get("start_from", "0").split("/", 1)[0] or 0)
        count = min(200, int(params.get("count", 30)))
        items = found[offset : offset + count]
        answer: dict[str, Any] = {"items": items, "count": len(found), "total_count": len(found)}
        if offset + count < len(found):
            answer["next_from"] = f"{offset + count}/{items[-1]['owner_id']}_{items[-1]['id']}"
        return {"response": {**answer, **self._extended(items, params)}}


def _handler(mock: VkMock) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one mock."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: object) -> None:
            pass

        def _serve(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            params = {**query, **dict(parse_qsl(body.decode("utf-8")))}
            method = parts.path.rsplit("/method/", 1)[-1] if "/method/" in parts.path else ""
            data = json.dumps(mock.answer(method, params, "access_token" in query), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def do_GET(self) -> None:
            self._serve(b"")

    return Handler
