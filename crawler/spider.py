"""One spider for all source types: the generic machinery (budgets, claims, state, errors); each type is a plug-in.

The listing and parsing of each `type:` lives in crawler.sourcetypes; a plug-in calls back into the spider for
the shared tools: `listing()`, `page_request()`, `fresh()`, `count()`, `error()`, `too_old()`, `walks`."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import sourcetypes
from crawler.middlewares import RobotsUnreachable
from crawler.safety import HostDown, Refused, is_web_url
from crawler.shared import SharedFrontier, owner_id
from crawler.sources import Source
from crawler.sourcetypes import content_type_of
from crawler.state import CrawlState
from rezonans.model import canonicalize_url

log = logging.getLogger(__name__)


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
    "engagement_refreshed",
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
        self.types = {name: kind(self) for name, kind in sourcetypes.load().items()}
        self.own_hosts = {name: frozenset(self.types[s.type].hosts(s)) for name, s in self.sources.items()}
        self.budget_used: Counter[str] = Counter()
        self.state = CrawlState(state_path)
        self.stats_by_source: dict[str, Counter[str]] = {name: Counter() for name in self.sources}
        self.error_kinds: dict[str, Counter[str]] = defaultdict(Counter)
        self.validators: dict[str, tuple[str | None, str | None, bool]] = {}
        self.tainted: set[str] = set()  # listings whose article fetches failed: keep them unconditional next time
        self.listing_pages: Counter[str] = Counter()
        self.requested: set[str] = set()
        # History walks (Telegram channels, VK walls…): newest post id reached this run, keyed by the walk;
        # walks that broke off (meta "walk" of a failed request) are not recorded.
        self.walks: dict[str, int] = {}
        self.broken_walks: set[str] = set()
        # Where walks stopped this run, keyed by the walk: (URL, source, cut short by a limit); the next run resumes
        # there (forum threads, review listings).
        self.bookmarks: dict[str, tuple[str, str, bool]] = {}
        self.fatal: list[str] = []  # errors that must end the whole run non-zero (a refused API token)
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

    def fail(self, message: str) -> None:
        """Record an error the user must fix (the run ends with it, exit 2); the other sources go on."""
        if message not in self.fatal:
            log.error("%s", message)
            self.fatal.append(message)

    def source_of(self, response: Response) -> Source:
        """The source a response belongs to."""
        return self.sources[response.meta["source"]]

    def walk_reached(self, walk: str, newest: int) -> bool:
        """Record how far a history walk got this run; True while it is short of what a finished run reached.

        A page of known posts ends the walk only if a finished run walked below them: a killed run may have
        emitted the newest page and never reached the older ones."""
        self.walks[walk] = max(self.walks.get(walk, 0), newest)
        done = self.state.walk_done(walk)
        return done is None or newest > done

    def refresh_engagement(self, source: Source, url: str, published: datetime | None, **counters: int | None) -> bool:
        """Send fresh counters of a post stored by an earlier run (its page came up again); True when sent.

        Only when the crawl feeds an index (`engagement_sink`), the post has a date (its monthly index) and a counter."""
        sink = getattr(self, "engagement_sink", None)
        if sink is None or published is None or all(v is None for v in counters.values()):
            return False
        if not self.state.seen(url):
            return False
        sink({"url": url, "published_at": published.isoformat(), "read_at": datetime.now(UTC).isoformat(), **counters})
        self.count(source.name, "engagement_refreshed")
        return True

    def too_old(self, when: datetime | None) -> bool:
        """True when a date is older than --since."""
        return bool(self.since and when and when < self.since)

    def listing(self, url: str, source: Source, kind: str, callback: Any, **meta: Any) -> scrapy.Request:
        """A feed / sitemap / listing request: always fetched (conditionally), never filtered as duplicate."""
        self.listing_pages[source.name] += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            meta={"source": source.name, "kind": kind, "conditional": True, "handle_httpstatus_list": [304], **meta},
        )

    def web(self, url: str, source: Source) -> bool:
        """True for an http(s) URL; anything else (javascript:, data:, mailto:…) is counted as refused."""
        if is_web_url(url):
            return True
        self.error(source.name, "refused scheme", url[:200])
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

    def page_request(self, url: str, source: Source, listing: str, **hints: Any) -> scrapy.Request | None:
        """An article page request, unless its URL was already emitted (this run or an earlier one) or over budget.

        Priority falls with each request of the same source, so the scheduler serves sources in turn."""
        if not self.web(url, source):
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

    def fresh(self, source: Source, url: str, budget: bool = False) -> bool:
        """True (and the URL taken) for a new http(s) URL not seen, requested or claimed elsewhere; budgeted on demand."""
        if not self.web(url, source):
            return False
        key = canonicalize_url(url)
        if key in self.requested:
            return False
        if self.state.seen(url):
            self.count(source.name, "skipped_seen")
            return False
        if not (self._take_and_claim(source, url) if budget else self._claim(source, url)):
            return False
        self.requested.add(key)
        return True

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
                self.shared.retry(url, delay=self.shared.lease_ttl, attempts=None)
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

    def not_modified(self, response: Response) -> bool:
        """Count a 304 answer."""
        if response.status == 304:
            self.count(response.meta["source"], "not_modified")
            return True
        self.count(response.meta["source"], "listings")
        return False

    # ----- start -----------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per start URL of every source (start_requests() is ignored by Scrapy ≥ 2.16)."""
        for source in self.sources.values():
            if self.shared is not None and not self.shared.lease(f"{source.type}:{source.name}"):
                # another live crawler has this source; if it dies, its lease expires and the next run takes it
                self.count(source.name, "leased_elsewhere")
                continue
            for request in self.types[source.type].start(source):
                yield request

    # ----- pages ---------------------------------------------------------------------------
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
        content_type = content_type_of(response)
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
            "listing_check": self.types[source.type].listing_check,
            "queued_url": queued_url,
        }
        yield from self.types[source.type].after_page(response, source)

    # ----- failures --------------------------------------------------------------------------
    def error(self, source: str, kind: str, detail: str, quiet: bool = False) -> None:
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
                self.shared.retry(queued_url, delay=60.0, attempts=None)
            elif isinstance(exc, IgnoreRequest | Refused) or (isinstance(exc, HttpError) and exc.response.status < 500):
                self.shared.done(queued_url)  # refused, or 4xx: trying again would not help
            elif not self.shared.retry(queued_url, delay=60.0):  # a server or network failure: later, a few times
                log.warning("%s: gave up on %s after repeated failures", source, request.url)
        if isinstance(exc, RobotsUnreachable):  # tried again later (next run, or from the shared queue)
            if request.meta.get("listing"):
                self.tainted.add(request.meta["listing"])
            if request.meta.get("kind") != "article":
                self.tainted.add(request.url)
            if request.meta.get("walk"):
                self.broken_walks.add(request.meta["walk"])
            self.error(source, "robots.txt unreachable", str(exc), quiet=True)
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
        if request.meta.get("walk"):  # a history walk (Telegram, VK wall…) broke off: not recorded as finished
            self.broken_walks.add(request.meta["walk"])
        self.error(source, kind, f"{request.url} ({exc})" if quiet else request.url, quiet=quiet)

    def summary(self) -> dict[str, Any]:
        """Per-source counters and error kinds."""
        return {
            name: {**{k: counts.get(k, 0) for k in STAT_KEYS}, "error_kinds": dict(self.error_kinds.get(name, {}))}
            for name, counts in self.stats_by_source.items()
        }
