"""Item pipeline: extraction in a process pool (off the reactor), de-duplication, hand-off to the sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from scrapy.exceptions import DropItem

from crawler.extract import extract_page, guess_language
from crawler.safety import clean_text, is_web_url, same_site
from rezonans.model import Article, canonicalize_url

log = logging.getLogger(__name__)


class ArticlePipeline:
    """Turn page items into Articles (extraction in the spider's `extract_pool`), drop duplicates, call the spider's `sink`."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.emitted: set[str] = set()
        self.hashes: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticlePipeline:
        return cls(crawler)

    async def _extract(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Run extract_page in the process pool (or inline when there is none)."""
        args = (
            item["body"],
            item["url"],
            item["content_type"],
            item["feed_title"],
            item["feed_date"],
            item["feed_summary"],
            item["min_text"],
            item.get("listing_check", False),
        )
        pool = getattr(self.crawler.spider, "extract_pool", None)
        if pool is None:
            return extract_page(*args)
        return await asyncio.wrap_future(pool.submit(extract_page, *args))

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Extract, validate, de-duplicate and emit one article."""
        spider = self.crawler.spider
        source = spider.sources[item["source"]]
        if item["kind"] == "page":
            try:
                fields = await self._extract(item)
            except Exception as exc:
                spider.error(source.name, "extraction failed", f"{item['url']}: {exc}")
                raise DropItem("extraction failed", log_level="DEBUG") from exc
            if fields is None:
                spider.count(source.name, "not_article")
                raise DropItem("no article text", log_level="DEBUG")
            if fields.get("listing"):
                spider.count(source.name, "listing_pages")
                raise DropItem("a listing page, not an article", log_level="DEBUG")
        else:
            fields = dict(item["article"])
            fields["language"] = fields.get("language") or guess_language(fields.get("text", ""))
        if not is_web_url(fields.get("url") or ""):
            spider.error(source.name, "refused scheme", f"article URL {str(fields.get('url'))[:200]}")
            raise DropItem("not an http(s) URL", log_level="DEBUG")
        for key in ("title", "lead", "text", "author"):
            if isinstance(fields.get(key), str):
                fields[key] = clean_text(fields[key])
        claimed = fields.get("canonical_url") or ""
        if claimed and not (is_web_url(claimed) and same_site(fields["url"], claimed)):
            # A canonical link to another site (syndication, or a page posing as another outlet's article) is
            # kept as a reprint link; the page keeps its own URL and document id.
            spider.count(source.name, "foreign_canonical")
            if is_web_url(claimed):
                fields["links"] = [claimed, *[u for u in fields.get("links") or [] if u != claimed]]
            fields["canonical_url"] = ""
        fields["source"] = source.ref.model_dump()
        name = fields.pop("source_name", None)  # a search source's post names its own community
        if name:
            fields["source"]["name"] = name
        fields["crawled_at"] = datetime.now(UTC)
        try:
            article = Article.model_validate(fields)
        except ValidationError as exc:
            spider.error(source.name, "invalid article", f"{fields.get('url')}: {exc.errors()[0]['msg']}")
            raise DropItem("invalid article", log_level="DEBUG") from exc
        if spider.too_old(article.published_at):
            spider.count(source.name, "skipped_old")
            raise DropItem("older than --since", log_level="DEBUG")
        canonical = canonicalize_url(article.canonical_url)
        # Forum posts and reviews are told apart by permalink only: two «+1» posts are two posts, not a mirror.
        digest = ("", "") if item.get("distinct") else (article.source.domain, article.content_hash)
        if (
            canonical in self.emitted
            or digest in self.hashes
            or (canonical != canonicalize_url(article.url) and spider.state.seen(canonical))
            or spider.state.hash_seen(*digest)
        ):
            spider.count(source.name, "duplicates")
            raise DropItem("duplicate", log_level="DEBUG")
        self.emitted.add(canonical)
        if digest[1]:
            self.hashes.add(digest)
        sink: Callable[[Article], None] | None = getattr(spider, "sink", None)
        if sink is not None:
            sink(article)
        spider.count(source.name, "articles")
        return {"url": article.url}
