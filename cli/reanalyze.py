"""`rezonans reanalyze --brand ID`: run the NLP stage again over stored articles (history for a new brand)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from cli.messages import say
from rezonans.config import load_settings
from rezonans.errors import UserError

err = Console(stderr=True, soft_wrap=True, highlight=False)


def reanalyze_command(
    brand: str = typer.Option(None, "--brand", "-b", help="Brand id whose history to build (articles naming it)."),
    brands_file: Path = typer.Option(None, "--brands", help="Brand cards (default: $REZONANS_BRANDS)."),
    date_from: str = typer.Option(None, "--from", help="First day YYYY-MM-DD or DD.MM.YYYY."),
    date_to: str = typer.Option(None, "--to", help="Last day YYYY-MM-DD or DD.MM.YYYY, inclusive."),
    everything: bool = typer.Option(
        False, "--all", help="Re-analyse every article in the dates, not just candidates.", metavar=""
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.", metavar=""),
    tone: str = typer.Option(
        None, "--tone", help="Tone model: fast (linear) or transformer; default: the tone setting."
    ),
) -> None:
    """Re-run mention finding, tone and context over stored articles and write them back in place."""
    from indexer.client import connect
    from pipeline.reanalyze import ReanalyzeStats, reanalyze
    from report.periods import day_bound
    from rezonans.brands import BrandError

    if not brand and not everything:
        raise UserError("give --brand ID (articles that may name it) or --all")
    from nlp import tone as tone_model
    from nlp.analyzer import Analyzer
    from nlp.threads import single_threaded_blas

    settings = load_settings(tone=tone)
    tone_model.configure(settings.tone)
    single_threaded_blas()
    lang = settings.language
    start, end = day_bound(date_from, "--from"), day_bound(date_to, "--to", end=True)
    cards = brands_file or settings.brands
    if cards is None:
        raise BrandError("no brand cards: pass --brands FILE or set REZONANS_BRANDS")
    analyzer = Analyzer.from_file(cards)
    who = brand or say("reanalyze.any_brand", lang)

    def show(stats: ReanalyzeStats) -> None:
        err.print(say("reanalyze.progress", lang, scanned=stats.scanned, after=stats.with_brand_after, brand=who))

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
    typer.echo(
        say(
            "reanalyze.done",
            lang,
            scanned=stats.scanned,
            written=stats.written,
            failed=stats.failed,
            spooled=stats.spooled,
        )
    )
    if brand:
        typer.echo(
            say(
                "reanalyze.brand",
                lang,
                brand=brand,
                before=stats.with_brand_before,
                after=stats.with_brand_after,
                mentions=stats.mentions_after,
            )
        )


def register(app: typer.Typer) -> None:
    """Add `reanalyze` to the main app."""
    app.command("reanalyze")(reanalyze_command)
