"""`rezonans crawl` and `rezonans devsite serve`: thin commands over crawler.run.crawl and crawler.devsite."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from cli.messages import say
from rezonans.config import Settings, load_settings
from rezonans.errors import ServiceError, UserError
from rezonans.formats import number

if TYPE_CHECKING:
    from crawler.options import CrawlOptions
    from crawler.run import CrawlStats
    from crawler.sources import Source

err = Console(stderr=True, soft_wrap=True)
devsite_app = typer.Typer(help="Loopback Russian news site for trying the crawler and the demo.", no_args_is_help=True)


def parse_since(value: str | None) -> datetime | None:
    """--since as an aware datetime (a UserError says what is accepted)."""
    from rezonans.timeutil import parse_since as since_time

    try:
        return since_time(value)
    except ValueError as exc:
        raise UserError(f"--since {exc}") from None


PROGRESS_EVERY = 30.0  # seconds between one-line progress logs when stderr is not a terminal
ACTIVITY = ("listings", "pages", "articles", "not_modified", "skipped_seen")


def _table(sources: dict[str, dict[str, Any]], lang: str = "ru") -> Table:
    """Per-source progress table."""
    ru = lang != "en"
    table = Table(title="обход" if ru else "crawl", expand=False)
    cols = (
        ("источник", "ленты", "страницы", "статьи", "ошибки", "304", "видели", "robots", "листинги", "сверх бюджета")
        if ru
        else (
            "source",
            "listings",
            "pages",
            "articles",
            "errors",
            "304",
            "seen",
            "robots",
            "listing pages",
            "over budget",
        )
    )
    for i, col in enumerate(cols):
        table.add_column(col, justify="left" if i == 0 else "right")
    for name, s in sources.items():
        table.add_row(
            name,
            str(s.get("listings", 0)),
            str(s.get("pages", 0)),
            str(s.get("articles", 0)),
            f"[red]{s['errors']}[/red]" if s.get("errors") else "0",
            str(s.get("not_modified", 0)),
            str(s.get("skipped_seen", 0)),
            str(s.get("robots", 0)),
            str(s.get("listing_pages", 0)),
            # the per-run page budget was hit: the rest of the source waits for the next run
            f"[yellow]{s['over_budget']}[/yellow]" if s.get("over_budget") else "0",
        )
    return table


def failed_sources(sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Sources that got nothing at all (no listing, page, article, 304 or seen item) and had errors: their causes."""
    return {
        name: dict(s.get("error_kinds") or {"error": s.get("errors", 0)})
        for name, s in sources.items()
        if s.get("errors") and not any(s.get(k) for k in ACTIVITY)
    }


def _causes(kinds: dict[str, int]) -> str:
    """'dns ×2, http 404 ×1'."""
    return ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))


class Progress:
    """Crawl progress: a live table with a totals line on a terminal, else a one-line log every `every` seconds."""

    def __init__(self, names: list[str], enabled: bool, lang: str, every: float = PROGRESS_EVERY) -> None:
        self.names, self.lang, self.every = names, lang, every
        self.started = time.monotonic()
        self.last_line = self.started
        self.sources: dict[str, dict[str, Any]] = {n: {} for n in names}
        self.live = None
        self.lines = enabled and not err.is_terminal
        if enabled and err.is_terminal:
            self.live = Live(self._view(), console=err, refresh_per_second=4, transient=True)

    def totals(self) -> dict[str, Any]:
        """Sources with activity, pages, articles, errors and the page rate so far."""
        elapsed = max(1e-9, time.monotonic() - self.started)
        pages = sum(s.get("pages", 0) + s.get("listings", 0) for s in self.sources.values())
        return {
            "done": sum(1 for s in self.sources.values() if any(s.get(k) for k in (*ACTIVITY, "errors"))),
            "total": len(self.names),
            "pages": pages,
            "articles": sum(s.get("articles", 0) for s in self.sources.values()),
            "errors": sum(s.get("errors", 0) for s in self.sources.values()),
            "rate": number(pages / elapsed, 1, self.lang),
        }

    def line(self) -> str:
        """The one-line progress message."""
        return say("crawl.progress", self.lang, **self.totals())

    def _view(self) -> Group:
        return Group(_table(self.sources, self.lang), self.line())

    def __enter__(self) -> Progress:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def update(self, by_source: dict[str, dict[str, Any]]) -> None:
        """New per-source counts from the crawl."""
        self.sources = {**self.sources, **by_source}
        if self.live is not None:
            self.live.update(self._view())
        elif self.lines and time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            err.print(escape(self.line()), highlight=False)


def _summary(stats: CrawlStats, extra: dict[str, Any], lang: str) -> None:
    """Closing summary on stderr: the table, the totals, and the causes of each source's errors."""
    err.print(_table(stats.sources, lang))
    rate = stats.pages / stats.elapsed if stats.elapsed else 0.0
    err.print(
        say(
            "crawl.summary",
            lang,
            articles=f"[bold]{stats.articles}[/bold]",
            pages=stats.pages,
            errors=stats.errors,
            elapsed=number(stats.elapsed, 1, lang),
            rate=number(rate, 1, lang),
        ),
        highlight=False,
    )
    for line in _extra_lines(extra, lang):
        err.print(escape(line), highlight=False)
    for name, s in stats.sources.items():
        if s.get("error_kinds"):
            err.print(escape(say("crawl.failed_source", lang, name=name, causes=_causes(s["error_kinds"]))))


def _extra_lines(extra: dict[str, Any], lang: str) -> list[str]:
    """Where the articles went: the JSONL file, or the index (written, refreshed, spooled, rejected)."""
    lines = []
    if extra.get("out"):
        lines.append(say("crawl.out", lang, path=extra["out"]))
    if extra.get("replayed"):
        lines.append(say("crawl.replayed", lang, count=extra["replayed"]))
    index = extra.get("index")
    if index:
        lines.append(
            say(
                "crawl.index",
                lang,
                indexed=index.get("indexed", 0),
                updated=index.get("updated", 0),
                spooled=index.get("spooled", 0),
                rejected=index.get("rejected", 0),
                workers=extra.get("analysis_workers", 0),
            )
        )
        if index.get("spool_files"):
            lines.append(say("crawl.spooled", lang, files=", ".join(index["spool_files"])))
        if index.get("rejected_file"):
            lines.append(say("crawl.rejected", lang, path=index["rejected_file"]))
    return lines


def crawl_command(
    sources: Path | None = typer.Option(
        None, "--sources", "-s", help="Sources YAML (default: the shipped Russian list)."
    ),
    brands: Path | None = typer.Option(
        None, "--brands", help="Brand cards for the analysis (without --out; default: $REZONANS_BRANDS)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Skip items older than this: 2025-03-01, ISO time, 7d, 12h."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Append articles to this JSONL file instead of analysing and indexing."
    ),
    state: Path | None = typer.Option(
        None, "--state", help="Crawl state database (default: <home>/crawl/state.sqlite3)."
    ),
    max_pages: int = typer.Option(
        50, "--max-pages", help="Listing pages per source (section paging, Telegram history)."
    ),
    delay: float = typer.Option(1.0, "--delay", help="Seconds between requests to one domain."),
    concurrency: int = typer.Option(16, "--concurrency", help="Requests in flight overall."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds before a request times out."),
    max_size: int = typer.Option(
        8 * 1024 * 1024, "--max-size", help="Largest page in bytes; bigger ones are dropped and counted."
    ),
    workers: int = typer.Option(0, "--workers", help="Extraction processes (0 = one per core)."),
    analysis_workers: int | None = typer.Option(
        None,
        "--analysis-workers",
        min=0,
        help="Analysis processes without --out (default: one per core beyond the first; 0 = in the crawl process).",
    ),
    fast: bool = typer.Option(
        False, "--fast", help="No politeness delays (only for your own or the dev site).", metavar=""
    ),
    redis_url: str | None = typer.Option(
        None,
        "--redis-url",
        help="Share the work with other crawler processes through this Redis (leases, claims, emitted set).",
    ),
    lease_ttl: float = typer.Option(
        120.0, "--lease-ttl", min=1, help="With --redis-url: seconds before a dead crawler's sources go to others."
    ),
    claim_ttl: float = typer.Option(
        600.0, "--claim-ttl", min=1, help="With --redis-url: seconds before a dead crawler's article claims expire."
    ),
    tone: str | None = typer.Option(
        None, "--tone", help="Tone model of the analysis: transformer or fast (linear); default: the tone setting."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout.", metavar=""),
    progress: bool = typer.Option(
        True,
        "--progress/--no-progress",
        help="Live per-source table on a terminal; a one-line log every --progress-every seconds otherwise.",
        metavar="",
    ),
    progress_every: float = typer.Option(
        PROGRESS_EVERY, "--progress-every", min=0.0, help="Seconds between progress lines when not on a terminal."
    ),
) -> None:
    """Crawl feeds, sitemaps, site sections, Telegram channels and VK; new articles go to --out or to the index."""
    from crawler.options import CrawlOptions
    from crawler.run import CrawlError, JsonlSink, crawl
    from crawler.sources import load_sources
    from crawler.state import default_state_path

    source_list = load_sources(sources)
    settings = load_settings(tone=tone)
    source_list = _default_queries(source_list, brands or settings.brands)
    since_dt = parse_since(since)
    state_path = state or default_state_path(settings.home)
    base = CrawlOptions.fast() if fast else CrawlOptions()
    options = base.model_copy(
        update={
            "max_pages": max_pages,
            "extract_workers": workers,
            "max_size": max_size,
            "redis_url": redis_url,
            "lease_ttl": lease_ttl,
            "claim_ttl": claim_ttl,
            **({} if fast else {"delay": delay, "concurrency": concurrency, "timeout": timeout}),
        }
    )
    extra: dict[str, Any] = {}
    lang = settings.language
    with Progress([src.name for src in source_list], progress, lang, progress_every) as shown:
        if out is not None:
            with JsonlSink(out) as sink:
                sink.reconcile(state_path)
                stats = crawl(
                    source_list, sink, options=options, state_path=state_path, since=since_dt, on_progress=shown.update
                )
            extra["out"] = str(out)
        else:
            stats, extra = _crawl_to_index(
                source_list, brands, settings, options, state_path, since_dt, shown.update, analysis_workers
            )
    _summary(stats, extra, lang)
    if as_json:
        typer.echo(json.dumps({**stats.to_dict(), **extra}, ensure_ascii=False, indent=2, default=str))
    failed = failed_sources(stats.sources)
    if stats.sources and len(failed) == len(stats.sources):
        causes = "; ".join(f"{name}: {_causes(kinds)}" for name, kinds in failed.items())
        raise CrawlError(
            f"every source failed ({len(failed)}), nothing was fetched: {causes}. Check the network and the "
            "addresses in the sources file (--sources), or run with --verbose for each failure"
        )
    if stats.sink_errors:
        raise ServiceError(
            f"{stats.sink_errors} articles failed in the sink (analysis, indexing or --out; "
            "see the log above); they are not marked seen and will be fetched again next run"
        )


def _default_queries(source_list: list[Source], brands: Path | None) -> list[Source]:
    """VK search sources without `query:` search for the names on the brand cards (when there are cards)."""
    if brands is None or not any(s.type == "vk" and not s.start_urls for s in source_list):
        return source_list
    from crawler.sourcetypes.vk import with_brand_queries
    from rezonans.brands import load_brands

    return with_brand_queries(source_list, [card.name for card in load_brands(brands).brands])


def _crawl_to_index(
    source_list: list[Source],
    brands: Path | None,
    settings: Settings,
    options: CrawlOptions,
    state_path: Path,
    since_dt: datetime | None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None],
    analysis_workers: int | None = None,
) -> tuple[CrawlStats, dict[str, Any]]:
    """No --out: analyse each article and index it (pipeline.ingest); brand cards from --brands or the setting."""
    from pipeline.ingest import crawl_to_index

    brands = brands or settings.brands
    if brands is None:
        raise UserError(
            "pass --brands FILE (brand cards) or set REZONANS_BRANDS to analyse and index, "
            "or --out FILE.jsonl to only crawl"
        )
    return crawl_to_index(
        source_list, brands, settings, options, state_path, since_dt, on_progress, analysis_workers=analysis_workers
    )


@devsite_app.command("serve")
def devsite_serve(
    port: int = typer.Option(8000, "--port", help="Port on 127.0.0.1 (0 = any free port)."),
    articles: int = typer.Option(300, "--articles", help="Number of generated articles."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same site."),
    days: int = typer.Option(14, "--days", help="Spread articles over the last N days."),
    now: str | None = typer.Option(None, "--now", help="ISO date-time taken as 'now' (default: current time)."),
    sources_out: Path | None = typer.Option(None, "--sources-out", help="Write a sources file for this site."),
) -> None:
    """Serve the generated Russian news site on 127.0.0.1 until Ctrl-C."""
    from crawler.devsite.__main__ import main as devsite_main

    argv = ["--port", str(port), "--articles", str(articles), "--seed", str(seed), "--days", str(days)]
    if now:
        argv += ["--now", now]
    if sources_out:
        argv += ["--sources-out", str(sources_out)]
    raise typer.Exit(devsite_main(argv))


def register(app: typer.Typer) -> None:
    """Add `crawl` and `devsite` to the main app."""
    app.command("crawl")(crawl_command)
    app.add_typer(devsite_app, name="devsite")
