"""The crawl process: `python -m crawler.child CONFIG.json FD` runs Scrapy once and streams articles to FD as JSONL.

Scrapy's Twisted reactor starts only once per process, so every crawl runs here, in a fresh process started by
`crawler.run.crawl`, which calls the caller's sink and records emitted URLs in the state store.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import resource
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import IO, Any

from crawler.options import CrawlOptions, scrapy_settings

log = logging.getLogger(__name__)


def die_with_parent() -> None:
    """Linux: get SIGKILL when the parent process dies (so `kill -9` of the caller stops the crawl too)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def peak_rss_kib() -> int:
    """This process's own peak RSS (VmHWM; unlike ru_maxrss it does not carry the parent's peak across exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _warm(_: int) -> int:
    """Import the extractor in a pool worker before the reactor starts."""
    import crawler.extract  # noqa: F401

    return os.getpid()


class Emitter:
    """Writes protocol messages (one JSON object a line) to the parent's pipe."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        """Write one message; the line is flushed at once."""
        line = json.dumps(message, ensure_ascii=False, default=str)
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def engagement(self, record: dict[str, Any]) -> None:
        """Sink for fresh counters of a stored post (`SourceSpider.refresh_engagement`)."""
        self.send({"t": "engagement", "e": record})

    def article(self, article: Any) -> None:
        """Sink used inside the crawl process: forward the article to the parent."""
        self.stream.write('{"t":"article","a":' + article.to_json() + "}\n")
        self.stream.flush()


def run(config: dict[str, Any], emitter: Emitter) -> int:
    """Run one crawl with the given config; returns an exit code."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.reactor import install_reactor

    from crawler.spider import SourceSpider

    options = CrawlOptions.model_validate(config.get("options", {}))
    workers = options.extract_workers or (os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) if workers > 0 else None
    if pool is not None:
        list(pool.map(_warm, range(workers * 2)))  # fork the workers now, before any thread or reactor exists
    settings = scrapy_settings(options)
    install_reactor(settings.setdefault("TWISTED_REACTOR", "twisted.internet.asyncioreactor.AsyncioSelectorReactor"))
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SourceSpider)
    from twisted.internet import task  # only after Scrapy installed its (asyncio) reactor

    def report() -> None:
        if isinstance(crawler.spider, SourceSpider):
            emitter.send({"t": "stats", "sources": crawler.spider.summary()})

    loop = task.LoopingCall(report)
    crawler.signals.connect(lambda spider: loop.start(options.stats_interval, now=False), signal="spider_opened")

    def renew_leases() -> None:
        if isinstance(crawler.spider, SourceSpider) and crawler.spider.shared is not None:
            crawler.spider.shared.renew()

    leases = task.LoopingCall(renew_leases)  # a live crawler keeps its sources; a killed one's leases expire
    if options.redis_url:
        crawler.signals.connect(lambda spider: leases.start(options.lease_ttl / 4, now=False), signal="spider_opened")

    def take_queued() -> None:
        if isinstance(crawler.spider, SourceSpider):
            crawler.spider.take_shared(options.concurrency)

    pump = task.LoopingCall(take_queued)  # keep this process busy with articles any crawler found
    if options.redis_url:
        crawler.signals.connect(lambda spider: pump.start(0.25, now=False), signal="spider_opened")

    def stop_reports(spider: Any, reason: str) -> None:
        if loop.running:
            loop.stop()
        if leases.running:
            leases.stop()
        if pump.running:
            pump.stop()
        if isinstance(spider, SourceSpider) and spider.shared is not None:
            spider.shared.release_all()

    crawler.signals.connect(stop_reports, signal="spider_closed")
    process.crawl(
        crawler,
        sources=config["sources"],
        state_path=config["state_path"],
        since=config.get("since"),
        max_pages=options.max_pages,
        source_budget=options.source_budget,
        max_links=options.max_links,
        max_size=options.max_size,
        extract_pool=pool,
        sink=emitter.article,
        engagement_sink=emitter.engagement if config.get("engagement") else None,
        redis_url=options.redis_url,
        lease_ttl=options.lease_ttl,
        claim_ttl=options.claim_ttl,
    )
    process.start()
    spider = crawler.spider if isinstance(crawler.spider, SourceSpider) else None
    if spider is None:
        log.error("the crawl did not start (see the errors above)")
        return 2
    scrapy_stats = crawler.stats.get_stats() if crawler.stats else {}
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    emitter.send(
        {
            "t": "done",
            "sources": spider.summary() if spider else {},
            "validators": [
                [url, *values]
                for url, values in (spider.validators.items() if spider else [])
                if url not in spider.tainted
            ],
            "walks": {
                ch: newest for ch, newest in (spider.walks.items() if spider else []) if ch not in spider.broken_walks
            },
            "bookmarks": {
                walk: mark
                for walk, mark in (spider.bookmarks.items() if spider else [])
                if walk not in spider.broken_walks
            },
            "fatal": spider.fatal if spider else [],
            "requests": scrapy_stats.get("downloader/request_count", 0),
            "responses": scrapy_stats.get("downloader/response_count", 0),
            "bytes": scrapy_stats.get("downloader/response_bytes", 0),
            "finish_reason": scrapy_stats.get("finish_reason"),
            "maxrss_kib": peak_rss_kib() or usage_self.ru_maxrss,
            "children_maxrss_kib": usage_children.ru_maxrss,
            "cpu_seconds": usage_self.ru_utime
            + usage_self.ru_stime
            + usage_children.ru_utime
            + usage_children.ru_stime,
        }
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the crawl process."""
    argv = sys.argv[1:] if argv is None else argv
    die_with_parent()
    with open(argv[0], encoding="utf-8") as fh:
        config = json.load(fh)
    stream = os.fdopen(int(argv[1]), "w", encoding="utf-8", buffering=1 << 16)
    try:
        return run(config, Emitter(stream))
    except BrokenPipeError:
        return 1
    finally:
        try:
            stream.close()
        except OSError:
            pass


if __name__ == "__main__":
    raise SystemExit(main())
