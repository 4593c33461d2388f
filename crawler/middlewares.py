"""Downloader middlewares: address policy, robots.txt Crawl-delay, conditional feed requests, safe redirects,
fail-fast for dead hosts."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, ConnectionLost, DNSLookupError
from twisted.web._newclient import ResponseNeverReceived

from crawler.resolver import GuardedResolver
from crawler.safety import (
    HostDown,
    RedirectLoop,
    Refused,
    RefusedAddress,
    RefusedScheme,
    _resolve,
    check_url,
    internal_address,
    is_web_url,
    netloc,
)
from rezonans.model import canonicalize_url

log = logging.getLogger(__name__)


ROBOTS_TRIES = 3  # reads of an unreachable robots.txt per domain and run, before the domain waits for the next run
ROBOTS_RETRY_AFTER = 30.0  # seconds between those reads


class RobotsUnreachable(IgnoreRequest):
    """robots.txt could not be read (network error, timeout, 5xx): the site is treated as disallowed for now."""


class CrawlDelayRobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware plus Crawl-delay applied to the domain's download slot (Scrapy ignores it).

    Unlike Scrapy, a robots.txt that cannot be read (network error, timeout, 5xx or 429) means "disallow all" for
    now, as RFC 9309 (2.3.1.4) asks, rather than "allow all": the domain's requests fail with RobotsUnreachable
    and are tried again later; robots.txt is read again (ROBOTS_RETRY_AFTER s apart) up to ROBOTS_TRIES times a run.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.max_crawl_delay = crawler.settings.getfloat("REZONANS_MAX_CRAWL_DELAY", 30.0)
        self.delays: dict[str, float] = {}
        self.unreachable: dict[str, Exception] = {}  # netloc → why its robots.txt could not be read
        self.robots_failures: dict[str, int] = {}
        self.robots_failed_at: dict[str, float] = {}
        crawler.signals.connect(self._reapply, signal=signals.response_downloaded)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        """A 5xx or 429 answer is no robots.txt: treat it as unreachable."""
        if response.status >= 500 or response.status == 429:
            self._robots_error(RuntimeError(f"HTTP {response.status}"), netloc)
            return
        self.unreachable.pop(netloc, None)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        """Remember why robots.txt failed (also a dead host or a refusal), and let a later request read it again."""
        super()._robots_error(exc, netloc)
        self.unreachable[netloc] = exc
        self.robots_failures[netloc] = self.robots_failures.get(netloc, 0) + 1
        self.robots_failed_at[netloc] = time.monotonic()

    async def process_request(self, request: Request) -> None:  # type: ignore[override]  # Scrapy ≥ 2.16 form
        """Refuse what robots.txt forbids (all of it when unreadable); raise the slot delay to its Crawl-delay."""
        netloc = urlparse_cached(request).netloc
        if (
            netloc in self.unreachable
            and netloc in self._parsers
            and self._parsers[netloc] is None
            and self.robots_failures[netloc] < ROBOTS_TRIES
            and time.monotonic() - self.robots_failed_at[netloc] >= ROBOTS_RETRY_AFTER
        ):
            del self._parsers[netloc]  # read robots.txt again
        await super().process_request(request)
        if request.meta.get("dont_obey_robotstxt"):
            return
        parser = self._parsers.get(netloc)
        if parser is not None and not isinstance(parser, Deferred):
            # Scrapy awaits one shared Deferred per domain with maybe_deferred_to_future, whose callback returns
            # None: every request that waited for robots.txt besides the first gets None and is let through. Check
            # those again against the parser that was read.
            self.process_request_2(parser, request)
        if netloc in self.unreachable:
            why = self.unreachable[netloc]
            if isinstance(why, Refused):  # a dead host or a refused address: counted as what it is
                raise type(why)(str(why))
            if isinstance(why, CONNECTION_FAILURES):
                raise HostDown(f"{netloc} did not answer for its robots.txt ({type(why).__name__})")
            raise RobotsUnreachable(f"robots.txt of {netloc} unreachable ({str(why) or type(why).__name__})")
        if netloc not in self.delays:
            parser = self._parsers.get(netloc)
            delay = None
            if parser is not None and not hasattr(parser, "addCallback"):
                try:
                    delay = parser.crawl_delay(self._robotstxt_useragent or self._default_useragent)
                except Exception:
                    delay = None
            self.delays[netloc] = min(float(delay), self.max_crawl_delay) if delay else 0.0
            if delay:
                log.info("robots.txt of %s asks for Crawl-delay %.2fs", netloc, self.delays[netloc])
        self._apply(request)

    def _apply(self, request: Request) -> None:
        """Make the slot delay at least the Crawl-delay of the request's domain."""
        delay = self.delays.get(urlparse_cached(request).netloc, 0.0)
        if not delay or self.crawler.engine is None:
            return
        downloader = self.crawler.engine.downloader
        _, slot = downloader._get_slot(request)
        if slot.delay < delay:
            slot.delay = delay

    def _reapply(self, response: Response, request: Request, spider: Spider) -> None:
        """AutoThrottle may lower a slot delay after a response; put the Crawl-delay back."""
        self._apply(request)


class ConditionalFetchMiddleware:
    """Feeds and listings: send If-None-Match / If-Modified-Since, with an unconditional fetch now and then."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.full_every = timedelta(hours=crawler.settings.getfloat("REZONANS_FULL_FETCH_HOURS", 24.0))
        self.full_every_n = crawler.settings.getint("REZONANS_FULL_FETCH_EVERY", 10)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalFetchMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Add validators saved by earlier runs unless an unconditional fetch is due."""
        if not request.meta.get("conditional") or request.meta.get("validators_checked"):
            return None
        request.meta["validators_checked"] = True
        state = getattr(self.crawler.spider, "state", None)
        if state is None:
            return None
        etag, modified, last_full, fetches = state.validators(request.url)
        due = last_full is None or datetime.now(UTC) - last_full > self.full_every
        due = due or (self.full_every_n > 0 and fetches % self.full_every_n == self.full_every_n - 1)
        request.meta["unconditional"] = due or not (etag or modified)
        if not request.meta["unconditional"]:
            if etag:
                request.headers[b"If-None-Match"] = etag
            if modified:
                request.headers[b"If-Modified-Since"] = modified
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """Remember the validators of a 200 answer (saved only when the run finishes)."""
        if request.meta.get("conditional") and response.status == 200:
            spider_obj = self.crawler.spider
            if spider_obj is not None and hasattr(spider_obj, "validators"):
                etag = response.headers.get(b"ETag")
                modified = response.headers.get(b"Last-Modified")
                spider_obj.validators[request.url] = (
                    etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None,
                    bool(request.meta.get("unconditional", True)),
                )
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries with exponential back-off: the n-th retry of a request waits backoff * 2**(n-1) seconds."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("REZONANS_RETRY_BACKOFF", 1.0)

    async def _wait(self, result: Any) -> Any:
        """Sleep before handing back a retry request."""
        if isinstance(result, Request) and self.backoff > 0:
            tries = result.meta.get("retry_times", 1)
            await asyncio.sleep(min(self.backoff * 2 ** (tries - 1), 60.0))
        return result

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        """Retry 5xx/429 answers after a back-off."""
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        """Retry network failures after a back-off."""
        return await self._wait(super().process_exception(request, exception))


def _own_hosts(crawler: Any, request: Request) -> frozenset[str]:
    """host[:port] of the request's source start URLs (every source's for robots.txt and other source-less requests)."""
    spider = crawler.spider
    own: dict[str, frozenset[str]] = getattr(spider, "own_hosts", {}) or {}
    source = request.meta.get("source")
    if source in own:
        return own[source]
    return frozenset().union(*own.values()) if own else frozenset()


class AddressPolicyMiddleware:
    """Refuse non-http(s) URLs and internal addresses (loopback, private, link-local, metadata) unless the source's
    own host is one; host names are resolved (in a thread, cached) and refused when any address is internal."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.resolved: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressPolicyMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Raise RefusedScheme / RefusedAddress for a request the policy does not allow."""
        own = _own_hosts(self.crawler, request)
        check_url(request.url, own, resolve=False)
        if netloc(request.url) in own:
            return
        host = urlparse_cached(request).hostname or ""
        addresses = self.resolved.get(host)
        if addresses is None:
            addresses = self.resolved[host] = await asyncio.to_thread(_resolve, host)
        if any(internal_address(a) for a in addresses):
            raise RefusedAddress(f"internal address refused: {host} resolves to {', '.join(addresses)}")


class RefusedLookupMiddleware:
    """A lookup that the crawl's resolver refused (`crawler.resolver`: an internal answer at connection time) is a
    "refused address" of its source, not a network failure: no retry, and the host is not counted as down."""

    def process_exception(self, request: Request, exception: BaseException) -> None:
        """Raise RefusedAddress in place of the lookup error Twisted reports for a refused host name."""
        host = (urlparse_cached(request).hostname or "").lower()
        if isinstance(exception, CannotResolveHostError | DNSLookupError) and host in GuardedResolver.refused:
            raise RefusedAddress(
                f"internal address refused when connecting: {host} resolves to {GuardedResolver.refused[host]}"
            )


class SharedPolitenessMiddleware:
    """With several crawler processes (crawler.shared): one request clock per domain in Redis, so the per-domain
    delay (DOWNLOAD_DELAY, raised by a robots.txt Crawl-delay) holds across processes, not just within each."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedPolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Wait for this domain's next shared slot."""
        shared = getattr(self.crawler.spider, "shared", None)
        if shared is None:
            return
        domain = urlparse_cached(request).netloc
        delay = self.delay
        slots = getattr(getattr(self.crawler.engine, "downloader", None), "slots", {})
        slot = slots.get(domain)
        if slot is not None:
            delay = max(delay, float(getattr(slot, "delay", 0.0)))
        wait = await asyncio.to_thread(shared.wait_for_slot, domain, delay)
        if wait > 0:
            await asyncio.sleep(wait)


class _SafeRedirectMixin:
    """Redirects: a loop back to a URL of the same chain, a non-http(s) target or an internal address is refused."""

    crawler: Any

    def _build_redirect_request(self, source_request: Request, response: Response, *, url: str, **kwargs: Any) -> Any:
        """A redirect to file:, ftp:, javascript: … is refused (Scrapy would hand the 3xx to the spider)."""
        if not is_web_url(url):
            raise RefusedScheme(f"redirect to a non-http(s) URL refused: {url[:200]}")
        return super()._build_redirect_request(source_request, response, url=url, **kwargs)  # type: ignore[misc]

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if canonicalize_url(redirected.url) in {canonicalize_url(u) for u in chain}:
            raise RedirectLoop(f"redirect loop: {' → '.join([*chain, redirected.url])[:500]}")
        check_url(redirected.url, _own_hosts(self.crawler, request), resolve=False)
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class SafeRedirectMiddleware(_SafeRedirectMixin, RedirectMiddleware):
    """Scrapy's 3xx redirects under the crawl's address policy, loops counted as errors."""


class SafeMetaRefreshMiddleware(_SafeRedirectMixin, MetaRefreshMiddleware):
    """Scrapy's <meta http-equiv=refresh> redirects under the same rules."""


CONNECTION_FAILURES = (
    ConnectError,
    DNSLookupError,
    ConnectionLost,
    ResponseNeverReceived,
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
)


class HostHealthMiddleware:
    """Fail a dead host fast: after N connection failures in a row (5 N for a host that answered earlier in the
    run, so that a few slow pages do not stop a live site), no retries and no more requests to it this run."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.limit = crawler.settings.getint("REZONANS_HOST_FAILURES", 2)
        self.failures: dict[str, int] = {}
        self.answered: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostHealthMiddleware:
        return cls(crawler)

    def _threshold(self, location: str) -> int:
        return self.limit * (5 if location in self.answered else 1)

    def _down(self, location: str) -> bool:
        return self.limit > 0 and self.failures.get(location, 0) >= self._threshold(location)

    def process_request(self, request: Request) -> None:
        """Refuse requests to a host that is down."""
        location = netloc(request.url)
        if self._down(location):
            raise HostDown(f"{location} failed to connect {self.failures[location]} times in a row")

    def process_response(self, request: Request, response: Response) -> Response:
        """Any answer means the host is up."""
        location = netloc(request.url)
        self.failures.pop(location, None)
        self.answered.add(location)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Count a connection failure; once the host is down, stop retrying this request."""
        if not isinstance(exception, CONNECTION_FAILURES):
            return None
        location = netloc(request.url)
        self.failures[location] = self.failures.get(location, 0) + 1
        if self._down(location):
            request.meta["dont_retry"] = True
            if self.failures[location] == self._threshold(location):
                log.warning(
                    "%s is down (%d connection failures in a row: %s); its other requests are skipped this run",
                    location,
                    self.failures[location],
                    type(exception).__name__,
                )
        return None
