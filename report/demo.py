"""End-to-end demo: local Elasticsearch → loopback news site → crawl → analyse → index → weekly report.

Everything runs on 127.0.0.1 with a fixed "now", so the reported week is full of data and the run is repeatable.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from indexer.bulk import BulkWriter
from indexer.client import connect, wait_for_health
from report.aggs import ReportScope
from report.build import build_report
from report.outcomes import import_file, outcomes_index
from report.periods import week_period
from report.render import to_html, to_markdown, to_xlsx
from rezonans.config import Settings, load_settings

log = logging.getLogger(__name__)

DEMO_PREFIX = "rezonans-demo"
#: Wednesday of ISO week 2026-W48: the reported week 2026-W47 and the week before are complete.
DEMO_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=3)))
DEMO_WEEK = "2026-W47"


@dataclass
class DemoResult:
    """What the demo did and where its files are."""

    articles: int = 0
    crawl: dict[str, Any] = field(default_factory=dict)
    indexed: int = 0
    redemptions: int = 0
    markdown: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    settings: Settings | None = None


def demo_settings(prefix: str = DEMO_PREFIX, base: Settings | None = None) -> Settings:
    """Current settings with the demo index prefix."""
    base = base or load_settings()
    return base.model_copy(update={"index_prefix": prefix})


def ensure_server(settings: Settings, say: Callable[[str], None]) -> None:
    """Use the configured server if it answers; otherwise install (mvn, cached) and start the local one."""
    client = connect(settings)
    try:
        wait_for_health(client, timeout=3)
        say(f"Elasticsearch is up at {settings.es_url}")
        return
    except Exception:
        pass
    from indexer.server import LocalServer

    say("starting the local Elasticsearch (the first run installs it; this can take a few minutes)…")
    seconds = LocalServer(settings).start()
    wait_for_health(client, timeout=120)
    say(f"Elasticsearch started in {seconds:.0f}s")


def reset_indices(settings: Settings) -> None:
    """Delete the demo prefix's indices so that every run starts clean (only names under the demo prefix)."""
    client = connect(settings)
    names = list(client.indices.get(index=f"{settings.index_prefix}-*", expand_wildcards="all").keys())
    if names:
        client.indices.delete(index=",".join(names))


def synthetic_redemptions(report_days: list[date], mentions_by_day: dict[str, Counter[str]], seed: int = 7) -> str:
    """A redemptions CSV that follows promo-code mentions one to two days later (demo data, stated as such)."""
    rng = random.Random(seed)
    lines = ["code,date,amount,channel"]
    for day in report_days:
        for code, count in sorted(mentions_by_day.get(day.isoformat(), Counter()).items()):
            for lag in (1, 2):
                for _ in range(rng.randint(count, 3 * count)):
                    when = day + timedelta(days=lag)
                    lines.append(
                        f"{code},{when.isoformat()},{rng.choice([500, 750, 1000, 1500])},"
                        f"{rng.choice(['app', 'web', 'branch'])}"
                    )
        if rng.random() < 0.5:  # background redemptions without any publicity
            lines.append(f"DEMO_BASELINE,{day.isoformat()},300,web")
    return "\n".join(lines) + "\n"


def run_demo(
    brand: str = "sberbank",
    out_html: Path | None = Path("report.html"),
    out_xlsx: Path | None = Path("report.xlsx"),
    articles: int = 400,
    prefix: str = DEMO_PREFIX,
    settings: Settings | None = None,
    start_server: bool = True,
    now: datetime = DEMO_NOW,
    week: str = DEMO_WEEK,
    say: Callable[[str], None] = lambda s: None,
    seed: int = 1,
) -> DemoResult:
    """Run the whole pipeline on the bundled dev site and return the report (Markdown, dict and files)."""
    from crawler.devsite import DevServer, DevSite
    from crawler.options import CrawlOptions
    from crawler.run import crawl
    from crawler.sources import parse_sources
    from nlp.analyzer import Analyzer

    settings = demo_settings(prefix, settings)
    result = DemoResult(settings=settings)
    if start_server:
        ensure_server(settings, say)
    reset_indices(settings)
    analyzer = Analyzer.from_file(None)
    if brand not in analyzer.cards:
        raise ValueError(f"brand {brand!r} is not in the brand cards; known: {', '.join(sorted(analyzer.cards))}")
    site = DevSite(articles=articles, seed=seed, now=now, days=21)
    say(f"serving the dev news site: {len(site.articles)} articles, {len(site.posts)} Telegram posts")
    promo_days: dict[str, Counter[str]] = {}
    with DevServer(site) as server, tempfile.TemporaryDirectory(prefix="rezonans-demo-") as tmp:
        sources = parse_sources(site.sources_yaml(server.url), "<demo sources>")
        channel = next((s.name for s in sources if s.type == "telegram"), None)
        with BulkWriter(settings, refresh=True) as writer:

            def sink(article: Any) -> None:
                analyzer.analyze(article)
                writer.add(article)
                result.articles += 1
                if article.published_at:
                    day = article.published_at.astimezone(now.tzinfo).date().isoformat()
                    for m in article.mentions:
                        if m.brand == brand:
                            promo_days.setdefault(day, Counter()).update(m.promo_codes)

            say("crawling and analysing…")
            stats = crawl(
                sources, sink, options=CrawlOptions.fast(), state_path=Path(tmp) / "state.sqlite", home=Path(tmp)
            )
        result.crawl = stats.to_dict()
        result.indexed = writer.stats.indexed
        say(
            f"crawled {stats.articles} articles from {len(sources)} sources in {stats.elapsed:.1f}s; "
            f"indexed {result.indexed}"
        )
        period = week_period(week, "Europe/Moscow")
        csv_path = Path(tmp) / "demo-redemptions.csv"
        window = [period.start.date() - timedelta(days=14) + timedelta(days=i) for i in range(21)]
        csv_path.write_text(synthetic_redemptions(window, promo_days), encoding="utf-8")
        client = connect(settings)
        parsed = import_file(client, settings, csv_path, brand=brand)
        client.indices.refresh(index=outcomes_index(settings))
        result.redemptions = len(parsed.rows)
    card = analyzer.cards[brand]
    scope = ReportScope(brand=brand, competitors=list(card.competitors), own_channels=[channel] if channel else [])
    rep = build_report(connect(settings), settings, scope, period, generated_at=now)
    rep["demo_note"] = (
        f"Demo data: the dev site is generated; '{channel}' stands in for the brand's own "
        "channel; redemptions are synthetic and follow promo-code mentions by 1–2 days."
    )
    result.report = rep
    result.markdown = to_markdown(rep)
    if out_html:
        out_html.parent.mkdir(parents=True, exist_ok=True)
        out_html.write_text(to_html(rep), encoding="utf-8")
        result.files.append(str(out_html))
    if out_xlsx:
        to_xlsx(rep, out_xlsx)
        result.files.append(str(out_xlsx))
    return result
