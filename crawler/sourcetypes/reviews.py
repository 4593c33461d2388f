"""`type: reviews` — review pages (schema.org Review JSON-LD or microdata, else review cards): every review an article.

A listing is read from its first page and paged on while its pages bring new reviews (or until a first walk of
it has finished): review sites list the newest first, so a rerun reads one page (conditionally) and adds
nothing. A walk cut short by `max_pages` or the budget goes on next run from where it stopped. Reviewers' names are personal data (152-FZ): kept only with REZONANS_FORUM_AUTHORS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from scrapy.http import Response

from crawler.reviews import Review, parse_review_page, scale
from crawler.sources import Source
from crawler.sourcetypes import SourceType, content_type_of, register


@register
class Reviews(SourceType):
    """A product's (or company's) review listing."""

    name = "reviews"
    url_hint = "give the address of a review page, e.g. `url: https://otzyvy.example.ru/product/123`"

    class Options(BaseModel):
        """Keys of a reviews entry beyond the common ones."""

        model_config = ConfigDict(extra="forbid")
        product: str = Field("", description="product name to use instead of the one the page gives")

    def __init__(self, spider: Any) -> None:
        super().__init__(spider)
        from rezonans.config import get_settings

        self.authors = get_settings().forum_authors

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """The first page of each listing, and (unconditionally) the page where a limit cut a walk short last time."""
        for url in source.start_urls:
            yield self.spider.listing(url, source, self.name, self.parse, start=url, walk=url, pages=1)
        for walk, url in self.spider.state.pending_walks(source.name):
            resume = self.spider.listing(url, source, self.name, self.parse, start=walk, walk=walk, pages=1)
            resume.meta.update(conditional=False, resume=True)
            yield resume

    def parse(self, response: Response) -> Iterator[Any]:
        """Every review of the page; the next page while pages bring new reviews or no walk has finished yet."""
        spider = self.spider
        if spider.not_modified(response):
            return
        source = spider.source_of(response)
        content_type = content_type_of(response)
        try:
            page = parse_review_page(response.body, response.url, content_type)
        except (ValueError, etree.ParserError) as exc:
            spider.error(source.name, "malformed review page", f"{response.url}: {exc}")
            return
        if not page.reviews:
            spider.error(source.name, "no reviews found", f"{response.url}: no schema.org Review and no review cards")
            return
        product = self.options(source).product
        budget_hits = spider.stats_by_source[source.name]["over_budget"]
        fresh = 0
        for review in page.reviews:
            if spider.too_old(review.published):
                spider.count(source.name, "skipped_old")
            elif review.text and spider.fresh(source, review.url, budget=True):
                fresh += 1
                yield self._item(source, review, product or review.product or page.product)
        start, pages = response.meta["start"], response.meta.get("pages", 1)
        spider.walks[start] = max(spider.walks.get(start, 0), pages)
        if spider.stats_by_source[source.name]["over_budget"] > budget_hits:
            spider.bookmarks[start] = (response.url, source.name, True)  # budget spent: go on from here next run
            return
        more = page.next_url and (fresh or spider.state.walk_done(start) is None)
        if more and pages >= (source.max_pages or spider.max_pages):
            spider.bookmarks[start] = (page.next_url, source.name, True)  # the rest of the listing: next run
        elif more:
            yield spider.listing(
                page.next_url,
                source,
                self.name,
                self.parse,
                start=start,
                walk=start,
                pages=pages + 1,
                resume=response.meta.get("resume", False),
            )
        elif response.meta.get("resume"):
            spider.bookmarks[start] = (response.url, source.name, False)  # the cut-short walk has caught up

    def _item(self, source: Source, review: Review, product: str) -> dict[str, Any]:
        """A review as Article fields: rating on its own scale and on 1–5, the product, the review's own URL."""
        rating = None
        if review.rating is not None and review.score is not None:
            best, worst = scale(review.rating, review.best, review.worst)
            rating = {"value": review.rating, "best": best, "worst": worst, "score": review.score}
        return {
            "kind": "article",
            "source": source.name,
            "distinct": True,
            "article": {
                "url": review.url,
                "title": review.title or product,
                "lead": review.text.split("\n", 1)[0][:300],
                "text": review.text,
                "published_at": review.published.isoformat() if review.published else None,
                "author": review.author if self.authors else None,
                "product": product or None,
                "rating": rating,
                "language": None,
            },
        }
