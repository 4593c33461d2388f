"""One spider for all source kinds: feeds, sitemaps, site sections and Telegram previews."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import scrapy
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.extract import MIN_SITE_TEXT, html_to_text
from crawler.middlewares import RobotsUnreachable
from crawler.parsers import MAX_ENTRIES, FeedError, parse_feed, parse_sitemap, parse_telegram, scan_links
from crawler.safety import HostDown, Refused, is_web_url, netloc
from crawler.shared import SharedFrontier, owner_id
from crawler.sources import Source
from crawler.state import CrawlState
from rezonans.model import canonicalize_url

log = logging.getLogger(__name__)

_ASSET = re.compile(r"\.(css|js|jpe?g|png|gif|svg|webp|ico|pdf|zip|rar|mp[34]|avi|docx?|xlsx?|woff2?)$", re.IGNORECASE)
_ARTICLE_PATH = re.compile(r"(\.s?html?$)|(\d{3,})")
STAT_KEYS = (
    "listings",
    "pages",
    "articles",
    "errors",
    "not_modified",
    "skipped_seen",
    "skipped_old",
    "robots",
    "not_article",
    "listing_pages",
    "duplicates",
    "claimed_elsewhere",
    "queued",
    "from_queue",
    "leased_elsewhere",
    "over_budget",
    "links_capped",
    "foreign_canonical",
)


class SourceSpider(scrapy.Spider):
    """Crawl every given source; articles leave as items, failures are counted per source."""

    name = "rezonans"

    def __init__(
        self,
        sources: list[dict[str, Any]],
        state_path: str,
        since: str | None = None,
        max_pages: int = 50,
        source_budget: int = 2000,
        max_links: int = 2000,
        max_size: int = 8 * 1024 * 1024,
        redis_url: str | None = None,
        owner: str | None = None,
        lease_ttl: float = 120.0,
        claim_ttl: float = 600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # several crawler processes on one Redis: source leases, article claims, the shared emitted set
        self.shared = (
            SharedFrontier(
                redis_url, owner or owner_id(state_path), lease_ttl=float(lease_ttl), claim_ttl=float(claim_ttl)
            )
            if redis_url
            else None
        )
        self.sources = {s.name: s for s in (Source.model_validate(d) for d in sources)}
        self.since = datetime.fromisoformat(since) if since else None
        if self.since and self.since.tzinfo is None:
            self.since = self.since.replace(tzinfo=UTC)
        self.max_pages = max_pages
        self.source_budget = source_budget
        self.max_links = max_links
        self.max_size = max_size
        # host[:port] of each source's start URLs: the only internal addresses that source may reach.
        self.own_hosts = {name: frozenset(netloc(u) for u in s.start_urls) for name, s in self.sources.items()}
        self.budget_used: Counter[str] = Counter()
        self.state = CrawlState(state_path)
        self.stats_by_source: dict[str, Counter[str]] = {name: Counter() for name in self.sources}
        self.error_kinds: dict[str, Counter[str]] = defaultdict(Counter)
        self.validators: dict[str, tuple[str | None, str | None, bool]] = {}
        self.tainted: set[str] = set()  # listings whose article fetches failed: keep them unconditional next time
        self.listing_pages: Counter[str] = Counter()
        self.requested: set[str] = set()
        # Telegram: newest post id seen per channel this run; channels whose walk broke off are not recorded.
        self.walks: dict[str, int] = {}
        self.broken_walks: set[str] = set()
        self.shared_inflight = 0  # requests taken from the shared queue and not answered yet
        if self.shared is not None:
            put_back = self.shared.recover()
            if put_back:
                log.info(
                    "put %d article requests of an earlier, killed run of this crawler back in the queue", put_back
                )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        """With a shared frontier: take queued requests whenever the crawl would otherwise go idle."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.shared is not None:
            crawler.signals.connect(spider.on_idle, signal=scrapy.signals.spider_idle)
            crawler.signals.connect(spider.on_dropped, signal=scrapy.signals.item_dropped)
        return spider

    # ----- helpers ---------------------------------------------------------------------------
    def count(self, source: str, key: str, n: int = 1) -> None:
        """Add to a per-source counter."""
        self.stats_by_source.setdefault(source, Counter())[key] += n

    def too_old(self, when: datetime | None) -> bool:
        """True when a date is older than --since."""
        return bool(self.since and when and when < self.since)

    def _listing(self, url: str, source: Source, kind: str, callback: Any, **meta: Any) -> scrapy.Request:
        """A feed / sitemap / listing request: always fetched (conditionally), never filtered as duplicate."""
        self.listing_pages[source.name] += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            meta={"source": source.name, "kind": kind, "conditional": True, "handle_httpstatus_list": [304], **meta},
        )

    def _web(self, url: str, source: Source) -> bool:
        """True for an http(s) URL; anything else (javascript:, data:, mailto:…) is counted as refused."""
        if is_web_url(url):
            return True
        self._error(source.name, "refused scheme", url[:200])
        return False

    def _take(self, source: Source) -> bool:
        """Spend one unit of the source's page budget; False (counted, reported once) when it is used up."""
        if self.budget_used[source.name] >= (source.budget or self.source_budget):
            if not self.stats_by_source[source.name]["over_budget"]:
                log.warning(
                    "%s: page budget of %d reached; the rest waits for the next run",
                    source.name,
                    source.budget or self.source_budget,
                )
            self.count(source.name, "over_budget")
            return False
        self.budget_used[source.name] += 1
        return True

    def _claim(self, source: Source, url: str) -> bool:
        """With a shared frontier: True when this process may fetch or emit `url` (counted otherwise)."""
        if self.shared is None:
            return True
        verdict = self.shared.claim(url)
        if verdict == "ours":
            return True
        self.count(source.name, "skipped_seen" if verdict == "emitted" else "claimed_elsewhere")
        return False

    def _take_and_claim(self, source: Source, url: str) -> bool:
        """Spend a unit of the source's budget and claim the URL; a refused claim gives the unit back."""
        if not self._take(source):
            return False
        if self._claim(source, url):
            return True
        self.budget_used[source.name] -= 1
        return False

    def _article(self, url: str, source: Source, listing: str, **hints: Any) -> scrapy.Request | None:
        """An article page request, unless its URL was already emitted (this run or an earlier one) or over budget.

        Priority falls with each request of the same source, so the scheduler serves sources in turn."""
        if not self._web(url, source):
            return None
        key = canonicalize_url(url)
        if key in self.requested:
            return None
        if self.state.seen(url):
            self.count(source.name, "skipped_seen")
            return None
        meta = {"source": source.name, "kind": "article", "listing": listing, **hints}
        if self.shared is not None:  # into the shared queue: whichever crawler process is free fetches it
            if not self._take(source):
                return None
            verdict = self.shared.enqueue(url, {"url": url, "meta": meta})
            if verdict != "queued":
                self.budget_used[source.name] -= 1
                self.count(source.name, "skipped_seen" if verdict == "emitted" else "claimed_elsewhere")
                return None
            self.requested.add(key)
            self.count(source.name, "queued")
            return None
        if not self._take(source):
            return None
        self.requested.add(key)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            priority=-(self.budget_used[source.name] // 4),
            meta=meta,
        )

    # ----- the shared request queue ----------------------------------------------------------
    def take_shared(self, room: int = 16) -> int:
        """Take queued article requests (found by any crawler process) until `room` are in flight here."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if self.shared is None or engine is None or engine.spider is None or slot is None or slot.closing:
            return 0
        taken = self.shared.take(room - self.shared_inflight)
        for entry in taken:
            meta = dict(entry["meta"])
            url = entry["url"]
            if meta.get("source") not in self.sources:  # a source this process was not given: back for another
                self.shared.retry(url, delay=self.shared.lease_ttl, attempts=1_000_000)
                continue
            if self.state.seen(url):  # this process emitted it in a run killed before Redis heard of it
                self.shared.mark_emitted([url])
                continue
            self.count(meta["source"], "from_queue")
            self.requested.add(canonicalize_url(url))
            self.shared_inflight += 1
            meta["queued_url"] = url
            request = scrapy.Request(
                url, callback=self.parse_article, errback=self.on_error, dont_filter=True, meta=meta
            )
            self.crawler.engine.crawl(request)
        return len(taken)

    def on_idle(self) -> None:
        """Nothing left here: take from the shared queue, and stay open while it has visible requests."""
        if self.take_shared() or (self.shared is not None and self.shared.queued()):
            raise DontCloseSpider

    def on_dropped(self, item: Any, response: Any = None, exception: Any = None, **_: Any) -> None:
        """A taken page that was not an article (or a duplicate): it leaves the shared queue."""
        if self.shared is not None and isinstance(item, dict) and item.get("queued_url"):
            self.shared.done(item["queued_url"])

    def _answered(self, request: scrapy.Request | None) -> None:
        """One request taken from the shared queue was answered."""
        if request is not None and "queued_url" in request.meta:
            self.shared_inflight = max(0, self.shared_inflight - 1)

    def _not_modified(self, response: Response) -> bool:
        """Count a 304 answer."""
        if response.status == 304:
            self.count(response.meta["source"], "not_modified")
            return True
        self.count(response.meta["source"], "listings")
        return False

    # ----- start -----------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per start URL of every source (start_requests() is ignored by Scrapy ≥ 2.16)."""
        callbacks = {
            "rss": self.parse_feed,
            "sitemap": self.parse_sitemap,
            "site": self.parse_section,
            "telegram": self.parse_telegram,
        }
        for source in self.sources.values():
            if self.shared is not None and not self.shared.lease(f"{source.type}:{source.name}"):
                # another live crawler has this source; if it dies, its lease expires and the next run takes it
                self.count(source.name, "leased_elsewhere")
                continue
            for url in source.start_urls:
                yield self._listing(url, source, source.type, callbacks[source.type], start=url, hops=0)

    # ----- callbacks -------------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Any]:
        """RSS/Atom: Yandex full-text entries become articles at once, other entries are fetched."""
        if self._not_modified(response):
            return
        source = self.sources[response.meta["source"]]
        try:
            entries = parse_feed(response.body, response.url, max_size=self.max_size, limit=MAX_ENTRIES)
        except FeedError as exc:
            self.tainted.add(response.url)
            self._error(source.name, "malformed feed", f"{response.url}: {exc}")
            return
        for entry in entries:
            if self.too_old(entry.published):
                self.count(source.name, "skipped_old")
                continue
            if entry.full_text:
                if not self._web(entry.url, source):
                    continue
                key = canonicalize_url(entry.url)
                if key in self.requested:
                    continue
                if self.state.seen(entry.url):
                    self.count(source.name, "skipped_seen")
                    continue
                if not self._take_and_claim(source, entry.url):
                    continue
                self.requested.add(key)
                text = html_to_text(entry.full_text)
                if text:
                    yield {
                        "kind": "article",
                        "source": source.name,
                        "article": {
                            "url": entry.url,
                            "title": entry.title,
                            "text": text,
                            "lead": html_to_text(entry.summary) or text.split("\n", 1)[0],
                            "published_at": entry.published.isoformat() if entry.published else None,
                            "author": entry.author,
                            "language": None,
                        },
                    }
                    continue
            request = self._article(
                entry.url,
                source,
                response.url,
                feed_title=entry.title,
                feed_date=entry.published.isoformat() if entry.published else None,
                feed_summary=entry.summary,
            )
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sitemap index → child sitemaps; urlset (incl. Google News) → article requests with dates and titles."""
        if self._not_modified(response):
            return
        source = self.sources[response.meta["source"]]
        try:
            children, entries = parse_sitemap(response.body, response.url, max_size=self.max_size, limit=MAX_ENTRIES)
        except FeedError as exc:
            self.tainted.add(response.url)
            self._error(source.name, "malformed sitemap", f"{response.url}: {exc}")
            return
        chain = {*response.meta.get("sitemaps", ()), canonicalize_url(response.url)}
        for child in children:
            if not self._web(child, source):
                continue
            key = canonicalize_url(child)
            if key in chain:  # an index listing itself (or an ancestor): a loop, counted once per occurrence
                self._error(source.name, "sitemap loop", f"{response.url} lists {child}")
                continue
            if key in self.requested:
                continue
            if self.listing_pages[source.name] < self.max_pages * 4:
                self.requested.add(key)
                yield self._listing(
                    child, source, "sitemap", self.parse_sitemap, start=response.meta.get("start"), sitemaps=chain
                )
        # Newest first, so that a page limit keeps the freshest news.
        entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
        for entry in entries:
            if self.too_old(entry.published):
                self.count(source.name, "skipped_old")
                continue
            request = self._article(
                entry.url,
                source,
                response.url,
                feed_title=entry.title,
                feed_date=entry.published.isoformat() if entry.published else None,
            )
            if request is not None:
                yield request

    def parse_section(self, response: Response) -> Iterator[Any]:
        """Section page: follow article links inside the domain and the section's own paging, within limits."""
        if self._not_modified(response):
            return
        source = self.sources[response.meta["source"]]
        yield from self._follow_links(response, source, response.meta.get("hops", 0))

    def _follow_links(self, response: Response, source: Source, depth: int) -> Iterator[scrapy.Request]:
        """Links from a listing or an article page: paging of the start page, then article candidates."""
        start = response.meta.get("start") or response.url
        start_parts = urlsplit(start)
        limit = source.max_pages or self.max_pages
        hrefs = scan_links(response.body, self.max_links)
        if len(hrefs) >= self.max_links:
            self.count(source.name, "links_capped")
        for href in hrefs:
            url = urljoin(response.url, href.strip()).split("#", 1)[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != start_parts.netloc or _ASSET.search(parts.path):
                continue
            if parts.path == start_parts.path:
                if (
                    parts.query
                    and canonicalize_url(url) not in self.requested
                    and self.listing_pages[source.name] < limit
                ):
                    self.requested.add(canonicalize_url(url))
                    yield self._listing(url, source, "site", self.parse_section, start=start, hops=depth)
                continue
            if depth >= source.depth or not _ARTICLE_PATH.search(parts.path):
                continue
            request = self._article(url, source, start, hops=depth + 1, min_text=MIN_SITE_TEXT, start=start)
            if request is not None:
                yield request

    def parse_article(self, response: Response) -> Iterator[Any]:
        """Hand the raw bytes to the extraction pipeline (decoding happens there); follow links if depth allows."""
        source = self.sources[response.meta["source"]]
        self.count(source.name, "pages")
        queued_url = response.meta.get("queued_url")
        if queued_url and self.shared is not None:
            self._answered(response.request)
            if canonicalize_url(response.url) != canonicalize_url(queued_url):
                self.shared.moved(queued_url, response.url)  # redirected: the entry follows the page
                queued_url = response.url
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        yield {
            "kind": "page",
            "source": source.name,
            "url": response.url,
            "body": response.body,
            "content_type": content_type,
            "feed_title": response.meta.get("feed_title", ""),
            "feed_date": response.meta.get("feed_date"),
            "feed_summary": response.meta.get("feed_summary", ""),
            "min_text": response.meta.get("min_text", 0),
            # pages found by following links or listed in a sitemap may be sections, tag or author pages
            "listing_check": source.type in ("site", "sitemap"),
            "queued_url": queued_url,
        }
        depth = response.meta.get("hops")  # our link hops; Scrapy's own meta["depth"] counts every request
        if source.type == "site" and depth is not None and depth < source.depth:
            yield from self._follow_links(response, source, depth)

    def parse_telegram(self, response: Response) -> Iterator[Any]:
        """Telegram web preview: every post is an article; page back with ?before=ID until known or old posts."""
        if self._not_modified(response):
            return
        source = self.sources[response.meta["source"]]
        try:
            problems: list[tuple[str, str]] = []
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            posts, before = parse_telegram(response.body, response.url, content_type=content_type, problems=problems)
        except (ValueError, lxml.etree.ParserError) as exc:
            self._error(source.name, "malformed telegram page", f"{response.url}: {exc}")
            return
        for kind, detail in problems:
            self._error(source.name, kind, f"{response.url}: {detail}")
        fresh = 0
        for post in posts:
            if self.too_old(post.published):
                self.count(source.name, "skipped_old")
                continue
            if not self._web(post.url, source):
                continue
            key = canonicalize_url(post.url)
            if key in self.requested:
                continue
            if self.state.seen(post.url):
                self.count(source.name, "skipped_seen")
                continue
            if not self._claim(source, post.url):
                continue
            self.requested.add(key)
            fresh += 1
            if not post.text:
                continue
            yield {
                "kind": "article",
                "source": source.name,
                "article": {
                    "url": post.url,
                    "title": post.text.split("\n", 1)[0][:140],
                    "text": post.text,
                    "lead": post.text.split("\n", 1)[0],
                    "published_at": post.published.isoformat() if post.published else None,
                    "views": post.views,
                    "forwards": post.forwards,
                    "links": post.links,
                    "language": None,
                },
            }
        oldest = min((p.published for p in posts if p.published), default=None)
        limit = source.max_pages or self.max_pages
        base = response.meta.get("start") or response.url.split("?", 1)[0]
        newest = max((p.id for p in posts), default=0)
        self.walks[base] = max(self.walks.get(base, 0), newest)
        # A page of known posts ends the walk only if a finished run walked below them: a killed run may have
        # emitted the newest page and never reached the older ones.
        done = self.state.walk_done(base)
        unfinished = done is None or newest > done
        if before and (fresh or unfinished) and not self.too_old(oldest) and self.listing_pages[source.name] < limit:
            request = self._listing(f"{base}?before={before}", source, "telegram", self.parse_telegram, start=base)
            request.meta["conditional"] = False
            yield request

    # ----- failures --------------------------------------------------------------------------
    def _error(self, source: str, kind: str, detail: str, quiet: bool = False) -> None:
        """Count a failure for a source and log it (once per kind and source when quiet); the crawl goes on."""
        self.count(source, "errors")
        self.error_kinds[source][kind] += 1
        if not quiet or self.error_kinds[source][kind] == 1:
            log.warning("%s: %s: %s", source, kind, detail)

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: classify and count (robots.txt refusals are counted apart)."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
        source = request.meta.get("source", "?")
        exc = failure.value
        if self.shared is not None and request.meta.get("kind") == "article":
            self._answered(request)
            self.shared.give_back(request.url)
            queued_url = request.meta.get("queued_url", request.url)
            if isinstance(exc, RobotsUnreachable | HostDown):  # the site, not the page: later, without limit
                self.shared.retry(queued_url, delay=60.0, attempts=1_000_000)
            elif isinstance(exc, IgnoreRequest | Refused) or (isinstance(exc, HttpError) and exc.response.status < 500):
                self.shared.done(queued_url)  # refused, or 4xx: trying again would not help
            elif not self.shared.retry(queued_url, delay=60.0):  # a server or network failure: later, a few times
                log.warning("%s: gave up on %s after repeated failures", source, request.url)
        if isinstance(exc, RobotsUnreachable):  # tried again later (next run, or from the shared queue)
            if request.meta.get("listing"):
                self.tainted.add(request.meta["listing"])
            if request.meta.get("kind") != "article":
                self.tainted.add(request.url)
            if request.meta.get("kind") == "telegram":
                self.broken_walks.add(request.meta.get("start") or request.url.split("?", 1)[0])
            self._error(source, "robots.txt unreachable", str(exc), quiet=True)
            return
        if isinstance(exc, IgnoreRequest) and "forbidden by robots.txt" in str(exc).lower():
            self.count(source, "robots")
            return
        quiet = False
        if isinstance(exc, HttpError):
            kind = f"http {exc.response.status}"
        elif isinstance(exc, IgnoreRequest) and "redirections" in str(exc):
            kind = "too many redirects"
        elif isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(exc):  # a Content-Encoding bomb
            kind = "too large"
        elif isinstance(exc, Refused):
            kind, quiet = exc.kind, True
            if request.meta.get("listing"):
                self.tainted.add(request.meta["listing"])
        else:
            kind = type(exc).__name__
            if request.meta.get("listing"):
                self.tainted.add(request.meta["listing"])
        if request.meta.get("kind") != "article":
            self.tainted.add(request.url)
        if request.meta.get("kind") == "telegram":
            self.broken_walks.add(request.meta.get("start") or request.url.split("?", 1)[0])
        self._error(source, kind, f"{request.url} ({exc})" if quiet else request.url, quiet=quiet)

    def summary(self) -> dict[str, Any]:
        """Per-source counters and error kinds."""
        return {
            name: {**{k: counts.get(k, 0) for k in STAT_KEYS}, "error_kinds": dict(self.error_kinds.get(name, {}))}
            for name, counts in self.stats_by_source.items()
        }
