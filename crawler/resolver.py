"""The crawl's DNS resolver: Scrapy's caching resolver that checks the address it hands to the connection.

`crawler.middlewares.AddressPolicyMiddleware` resolves a host before the request, but Scrapy resolves it again to
connect; a DNS answer that changes in between (DNS rebinding) would reach an internal address. This resolver
applies the same address rule to the answer the connection actually uses, so both checks see one answer.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.safety import internal_address


def own_names(crawler: Any) -> set[str]:
    """Host names of every source's own hosts (`own_hosts` of the running spiders), without ports."""
    spiders = [c.spider for c in getattr(crawler, "crawlers", ())] or [getattr(crawler, "spider", None)]
    names: set[str] = set()
    for spider in spiders:
        for hosts in (getattr(spider, "own_hosts", None) or {}).values():
            names.update(location.split(":", 1)[0] for location in hosts if not location.startswith("["))
    return names


def is_ip_literal(name: str) -> bool:
    """True when the name is an IPv4 or IPv6 address, not a host name."""
    try:
        ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class InternalAnswer(DNSLookupError):
    """A host name resolved to an internal address it may not reach (a lookup error, so Twisted stays quiet)."""


class GuardedResolver(CachingThreadedResolver):
    """Refuse a host name whose answer is internal at connection time, unless it is a source's own host (the
    address middleware has already applied the per-source rule; IP literals are checked there, not resolved)."""

    crawler: Any = None
    refused: dict[str, str] = {}  # host name -> the internal address it gave; read by RefusedLookupMiddleware

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.crawler = crawler  # a CrawlerProcess here: its crawlers' spiders exist by the first lookup
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        """Resolve as Scrapy does, then refuse an internal answer for a name that is not a source's own host."""
        d = super().getHostByName(name, timeout)
        d.addCallback(self.check, name)
        return d

    def check(self, address: str, name: str) -> str:
        """The address, or InternalAnswer when it is internal and the name may not reach it."""
        if internal_address(address) and not is_ip_literal(name) and name.lower() not in own_names(self.crawler):
            GuardedResolver.refused[name.lower()] = address  # Twisted reports only "no results" to the request
            raise InternalAnswer(f"{name} resolves to {address}")
        return address
