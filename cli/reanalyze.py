"""`rezonans reanalyze --brand ID`: run the NLP stage again over stored articles (history for a new brand)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from indexer.client import connect
from pipeline.reanalyze import ReanalyzeStats, reanalyze
from report.periods import day_bound
from rezonans.config import load_settings
from rezonans.errors import UserError

err = Console(stderr=True)


def reanalyze_command(
    brand: str = typer.Option(None, "--brand", "-b", help="Brand id whose history to build (articles naming it)."),
    brands_file: Path = typer.Option(None, "--brands", help="Brand cards (default: $REZONANS_BRANDS or the example)."),
    date_from: str = typer.Option(None, "--from", help="First day YYYY-MM-DD."),
    date_to: str = typer.Option(None, "--to", help="Last day YYYY-MM-DD, inclusive."),
    everything: bool = typer.Option(False, "--all", help="Re-analyse every article in the dates, not just candidates."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Re-run mention finding, tone and context over stored articles and write them back in place."""
    if not brand and not everything:
        raise UserError("give --brand ID (articles that may name it) or --all")
    from nlp.analyzer import Analyzer

    settings = load_settings()
    start, end = day_bound(date_from, "--from"), day_bound(date_to, "--to", end=True)
    analyzer = Analyzer.from_file(brands_file or settings.brands)

    def show(stats: ReanalyzeStats) -> None:
        err.print(
            f"  re-analysed {stats.scanned} articles, {stats.with_brand_after} now mention {brand or 'a brand'}",
            highlight=False,
        )

    stats = reanalyze(
        connect(settings),
        settings,
        analyzer,
        brand=brand.lower() if brand else None,
        date_from=start,
        date_to=end,
        everything=everything,
        progress=None if as_json else show,
    )
    if as_json:
        typer.echo(json.dumps(stats.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"scanned {stats.scanned}, written {stats.written}, failed {stats.failed}, spooled {stats.spooled}")
    if brand:
        typer.echo(
            f"{brand}: {stats.with_brand_before} articles before, {stats.with_brand_after} after "
            f"({stats.mentions_after} mentions)"
        )


def register(app: typer.Typer) -> None:
    """Add `reanalyze` to the main app."""
    app.command("reanalyze")(reanalyze_command)
