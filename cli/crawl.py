"""`rezonans crawl` and `rezonans devsite serve`: thin commands over crawler.run.crawl and crawler.devsite."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from crawler.options import CrawlOptions
from crawler.run import CrawlError, CrawlStats, JsonlSink, crawl
from crawler.sources import SourcesError, load_sources
from crawler.state import default_state_path
from pipeline.ingest import crawl_to_index
from rezonans.config import ConfigError, load_settings

err = Console(stderr=True, soft_wrap=True)
devsite_app = typer.Typer(help="Loopback Russian news site for trying the crawler and the demo.", no_args_is_help=True)

_RELATIVE = re.compile(r"^(\d+)\s*([dhw])$")


def parse_since(value: str | None) -> datetime | None:
    """'2025-03-01', '2025-03-01T12:00+03:00', or relative '7d' / '12h' / '2w' → aware datetime."""
    if not value:
        return None
    match = _RELATIVE.match(value.strip().lower())
    if match:
        unit = {"d": "days", "h": "hours", "w": "weeks"}[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: use a date such as 2025-03-01, an ISO date-time, or 7d / 12h") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone(timedelta(hours=3)))


def _table(sources: dict[str, dict[str, Any]]) -> Table:
    """Per-source progress table."""
    table = Table(title="crawl", expand=False)
    for col in ("source", "listings", "pages", "articles", "errors", "304", "seen", "robots"):
        table.add_column(col, justify="left" if col == "source" else "right")
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
        )
    return table


def _summary(stats: CrawlStats, extra: dict[str, Any]) -> None:
    """Closing summary on stderr."""
    err.print(_table(stats.sources))
    rate = stats.pages / stats.elapsed if stats.elapsed else 0.0
    err.print(
        f"[bold]{stats.articles}[/bold] new articles, {stats.pages} pages, {stats.errors} errors "
        f"in {stats.elapsed:.1f}s ({rate:.1f} pages/s)" + "".join(f", {k}: {v}" for k, v in extra.items())
    )
    for name, s in stats.sources.items():
        if s.get("error_kinds"):
            err.print(f"  {name}: " + ", ".join(f"{k} ×{v}" for k, v in s["error_kinds"].items()))


def crawl_command(
    sources: Path | None = typer.Option(
        None, "--sources", "-s", help="Sources YAML (default: the shipped Russian list)."
    ),
    brands: Path | None = typer.Option(None, "--brands", "-b", help="Brand cards for the analysis (without --out)."),
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
    fast: bool = typer.Option(False, "--fast", help="No politeness delays (only for your own or the dev site)."),
    redis_url: str | None = typer.Option(
        None, "--redis-url", help="Share the queue through Redis (scrapy-redis) to scale out."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Live per-source table on stderr."),
) -> None:
    """Crawl feeds, sitemaps, site sections and Telegram channels; new articles go to --out or to the index."""
    try:
        source_list = load_sources(sources)
        settings = load_settings()
    except (SourcesError, ConfigError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    since_dt = parse_since(since)
    state_path = state or default_state_path(settings.home)
    base = CrawlOptions.fast() if fast else CrawlOptions()
    options = base.model_copy(
        update={
            "max_pages": max_pages,
            "extract_workers": workers,
            "max_size": max_size,
            "redis_url": redis_url,
            **({} if fast else {"delay": delay, "concurrency": concurrency, "timeout": timeout}),
        }
    )
    extra: dict[str, Any] = {}
    live = (
        Live(_table({s.name: {} for s in source_list}), console=err, refresh_per_second=4, transient=True)
        if progress
        else None
    )

    def on_progress(by_source: dict[str, dict[str, Any]]) -> None:
        if live is not None:
            live.update(_table(by_source))

    try:
        if live is not None:
            live.start()
        if out is not None:
            with JsonlSink(out) as sink:
                sink.reconcile(state_path)
                stats = crawl(
                    source_list, sink, options=options, state_path=state_path, since=since_dt, on_progress=on_progress
                )
            extra["out"] = str(out)
        else:
            stats, extra = _crawl_to_index(
                source_list, brands, settings, options, state_path, since_dt, on_progress, analysis_workers
            )
    except CrawlError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        if live is not None:
            live.stop()
    _summary(stats, extra)
    if as_json:
        typer.echo(json.dumps({**stats.to_dict(), **extra}, ensure_ascii=False, indent=2, default=str))
    if stats.sink_errors:
        err.print(
            f"[red]error:[/red] {stats.sink_errors} articles failed in the sink (analysis, indexing or --out; "
            "see the log above); they are not marked seen and will be fetched again next run"
        )
        raise typer.Exit(1)


def _crawl_to_index(source_list, brands, settings, options, state_path, since_dt, on_progress, analysis_workers=None):  # type: ignore[no-untyped-def]
    """No --out: analyse each article (nlp.analyzer) and index it (durable indexer.bulk.BulkWriter)."""
    if brands is None:
        err.print(
            "[red]error:[/red] pass --brands FILE (brand cards) to analyse and index, or --out FILE.jsonl to only crawl"
        )
        raise typer.Exit(2)
    try:
        return crawl_to_index(
            source_list, brands, settings, options, state_path, since_dt, on_progress, analysis_workers=analysis_workers
        )
    except ImportError as exc:
        err.print(f"[red]error:[/red] the analysis or index stage is not available ({exc}); use --out FILE.jsonl")
        raise typer.Exit(2) from exc


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
