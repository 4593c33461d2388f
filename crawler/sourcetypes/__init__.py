"""Source types as plug-ins: one class per `type:` of the sources file, found by name in a registry.

A source type answers three questions, and nothing else:

1. **Config** — which keys its entry in the sources file may carry beyond the common ones (`name`, `type`,
   `url`, `urls`, `weight`, `tags`, `depth`, `max_pages`, `budget`, `enabled`): the pydantic model `Options`
   (`extra="forbid"`, so a typo is an error with file:line), plus `check()` to normalise or refuse an entry.
2. **Listing** — `start(source)` yields the first Scrapy requests; their callbacks (methods of the type) yield
   further requests and items. Incremental crawling uses the spider's shared tools: `spider.seen`-style checks
   in `emit()`, page requests through `spider.page_request()` (de-duplicated, budgeted, claimed in the shared
   frontier), and "walks" (`spider.walks`, `spider.state.walk_done(key)`) for the newest post id reached in a
   finished run.
3. **Article** — an item is either a page for the extraction pipeline (`spider.page_request(...)`) or the
   fields of the one `rezonans.model.Article` built by the type itself and handed over with `emit()`.

Adding a type (say `reviews`) is one module in this package plus its tests::

    # crawler/sourcetypes/reviews.py
    from crawler.sourcetypes import SourceType, register

    @register
    class Reviews(SourceType):
        name = "reviews"
        listing_check = False

        class Options(BaseModel):  # keys of its own in the sources entry (omit when there are none)
            model_config = ConfigDict(extra="forbid")
            product: str = ""

        def start(self, source):
            for url in source.start_urls:
                yield self.spider.listing(url, source, self.name, self.parse, start=url)

        def parse(self, response):
            source = self.spider.source_of(response)
            ...
            item = self.emit(source, {"url": ..., "title": ..., "text": ..., "published_at": ...})
            if item is not None:
                yield item

Every module of this package is imported on first use (`load()`), so no list needs editing; a type living in
another distribution registers through the entry-point group `rezonans.source_types`. The `SourceRef.type`
literal in `rezonans/model.py` must know the name (it does for rss, sitemap, site, telegram, vk, reviews, forum).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from crawler.safety import netloc

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response

    from crawler.sources import Source
    from crawler.spider import SourceSpider

log = logging.getLogger(__name__)

REGISTRY: dict[str, type[SourceType]] = {}
ENTRY_POINT_GROUP = "rezonans.source_types"
_loaded = False


class SourceType:
    """One kind of source: its config keys, how it lists new items, how an item becomes an Article."""

    name: ClassVar[str] = ""
    url_hint: ClassVar[str] = "give an absolute http(s) URL, e.g. `url: https://example.ru/rss`"
    needs_url: ClassVar[bool] = True  # False: the type may work without url/urls (e.g. a search query)
    listing_check: ClassVar[bool] = False  # fetched pages may be sections/tag pages: the extractor checks
    Options: ClassVar[type[BaseModel] | None] = None  # extra keys of the sources entry (extra="forbid")

    def __init__(self, spider: SourceSpider) -> None:
        self.spider = spider

    # ----- config ------------------------------------------------------------------------------
    @classmethod
    def check(cls, source: Source) -> Source:
        """Validate and normalise one entry (raise ValueError("key: what is wrong — fix") to refuse it)."""
        return source

    @classmethod
    def options(cls, source: Source) -> Any:
        """The entry's own keys as the type's `Options` model (None for a type without own keys)."""
        if cls.Options is None:
            return None
        return cls.Options.model_validate(source.model_extra or {})

    @classmethod
    def validate_extra(cls, extra: dict[str, Any], common: Iterable[str]) -> None:
        """Check the entry's keys beyond the common ones against `Options`; errors name the key."""
        if cls.Options is None:
            if extra:
                key = next(iter(extra))
                raise ValueError(f"{key}: unknown key; allowed keys: {', '.join(common)}")
            return
        try:
            cls.Options.model_validate(extra)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = str(err["loc"][0]) if err["loc"] else "source"
            if err["type"] == "extra_forbidden":
                allowed = ", ".join([*common, *cls.Options.model_fields])
                raise ValueError(f"{key}: unknown key; allowed keys: {allowed}") from None
            raise ValueError(f"{key}: {err['msg']}") from None

    # ----- crawling ----------------------------------------------------------------------------
    def hosts(self, source: Source) -> set[str]:
        """host[:port] this source may reach even when internal (its start URLs; an API type adds its API)."""
        return {netloc(u) for u in source.start_urls}

    def start(self, source: Source) -> Iterator[scrapy.Request]:
        """The first requests of a source (its listing, feed, wall…)."""
        raise NotImplementedError

    def after_page(self, response: Response, source: Source) -> Iterator[Any]:
        """Called after an article page was handed to extraction (the `site` type follows its links here)."""
        return iter(())

    def emit(self, source: Source, fields: dict[str, Any]) -> dict[str, Any] | None:
        """An item with ready Article fields, or None when the URL was seen, requested or claimed elsewhere."""
        url = fields["url"]
        if not self.spider.fresh(source, url):
            return None
        return {"kind": "article", "source": source.name, "article": {"language": None, **fields}}


def content_type_of(response: Response) -> str:
    """The response's Content-Type header as text ("" when absent)."""
    return (response.headers.get(b"Content-Type") or b"").decode("latin-1")


def register(cls: type[SourceType]) -> type[SourceType]:
    """Class decorator: make a source type known by its `name`."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no `name`")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise TypeError(f"source type {cls.name!r} is registered twice ({REGISTRY[cls.name].__name__}, {cls.__name__})")
    REGISTRY[cls.name] = cls
    return cls


def load() -> dict[str, type[SourceType]]:
    """Import every module of this package and every entry point of `rezonans.source_types` (once)."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                point.load()
            except Exception:  # a broken third-party plug-in must not stop the built-in types
                log.exception("source type plug-in %s failed to load", point.name)
        _loaded = True
    return REGISTRY


def names() -> list[str]:
    """Names of all known source types: the news types first, as the docs list them, then the others."""
    first = ("rss", "sitemap", "site", "telegram")
    known = load()
    return [n for n in first if n in known] + sorted(n for n in known if n not in first)


def get(name: str) -> type[SourceType]:
    """The source type registered as `name` (KeyError when unknown)."""
    return load()[name]
