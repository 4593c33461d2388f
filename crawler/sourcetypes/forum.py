"""`type: forum` — phpBB, XenForo and vBulletin boards: section pages list threads, every post is an article.

A section (index) page is read from its first page on, up to `max_pages` pages, every run; each thread it
lists is walked from where the last finished run left it (the bookmark: the thread's last page reached), so a
rerun fetches one page per thread (conditionally: an unchanged page answers 304) and a post added on page 2
appears in the next run. A thread cut short by `thread_pages` or the budget goes on next run from where it
stopped, even if its section page has not changed. Posters' names are personal data (152-FZ): kept only with REZONANS_FORUM_AUTHORS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from scrapy.http import Response

from crawler.forums import ForumPost, parse_forum_page
from crawler.sources import Source
from crawler.sourcetypes import SourceType, content_type_of, register
from rezonans.model import canonicalize_url


@register
class Forum(SourceType):
    """A forum section (its threads) or a single thread."""

    name = "forum"
    url_hint = "give a forum section or thread address, e.g. `url: https://forum.example.ru/viewforum.php?f=2`"

    class Options(BaseModel):
        """Keys of a forum entry beyond the common ones."""

        model_config = ConfigDict(extra="forbid")
        thread_pages: int = Field(20, ge=1, le=1000, description="pages of one thread read per run")

    def __init__(self, spider: Any) -> None:
        super().__init__(spider)
        from rezonans.config import get_settings

        self.authors = get_settings().forum_authors
        self.walked: set[str] = set()  # threads whose walk started this run

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """Threads a limit cut short last time (from where they stopped, unconditionally), then each start URL: a
        section (threads are found on it) or a thread (walked from its bookmark)."""
        for walk, url in self.spider.state.pending_walks(source.name):
            self.walked.add(walk)
            resume = self.spider.listing(url, source, self.name, self.parse, walk=walk, pages=1)
            resume.meta["conditional"] = False
            yield resume
        for url in source.start_urls:
            request = self._thread(source, url, index=1)
            if request is not None:
                yield request

    def _thread(self, source: Source, url: str, index: int = 0) -> scrapy.Request | None:
        """The request that resumes a thread's walk where the last finished run left it (None: walked already)."""
        key = canonicalize_url(url)
        if key in self.walked:
            return None
        self.walked.add(key)
        where = self.spider.state.bookmark(key) or url
        return self.spider.listing(where, source, self.name, self.parse, walk=key, pages=1, index=index)

    def parse(self, response: Response) -> Iterator[Any]:
        """A thread page: its posts, then its next page; a section page: its threads, then its next page."""
        spider = self.spider
        if spider.not_modified(response):
            return
        source = spider.source_of(response)
        content_type = content_type_of(response)
        try:
            page = parse_forum_page(response.body, response.url, content_type)
        except (ValueError, etree.ParserError) as exc:
            spider.error(source.name, "malformed forum page", f"{response.url}: {exc}")
            return
        if page is None:
            spider.error(source.name, "not a forum page", f"{response.url}: no phpBB, XenForo or vBulletin markup")
            return
        walk = response.meta["walk"]
        if page.posts:
            budget_hits = spider.stats_by_source[source.name]["over_budget"]
            for post in page.posts:
                if spider.too_old(post.published):
                    spider.count(source.name, "skipped_old")
                elif post.text and spider.fresh(source, post.url, budget=True):
                    yield self._item(source, post, page.title)
            if spider.stats_by_source[source.name]["over_budget"] > budget_hits:
                # budget spent: the next run goes on from this page, whatever the section page says
                spider.bookmarks[walk] = (response.url, source.name, True)
                return
            pages = response.meta.get("pages", 1)
            if page.next_url and pages >= self.options(source).thread_pages:
                spider.bookmarks[walk] = (page.next_url, source.name, True)  # the rest of the thread: next run
            elif page.next_url:
                yield spider.listing(page.next_url, source, self.name, self.parse, walk=walk, pages=pages + 1)
            else:
                spider.bookmarks[walk] = (response.url, source.name, False)
            return
        for thread in page.threads:
            if spider.web(thread, source):
                request = self._thread(source, thread)
                if request is not None:
                    yield request
        index = response.meta.get("index") or 1
        if page.next_url and index < (source.max_pages or spider.max_pages):
            yield spider.listing(page.next_url, source, self.name, self.parse, walk=walk, index=index + 1)

    def _item(self, source: Source, post: ForumPost, title: str) -> dict[str, Any]:
        """A post as Article fields; posts are told apart by permalink, not text (two «+1» are two posts)."""
        return {
            "kind": "article",
            "source": source.name,
            "distinct": True,
            "article": {
                "url": post.url,
                "title": post.thread_title or title,
                "lead": post.text.split("\n", 1)[0][:300],
                "text": post.text,
                "published_at": post.published.isoformat() if post.published else None,
                "author": post.author if self.authors else None,
                "links": post.quoted,
                "language": None,
            },
        }
