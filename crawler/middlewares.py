"""Downloader middlewares: robots.txt Crawl-delay as a per-domain delay, and conditional feed requests."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

log = logging.getLogger(__name__)


class CrawlDelayRobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware plus Crawl-delay applied to the domain's download slot (Scrapy ignores it)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.max_crawl_delay = crawler.settings.getfloat("REZONANS_MAX_CRAWL_DELAY", 30.0)
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self._reapply, signal=signals.response_downloaded)

    async def process_request(self, request: Request) -> None:
        """Refuse what robots.txt forbids; raise the domain's slot delay to its Crawl-delay."""
        await super().process_request(request)
        if request.meta.get("dont_obey_robotstxt"):
            return
        netloc = urlparse_cached(request).netloc
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
