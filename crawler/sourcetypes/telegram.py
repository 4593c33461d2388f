"""`type: telegram` — a public channel's web preview (t.me/s/NAME): every post an article, paged back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import scrapy
from scrapy.http import Response

from crawler.parsers import parse_telegram
from crawler.sources import Source
from crawler.sourcetypes import SourceType, content_type_of, register


def telegram_preview(url: str) -> str:
    """Turn t.me/NAME, t.me/s/NAME or @NAME into the web preview URL https://t.me/s/NAME (host kept for tests)."""
    url = url.strip()
    if url.startswith("@"):
        return f"https://t.me/s/{url[1:]}"
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if not path.startswith("s/"):
        path = f"s/{path}"
    return f"{parts.scheme}://{parts.netloc}/{path}"


@register
class Telegram(SourceType):
    """A public Telegram channel read through its web preview."""

    name = "telegram"
    url_hint = "give the channel's address, e.g. `url: https://t.me/s/NAME`"

    @classmethod
    def check(cls, source: Source) -> Source:
        """Telegram URLs are normalised to the t.me/s/ preview."""
        source.url = telegram_preview(source.url) if source.url else ""
        source.urls = [telegram_preview(u) for u in source.urls]
        return source

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """The newest page of each channel."""
        for url in source.start_urls:
            yield self.spider.listing(url, source, self.name, self.parse, start=url, hops=0, walk=url)

    def parse(self, response: Response) -> Iterator[Any]:
        """Every post is an article; page back with ?before=ID until known or old posts."""
        spider = self.spider
        if spider.not_modified(response):
            return
        source = spider.source_of(response)
        try:
            problems: list[tuple[str, str]] = []
            content_type = content_type_of(response)
            posts, before = parse_telegram(response.body, response.url, content_type=content_type, problems=problems)
        except (ValueError, lxml.etree.ParserError) as exc:
            spider.error(source.name, "malformed telegram page", f"{response.url}: {exc}")
            return
        for kind, detail in problems:
            spider.error(source.name, kind, f"{response.url}: {detail}")
        fresh = 0
        for post in posts:
            if spider.too_old(post.published):
                spider.count(source.name, "skipped_old")
                continue
            if not spider.fresh(source, post.url):
                spider.refresh_engagement(source, post.url, post.published, views=post.views, forwards=post.forwards)
                continue
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
        limit = source.max_pages or spider.max_pages
        base = response.meta.get("start") or response.url.split("?", 1)[0]
        newest = max((p.id for p in posts), default=0)
        unfinished = spider.walk_reached(base, newest)
        if (
            before
            and (fresh or unfinished)
            and not spider.too_old(oldest)
            and spider.listing_pages[source.name] < limit
        ):
            request = spider.listing(f"{base}?before={before}", source, self.name, self.parse, start=base, walk=base)
            request.meta["conditional"] = False
            yield request
