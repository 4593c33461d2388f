"""`type: sitemap` — sitemap indexes and urlsets (Google News too): article pages with dates and titles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.parsers import MAX_ENTRIES, FeedError, parse_sitemap
from crawler.sources import Source
from crawler.sourcetypes import SourceType, register
from rezonans.model import canonicalize_url


@register
class Sitemap(SourceType):
    """A sitemap (or sitemap index)."""

    name = "sitemap"
    url_hint = "give an absolute http(s) URL, e.g. `url: https://example.ru/sitemap.xml`"
    listing_check = True  # pages listed in a sitemap may be sections, tag or author pages

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """One conditional request per sitemap URL."""
        for url in source.start_urls:
            yield self.spider.listing(url, source, self.name, self.parse, start=url, hops=0)

    def parse(self, response: Response) -> Iterator[Any]:
        """Sitemap index → child sitemaps; urlset → article requests, newest first."""
        spider = self.spider
        if spider.not_modified(response):
            return
        source = spider.source_of(response)
        try:
            children, entries = parse_sitemap(response.body, response.url, max_size=spider.max_size, limit=MAX_ENTRIES)
        except FeedError as exc:
            spider.tainted.add(response.url)
            spider.error(source.name, "malformed sitemap", f"{response.url}: {exc}")
            return
        chain = {*response.meta.get("sitemaps", ()), canonicalize_url(response.url)}
        for child in children:
            if not spider.web(child, source):
                continue
            key = canonicalize_url(child)
            if key in chain:  # an index listing itself (or an ancestor): a loop, counted once per occurrence
                spider.error(source.name, "sitemap loop", f"{response.url} lists {child}")
                continue
            if key in spider.requested:
                continue
            if spider.listing_pages[source.name] < spider.max_pages * 4:
                spider.requested.add(key)
                yield spider.listing(
                    child, source, self.name, self.parse, start=response.meta.get("start"), sitemaps=chain
                )
        # Newest first, so that a page limit keeps the freshest news.
        entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
        for entry in entries:
            if spider.too_old(entry.published):
                spider.count(source.name, "skipped_old")
                continue
            request = spider.page_request(
                entry.url,
                source,
                response.url,
                feed_title=entry.title,
                feed_date=entry.published.isoformat() if entry.published else None,
            )
            if request is not None:
                yield request
