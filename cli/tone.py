"""`rezonans tone set|export`: correct the tone of an article towards a brand; export corrections as training data."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from cli.messages import say
from cli.search import TONE_WORDS
from rezonans.config import load_settings

err = Console(stderr=True, soft_wrap=True, highlight=False)
tone_app = typer.Typer(help="Tone corrections: set them, export them as labelled training data.", no_args_is_help=True)


@tone_app.command("set")
def set_command(
    article_id: str = typer.Argument(..., help="Article id (the `id` of `rezonans search --json`)."),
    brand: str = typer.Argument(..., help="Brand id, e.g. sberbank."),
    sentiment: str = typer.Argument(..., help="positive, neutral or negative."),
    mention: int = typer.Option(
        None, "--mention", help="Only the mention starting at this offset (default: the article)."
    ),
    placement: str = typer.Option(None, "--placement", help="With --mention: title, lead or body."),
    by: str = typer.Option(None, "--by", help="Who corrects (default: the login name)."),
) -> None:
    """Set the tone of ARTICLE_ID towards BRAND; reports, alerts and searches use it, and re-analysis keeps it."""
    from indexer.client import connect
    from pipeline.corrections import set_tone

    settings = load_settings()
    article = set_tone(
        connect(settings), settings, article_id, brand, sentiment.lower(), by or getpass.getuser(), mention, placement
    )
    tone = next((t.sentiment for t in article.brand_tone if t.brand == brand.lower()), sentiment)
    lang = settings.language
    word = TONE_WORDS["en" if lang == "en" else "ru"].get(tone, tone)
    err.print(say("tone.set", lang, id=article.id, brand=brand.lower(), tone=word))


@tone_app.command("export")
def export_command(
    out: Path = typer.Option(None, "--out", "-o", help="Write JSON lines here instead of stdout."),
) -> None:
    """Every correction as a labelled JSON line (label, previous, brand, mention spans, title/lead/text, by, at)."""
    from indexer.client import connect
    from pipeline.corrections import export_corrections

    settings = load_settings()
    rows = export_corrections(connect(settings), settings)
    count = 0
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out:
            stream.close()
    lang = settings.language
    err.print(say("tone.exported", lang, count=count, where=say("tone.to", lang, path=out) if out else ""))


def register(app: typer.Typer) -> None:
    """Add `tone` to the main app."""
    app.add_typer(tone_app, name="tone")
