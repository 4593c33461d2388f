"""The demo's run: local Elasticsearch → loopback news site → crawl → analyse → index, through `crawl_to_index`.

Everything runs on 127.0.0.1 with a fixed "now", so the reported week is full of data and the run is repeatable.
The report part (synthetic redemptions, the weekly report, its files) is `report.demo`.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rezonans.brands import EXAMPLE_BRANDS, BrandCard, load_brands
from rezonans.config import Settings, load_settings
from rezonans.errors import RezonansError, UserError
from rezonans.model import Article
from rezonans.timeutil import moscow

log = logging.getLogger(__name__)

DEMO_PREFIX = "rezonans-demo"
#: Wednesday of ISO week 2026-W48: the reported week 2026-W47 and the week before are complete.
DEMO_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=moscow())
DEMO_WEEK = "2026-W47"


@dataclass
class DemoData:
    """What the demo's crawl put into the index."""

    settings: Settings
    card: BrandCard
    articles: int = 0
    indexed: int = 0
    crawl: dict[str, Any] = field(default_factory=dict)
    channel: str | None = None  # the dev site's Telegram channel, standing in for the brand's own
    promo_days: dict[str, Counter[str]] = field(default_factory=dict)  # local day → promo codes of the brand


def demo_settings(prefix: str = DEMO_PREFIX, base: Settings | None = None) -> Settings:
    """Current settings with the demo index prefix."""
    base = base or load_settings()
    return base.model_copy(update={"index_prefix": prefix})


def ensure_server(settings: Settings, say: Callable[[str], None]) -> None:
    """Use the configured server if it answers; otherwise install (mvn, cached) and start the local one."""
    from indexer.client import connect, wait_for_health  # here: `rezonans --help` imports this module

    client = connect(settings)
    try:
        wait_for_health(client, timeout=3)
        say(f"Elasticsearch is up at {settings.es_url}")
        return
    except RezonansError:
        pass
    from indexer.server import LocalServer

    say("starting the local Elasticsearch (the first run installs it; this can take a few minutes)…")
    seconds = LocalServer(settings).start()
    wait_for_health(client, timeout=120)
    say(f"Elasticsearch started in {seconds:.0f}s")


def reset_indices(settings: Settings) -> None:
    """Delete the demo prefix's indices so that every run starts clean (only names under the demo prefix)."""
    from indexer.client import connect, es_errors

    client = connect(settings)
    with es_errors("deleting the demo indices"):
        names = list(client.indices.get(index=f"{settings.index_prefix}-*", expand_wildcards="all").keys())
        if names:
            client.indices.delete(index=",".join(names))


def run_demo_pipeline(
    brand: str = "sberbank",
    articles: int = 400,
    prefix: str = DEMO_PREFIX,
    settings: Settings | None = None,
    start_server: bool = True,
    now: datetime = DEMO_NOW,
    say: Callable[[str], None] = lambda s: None,
    seed: int = 1,
) -> DemoData:
    """Serve the dev site, crawl it into the demo prefix with the example brand cards, and say what was indexed."""
    from crawler.devsite import DevServer, DevSite
    from crawler.options import CrawlOptions
    from crawler.sources import parse_sources
    from pipeline.ingest import crawl_to_index

    settings = demo_settings(prefix, settings)
    card = load_brands(EXAMPLE_BRANDS).get(brand)
    if card is None:
        known = ", ".join(c.id for c in load_brands(EXAMPLE_BRANDS).brands)
        raise UserError(f"brand {brand!r} is not in the demo's brand cards; known: {known}")
    if start_server:
        ensure_server(settings, say)
    reset_indices(settings)
    site = DevSite(articles=articles, seed=seed, now=now, days=21)
    say(f"serving the dev news site: {len(site.articles)} articles, {len(site.posts)} Telegram posts")
    data = DemoData(settings=settings, card=card)

    def count(article: Article) -> None:
        data.articles += 1
        if article.published_at:
            day = article.published_at.astimezone(now.tzinfo).date().isoformat()
            for m in article.mentions:
                if m.brand == brand:
                    data.promo_days.setdefault(day, Counter()).update(m.promo_codes)

    with DevServer(site) as server, tempfile.TemporaryDirectory(prefix="rezonans-demo-") as tmp:
        sources = parse_sources(site.sources_yaml(server.url), "<demo sources>")
        data.channel = next((s.name for s in sources if s.type == "telegram"), None)
        say("crawling and analysing…")
        run_settings = settings.model_copy(update={"home": Path(tmp)})  # private crawl state and spool
        stats, extra = crawl_to_index(
            sources,
            EXAMPLE_BRANDS,
            run_settings,
            CrawlOptions.fast(),
            Path(tmp) / "state.sqlite",
            on_indexed=count,
            refresh=True,
        )
    data.crawl = stats.to_dict()
    data.indexed = int(extra["index"].get("indexed", 0))
    say(
        f"crawled {stats.articles} articles from {len(sources)} sources in {stats.elapsed:.1f}s; indexed {data.indexed}"
    )
    return data
