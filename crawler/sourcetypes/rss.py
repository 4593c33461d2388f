"""`type: rss` — RSS/Atom feeds: Yandex full-text entries become articles at once, other entries are fetched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.extract import html_to_text
from crawler.parsers import MAX_ENTRIES, FeedError, parse_feed
from crawler.sources import Source
from crawler.sourcetypes import SourceType, register


@register
class Rss(SourceType):
    """An RSS or Atom feed."""

    name = "rss"
    url_hint = "give an absolute http(s) URL, e.g. `url: https://example.ru/rss`"

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """One conditional request per feed URL."""
        for url in source.start_urls:
            yield self.spider.listing(url, source, self.name, self.parse, start=url, hops=0)

    def parse(self, response: Response) -> Iterator[Any]:
        """Entries newer than --since: full text → article item, otherwise a page request."""
        spider = self.spider
        if spider.not_modified(response):
            return
        source = spider.source_of(response)
        try:
            entries = parse_feed(response.body, response.url, max_size=spider.max_size, limit=MAX_ENTRIES)
        except FeedError as exc:
            spider.tainted.add(response.url)
            spider.error(source.name, "malformed feed", f"{response.url}: {exc}")
            return
        for entry in entries:
            if spider.too_old(entry.published):
                spider.count(source.name, "skipped_old")
                continue
            if entry.full_text:
                if not spider.fresh(source, entry.url, budget=True):
                    continue
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
            request = spider.page_request(
                entry.url,
                source,
                response.url,
                feed_title=entry.title,
                feed_date=entry.published.isoformat() if entry.published else None,
                feed_summary=entry.summary,
            )
            if request is not None:
                yield request
