"""`type: site` — a site section without feed: article links inside the domain and the section's own paging."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawler.extract import MIN_SITE_TEXT
from crawler.parsers import scan_links
from crawler.sources import Source
from crawler.sourcetypes import SourceType, register
from rezonans.model import canonicalize_url

_ASSET = re.compile(r"\.(css|js|jpe?g|png|gif|svg|webp|ico|pdf|zip|rar|mp[34]|avi|docx?|xlsx?|woff2?)$", re.IGNORECASE)
_ARTICLE_PATH = re.compile(r"(\.s?html?$)|(\d{3,})")


@register
class Site(SourceType):
    """A section page of a site, followed `depth` link hops deep."""

    name = "site"
    url_hint = "give an absolute http(s) URL, e.g. `url: https://example.ru/news/`"
    listing_check = True  # pages found by following links may be sections, tag or author pages

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """One conditional request per section URL."""
        for url in source.start_urls:
            yield self.spider.listing(url, source, self.name, self.parse, start=url, hops=0)

    def parse(self, response: Response) -> Iterator[Any]:
        """Section page: follow article links and paging, within limits."""
        if self.spider.not_modified(response):
            return
        source = self.spider.source_of(response)
        yield from self.follow_links(response, source, response.meta.get("hops", 0))

    def after_page(self, response: Response, source: Source) -> Iterator[Any]:
        """Follow an article page's links while link hops remain."""
        depth = response.meta.get("hops")  # our link hops; Scrapy's own meta["depth"] counts every request
        if depth is not None and depth < source.depth:
            yield from self.follow_links(response, source, depth)

    def follow_links(self, response: Response, source: Source, depth: int) -> Iterator[scrapy.Request]:
        """Links from a listing or an article page: paging of the start page, then article candidates."""
        spider = self.spider
        start = response.meta.get("start") or response.url
        start_parts = urlsplit(start)
        limit = source.max_pages or spider.max_pages
        hrefs = scan_links(response.body, spider.max_links)
        if len(hrefs) >= spider.max_links:
            spider.count(source.name, "links_capped")
        for href in hrefs:
            url = urljoin(response.url, href.strip()).split("#", 1)[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != start_parts.netloc or _ASSET.search(parts.path):
                continue
            if parts.path == start_parts.path:
                if (
                    parts.query
                    and canonicalize_url(url) not in spider.requested
                    and spider.listing_pages[source.name] < limit
                ):
                    spider.requested.add(canonicalize_url(url))
                    yield spider.listing(url, source, self.name, self.parse, start=start, hops=depth)
                continue
            if depth >= source.depth or not _ARTICLE_PATH.search(parts.path):
                continue
            request = spider.page_request(url, source, start, hops=depth + 1, min_text=MIN_SITE_TEXT, start=start)
            if request is not None:
                yield request
