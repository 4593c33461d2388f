"""Run by test_hostile's DNS-rebinding test in its own process (Scrapy's reactor starts once per process).

Usage: python rebinding_probe.py OWN_HOSTS_JSON URL... — fetches each URL with the crawl's Scrapy settings but
without the address middleware's check before the request, as if a first DNS answer had fooled it, and prints
one JSON line per URL: {"url", "status"} or {"url", "error", "message"}.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.reactor import install_reactor

from crawler.options import CrawlOptions, scrapy_settings


class Probe(scrapy.Spider):
    """Fetch the given URLs; the given own hosts stand for the sources' start URLs."""

    name = "rebinding-probe"

    def __init__(self, own: list[str], urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.own_hosts = {"source": frozenset(own)}
        self.urls = urls

    async def start(self):  # type: ignore[override]
        for url in self.urls:
            yield scrapy.Request(url, callback=self.ok, errback=self.failed, dont_filter=True)

    def ok(self, response: Any) -> None:
        print(json.dumps({"url": response.url, "status": response.status}), flush=True)

    def failed(self, failure: Any) -> None:
        exc = failure.value
        kind = getattr(exc, "kind", type(exc).__name__)
        print(json.dumps({"url": failure.request.url, "error": kind, "message": str(exc)}), flush=True)


def main() -> None:
    """Crawl the URLs once and print the outcomes."""
    settings = scrapy_settings(CrawlOptions.fast(timeout=5.0, retries=1))
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    middlewares["crawler.middlewares.AddressPolicyMiddleware"] = None  # the check a rebinding DNS answer fools
    middlewares["crawler.middlewares.CrawlDelayRobotsMiddleware"] = None
    settings["LOG_LEVEL"] = "ERROR"
    install_reactor(settings.setdefault("TWISTED_REACTOR", "twisted.internet.asyncioreactor.AsyncioSelectorReactor"))
    process = CrawlerProcess(settings)
    process.crawl(Probe, own=json.loads(sys.argv[1]), urls=sys.argv[2:])
    process.start()


if __name__ == "__main__":
    main()
