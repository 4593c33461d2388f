"""`type: vk` — VK through its official API only: a community wall (`wall.get`) or a search (`newsfeed.search`).

The access token comes from the setting REZONANS_VK_TOKEN; it travels only in the POST body of API calls (never
in a URL, so no log line, error or stats message can carry it). Calls share one download slot limited to three
requests a second (the limit of a user token); error 6 (too many requests) waits and retries, error 5 (token
refused) stops every VK source and ends the crawl with one clear line; 15/18/19/30 (access denied, deleted or
blocked, unavailable, private) and other API errors are counted per source and the run goes on.

Posts by private persons keep their text, date, engagement and permalink but no name or profile link unless
REZONANS_VK_PERSONS allows it (152-FZ: personal data kept to the minimum; see docs/sources.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from pydantic import BaseModel, ConfigDict, Field
from scrapy.http import Response

from crawler.safety import netloc
from crawler.sources import Source
from crawler.sourcetypes import SourceType, register
from rezonans.model import content_hash

log = logging.getLogger(__name__)

API_VERSION = "5.199"
RATE = 3.0  # requests a second with a user token (VK API docs, "Limits")
SLOT = "vk-api"  # the download slot all VK calls share (see crawler.options.scrapy_settings)
WALL_PAGE = 100  # wall.get: at most 100 posts a call
SEARCH_PAGE = 200  # newsfeed.search: at most 200 posts a call
COMMENTS_PAGE = 100
MAX_RETRIES = 5
REPOST_MARK = "[Репост{origin}]"
PERSON_SOURCE = "ВКонтакте — частное лицо"
# VK error codes counted per source (the crawl goes on), named as the API documentation names them
ERROR_NAMES = {
    9: "flood control",
    10: "internal server error",
    15: "access denied",
    18: "page deleted or blocked",
    19: "content unavailable",
    29: "rate limit reached",
    30: "private profile",
    100: "invalid parameter",
    113: "invalid user id",
}
_SCREEN_NAME = re.compile(r"^[A-Za-z0-9_.]{2,64}$")
_NUMERIC = re.compile(r"^(club|public|event|id)(\d+)$")


class VkOptions(BaseModel):
    """Keys of a `type: vk` entry beyond the common ones."""

    model_config = ConfigDict(extra="forbid")

    query: str | list[str] | None = Field(None, description="search query (or list); default: the brand card names")
    comments: bool = Field(False, description="also read the comments of new wall posts (wall.getComments)")

    @property
    def queries(self) -> list[str]:
        """The queries as a list (empty: the brand names are used)."""
        if self.query is None:
            return []
        values = [self.query] if isinstance(self.query, str) else self.query
        return [q.strip() for q in values if q and q.strip()]


def wall_owner(url: str) -> dict[str, str]:
    """wall.get's owner parameter from a community address: club123/public123 → owner_id=-123, a name → domain."""
    name = urlsplit(url).path.strip("/").split("/", 1)[0]
    numeric = _NUMERIC.match(name)
    if numeric:
        sign = "" if numeric.group(1) == "id" else "-"
        return {"owner_id": f"{sign}{numeric.group(2)}"}
    return {"domain": name}


def _count(block: Any) -> int | None:
    """The `count` of a likes/reposts/comments/views block (None when missing or absurd)."""
    if isinstance(block, dict) and isinstance(block.get("count"), int) and 0 <= block["count"] < 10**12:
        return int(block["count"])
    return None


def _date(value: Any) -> datetime | None:
    """A Unix time of the API as an aware datetime."""
    if isinstance(value, int) and 0 < value < 2**33:
        return datetime.fromtimestamp(value, UTC)
    return None


class Names:
    """Display names from an extended answer: communities always, persons only when the setting allows it."""

    def __init__(self, result: dict[str, Any], persons: bool) -> None:
        self.persons = persons
        self.groups = {int(g["id"]): str(g.get("name") or "") for g in result.get("groups") or [] if "id" in g}
        self.profiles = {
            int(p["id"]): " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x)
            for p in result.get("profiles") or []
            if "id" in p
        }

    def of(self, owner: int) -> str | None:
        """The name of a community (negative id) or, when allowed, a person (positive id)."""
        if owner < 0:
            return self.groups.get(-owner) or None
        return (self.profiles.get(owner) or None) if self.persons else None

    def profile_link(self, owner: int) -> str | None:
        """A person's profile link, only when the setting allows it."""
        return f"https://vk.com/id{owner}" if owner > 0 and self.persons else None


def post_fields(post: dict[str, Any], names: Names) -> dict[str, Any] | None:
    """One wall or search post as Article fields (None when it has no text at all)."""
    owner, pid = int(post["owner_id"]), int(post["id"])
    author_id = int(post.get("from_id") or owner)
    parts = [str(post.get("text") or "").strip()]
    for repost in post.get("copy_history") or []:
        origin_id = int(repost.get("owner_id") or repost.get("from_id") or 0)
        origin = names.of(origin_id)
        body = str(repost.get("text") or "").strip()
        parts.append(REPOST_MARK.format(origin=f" из «{origin}»" if origin else "") + ("\n" + body if body else ""))
    text = "\n\n".join(p for p in parts if p)
    if not text:
        return None
    links = [
        a["link"]["url"]
        for a in post.get("attachments") or []
        if isinstance(a, dict) and a.get("type") == "link" and isinstance(a.get("link"), dict) and a["link"].get("url")
    ]
    profile = names.profile_link(author_id)
    first = text.split("\n", 1)[0]
    return {
        "url": f"https://vk.com/wall{owner}_{pid}",
        "title": first[:140],
        "lead": first,
        "text": text,
        "published_at": _date(post.get("date")),
        "author": names.of(author_id),
        "likes": _count(post.get("likes")),
        "forwards": _count(post.get("reposts")),
        "comments": _count(post.get("comments")),
        "views": _count(post.get("views")),
        "links": [*links, *([profile] if profile else [])],
        # the same text in two communities is two publications; in one community, a mirror
        "content_hash": content_hash(f"{owner}\n{text}"),
        "source_name": names.of(owner) or (PERSON_SOURCE if owner > 0 else None),
    }


def comment_fields(comment: dict[str, Any], owner: int, pid: int, names: Names) -> dict[str, Any] | None:
    """One comment of a wall post as Article fields (None when it has no text)."""
    text = str(comment.get("text") or "").strip()
    if not text or "id" not in comment:
        return None
    author_id = int(comment.get("from_id") or 0)
    url = f"https://vk.com/wall{owner}_{pid}?reply={int(comment['id'])}"
    profile = names.profile_link(author_id)
    first = text.split("\n", 1)[0]
    return {
        "url": url,
        "title": first[:140],
        "lead": first,
        "text": text,
        "published_at": _date(comment.get("date")),
        "author": names.of(author_id),
        "likes": _count(comment.get("likes")),
        "links": [profile] if profile else [],
        "content_hash": content_hash(f"{url}\n{text}"),
    }


@register
class Vk(SourceType):
    """A VK community wall (`url:`) or a VK search (`query:`, default the brand card names)."""

    name = "vk"
    url_hint = "give a community address, e.g. `url: https://vk.com/club123` or `url: https://vk.com/screen_name`"
    needs_url = False  # a search source has `query:` (or the brand names) instead
    Options = VkOptions
    token: str
    api: str
    persons: bool
    stopped: bool

    @classmethod
    def check(cls, source: Source) -> Source:
        """A wall URL must be vk.com/<screen name or clubNNN>; a source is a wall or a search, not both."""
        options = cls.options(source)
        for url in source.start_urls:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            name = parts.path.strip("/")
            if not (host == "vk.com" or host.endswith(".vk.com")) or not _SCREEN_NAME.match(name):
                raise ValueError(f"url: {url!r} is not a VK community address (https://vk.com/NAME or /clubNNN)")
        if source.start_urls and options.query is not None:
            raise ValueError("query: a vk source is either a wall (`url`) or a search (`query`), not both")
        return source

    # ----- API calls -------------------------------------------------------------------------------
    def setup(self) -> bool:
        """Read the token and API base once; False (and the crawl's fatal line) when no token is set."""
        if hasattr(self, "token"):
            return bool(self.token)
        from rezonans.config import get_settings

        settings = get_settings()
        secret = settings.vk_token
        self.token = secret.get_secret_value() if secret is not None else ""
        self.api = settings.vk_api_url.rstrip("/")
        self.persons = settings.vk_persons
        self.stopped = False
        if not self.token:
            self.spider.fail("VK: no access token — fix: set REZONANS_VK_TOKEN (see docs/sources.md, «VK»)")
            self.stopped = True
        return bool(self.token)

    def hosts(self, source: Source) -> set[str]:
        """Only the API host is contacted (vk.com pages never are)."""
        from rezonans.config import get_settings

        return {netloc(get_settings().vk_api_url)}

    def call(self, source: Source, method: str, params: dict[str, Any], callback: Any, **meta: Any) -> scrapy.Request:
        """One API call: POST with the token in the body, in the shared rate-limited slot."""
        self.spider.listing_pages[source.name] += 1
        form = {k: str(v) for k, v in params.items() if v is not None}
        return scrapy.FormRequest(
            f"{self.api}/method/{method}",
            formdata={**form, "access_token": self.token, "v": API_VERSION},
            callback=callback,
            errback=self.spider.on_error,
            dont_filter=True,
            meta={
                "source": source.name,
                "kind": "vk",
                "download_slot": SLOT,
                "autothrottle_dont_adjust_delay": True,
                "dont_obey_robotstxt": True,  # an API, not pages
                "params": form,
                **meta,
            },
        )

    async def result(self, response: Response) -> tuple[dict[str, Any] | None, scrapy.Request | None]:
        """The `response` object of an answer, or a retry request (error 6), or neither (counted, or fatal)."""
        spider = self.spider
        source = spider.source_of(response)
        spider.count(source.name, "listings")
        if self.stopped:
            return None, None
        try:
            data = json.loads(response.body)
        except ValueError:
            spider.error(source.name, "malformed vk answer", response.url)
            return None, None
        if not isinstance(data, dict):
            spider.error(source.name, "malformed vk answer", response.url)
            return None, None
        error = data.get("error")
        if isinstance(error, dict):
            code = int(error.get("error_code") or 0)
            message = self._redact(str(error.get("error_msg") or ""))[:200]
            attempt = int(response.meta.get("attempt", 0))
            if code in (6, 10) and attempt < MAX_RETRIES:  # too many requests / server hiccup: wait, retry
                await asyncio.sleep(min(4.0, (1 / RATE) * 2**attempt))
                retry = response.request.replace(dont_filter=True) if response.request else None
                if retry is not None:
                    retry.meta["attempt"] = attempt + 1
                return None, retry
            if code == 5:  # token refused: no VK call can succeed; other sources go on
                self.stopped = True
                spider.fail(
                    f"VK: the access token was refused (error 5: {message}) — fix: set REZONANS_VK_TOKEN to a "
                    "valid, unexpired token"
                )
                return None, None
            if response.meta.get("walk"):
                spider.broken_walks.add(response.meta["walk"])
            kind = f"vk error {code} ({ERROR_NAMES[code]})" if code in ERROR_NAMES else f"vk error {code}"
            spider.error(source.name, kind, f"{response.url.rsplit('/', 1)[-1]}: {message}")
            return None, None
        result = data.get("response")
        if not isinstance(result, dict):
            spider.error(source.name, "malformed vk answer", response.url)
            return None, None
        return result, None

    def _redact(self, text: str) -> str:
        """Never let the token into a message, even if an answer echoes it."""
        return text.replace(self.token, "***") if self.token else text

    # ----- listing ---------------------------------------------------------------------------------
    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """A wall: its newest page; a search: the first page of each query."""
        if not self.setup() or self.stopped:
            return
        for url in source.start_urls:
            yield self._wall_page(source, url, 0)
        if source.start_urls:
            return
        queries = self.options(source).queries
        if not queries:
            self.spider.error(source.name, "vk search without query", "give `query:` or brand cards (--brands)")
        for query in queries:
            yield self._search_page(source, query, None)

    def _wall_page(self, source: Source, url: str, offset: int) -> scrapy.Request:
        """wall.get from `offset`, newest first."""
        params = {**wall_owner(url), "offset": offset, "count": WALL_PAGE, "extended": 1}
        walk = f"vk:wall:{url}"
        return self.call(source, "wall.get", params, self.parse_wall, walk=walk, start=url, offset=offset)

    def _search_page(self, source: Source, query: str, start_from: str | None) -> scrapy.Request:
        """newsfeed.search, from the cursor `start_from`."""
        since = self.spider.since
        params = {
            "q": query,
            "count": SEARCH_PAGE,
            "extended": 1,
            "start_from": start_from,
            "start_time": int(since.timestamp()) if since else None,
        }
        return self.call(source, "newsfeed.search", params, self.parse_search, walk=f"vk:search:{query}", query=query)

    def _posts(self, source: Source, items: list[Any], names: Names, search: bool) -> tuple[list[dict[str, Any]], int]:
        """Article items of the new posts among `items` and how many were new (a search names each community)."""
        spider = self.spider
        out: list[dict[str, Any]] = []
        fresh = 0
        for post in items:
            if not isinstance(post, dict) or "id" not in post or "owner_id" not in post:
                continue
            if spider.too_old(_date(post.get("date"))):
                spider.count(source.name, "skipped_old")
                continue
            fields = post_fields(post, names)
            if fields is None:  # no text at all (a photo): nothing to emit, and nothing to count as new
                continue
            if not search:  # a wall keeps the name its source was given
                fields.pop("source_name")
            item = self.emit(source, fields)
            if item is None:  # known (or taken): a post stored earlier gets its counters refreshed
                counters = {k: fields[k] for k in ("likes", "forwards", "comments", "views")}
                spider.refresh_engagement(source, fields["url"], fields["published_at"], **counters)
                continue
            fresh += 1
            out.append(item)
        return out, fresh

    async def parse_wall(self, response: Response) -> AsyncIterator[Any]:
        """A page of a wall: new posts → articles (and their comments); page on while new or unfinished."""
        result, retry = await self.result(response)
        if retry is not None:
            yield retry
        if result is None:
            return
        spider = self.spider
        source = spider.source_of(response)
        items = [p for p in result.get("items") or [] if isinstance(p, dict)]
        names = Names(result, self.persons)
        posts, fresh = self._posts(source, items, names, search=False)
        for item in posts:
            yield item
        if self.options(source).comments:
            for item in posts:
                owner, pid = _ids(item["article"]["url"])
                if item["article"].get("comments"):
                    yield self._comments_page(source, owner, pid, 0)
        # pinned posts may be old: they neither end the walk nor date it
        regular = [p for p in items if not p.get("is_pinned")]
        start = response.meta["start"]
        walk = f"vk:wall:{start}"
        newest = max((int(p["id"]) for p in regular if "id" in p), default=0)
        unfinished = spider.walk_reached(walk, newest)
        oldest = min((d for d in (_date(p.get("date")) for p in regular) if d), default=None)
        offset = int(response.meta.get("offset", 0)) + len(items)
        total = int(result.get("count") or 0)
        limit = source.max_pages or spider.max_pages
        if (
            items
            and offset < total
            and (fresh or unfinished)
            and not spider.too_old(oldest)
            and spider.listing_pages[source.name] < limit
        ):
            yield self._wall_page(source, start, offset)

    def _comments_page(self, source: Source, owner: int, pid: int, offset: int) -> scrapy.Request:
        """wall.getComments of one post from `offset`."""
        params = {
            "owner_id": owner,
            "post_id": pid,
            "offset": offset,
            "count": COMMENTS_PAGE,
            "need_likes": 1,
            "extended": 1,
            "sort": "asc",
        }
        return self.call(source, "wall.getComments", params, self.parse_comments, owner=owner, post=pid, offset=offset)

    async def parse_comments(self, response: Response) -> AsyncIterator[Any]:
        """Comments of a post: each one an article (persons without names unless allowed)."""
        result, retry = await self.result(response)
        if retry is not None:
            yield retry
        if result is None:
            return
        spider = self.spider
        source = spider.source_of(response)
        owner, pid = int(response.meta["owner"]), int(response.meta["post"])
        names = Names(result, self.persons)
        items = [c for c in result.get("items") or [] if isinstance(c, dict)]
        for comment in items:
            fields = comment_fields(comment, owner, pid, names)
            if fields is None or spider.too_old(fields["published_at"]):
                continue
            item = self.emit(source, fields)
            if item is not None:
                yield item
        offset = int(response.meta.get("offset", 0)) + len(items)
        if (
            items
            and offset < int(result.get("count") or 0)
            and spider.listing_pages[source.name] < (source.max_pages or spider.max_pages)
        ):
            yield self._comments_page(source, owner, pid, offset)

    async def parse_search(self, response: Response) -> AsyncIterator[Any]:
        """A page of search results (newest first): new posts → articles; follow `next_from` while useful."""
        result, retry = await self.result(response)
        if retry is not None:
            yield retry
        if result is None:
            return
        spider = self.spider
        source = spider.source_of(response)
        items = [p for p in result.get("items") or [] if isinstance(p, dict)]
        posts, fresh = self._posts(source, items, Names(result, self.persons), search=True)
        for item in posts:
            yield item
        query = response.meta["query"]
        walk = f"vk:search:{query}"
        dates = [int(p["date"]) for p in items if isinstance(p.get("date"), int)]
        newest = max(dates, default=0)
        unfinished = spider.walk_reached(walk, newest)
        next_from = result.get("next_from")
        oldest = _date(min(dates)) if dates else None
        limit = source.max_pages or spider.max_pages
        if (
            items
            and next_from
            and (fresh or unfinished)
            and not spider.too_old(oldest)
            and spider.listing_pages[source.name] < limit
        ):
            yield self._search_page(source, query, str(next_from))


def with_brand_queries(sources: list[Source], names: list[str]) -> list[Source]:
    """VK search sources without `query:` get the brand card names as their queries (the documented default)."""
    out = []
    for source in sources:
        if source.type == Vk.name and not source.start_urls and not Vk.options(source).queries and names:
            source = Source.model_validate({**source.model_dump(), "query": list(names)})
        out.append(source)
    return out


def _ids(url: str) -> tuple[int, int]:
    """(owner id, post id) of https://vk.com/wall<owner>_<id>."""
    owner, pid = url.rsplit("/wall", 1)[1].split("?", 1)[0].split("_", 1)
    return int(owner), int(pid)
