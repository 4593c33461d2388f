"""`rezonans report --brand ВТБ --week 2026-W47`: the publicity report as Markdown, HTML, PDF, XLSX or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from cli.messages import say
from report.periods import DEFAULT_TZ
from rezonans.config import load_settings
from rezonans.errors import UserError

err = Console(stderr=True, soft_wrap=True, highlight=False)
FORMATS = ("md", "html", "pdf", "xlsx", "json")


def default_path(rep: dict[str, Any], fmt: str) -> Path:
    """report-BRAND-PERIOD.EXT in the current folder."""
    return Path(f"report-{rep['brand']}-{rep['period'].replace('..', '_')}.{fmt}")


def write_report(
    rep: dict[str, Any], fmt: str, out: Path | None, language: str = "ru"
) -> tuple[str | None, Path | None]:
    """Render a report: (text, None) for md/json without --out, else (None, the file written)."""
    from report.render import to_html, to_markdown, to_pdf, to_xlsx

    if out is not None and not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist: create it first or choose another --out")
    if fmt in ("xlsx", "pdf", "html"):
        path = out or default_path(rep, fmt)
        if fmt == "xlsx":
            to_xlsx(rep, path, language)
        elif fmt == "pdf":
            to_pdf(rep, path, language)
        else:
            path.write_text(to_html(rep, language), encoding="utf-8")
        return None, path
    text = to_markdown(rep, language) if fmt == "md" else json.dumps(rep, ensure_ascii=False, indent=2)
    if out is None:
        return text, None
    out.write_text(text, encoding="utf-8")
    return None, out


def report_command(
    brand: str = typer.Option(..., "--brand", "-b", help="Brand: id, display name or alias (e.g. sberbank, ВТБ)."),
    week: str = typer.Option(None, help="ISO week, e.g. 2026-W47 (default: last full week)."),
    month: str = typer.Option(None, help="Calendar month, e.g. 2026-11."),
    date_from: str = typer.Option(None, "--from", help="First day YYYY-MM-DD or DD.MM.YYYY (with --to)."),
    date_to: str = typer.Option(None, "--to", help="Last day YYYY-MM-DD or DD.MM.YYYY, inclusive."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, html, pdf (A4), xlsx or json."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (html/pdf/xlsx default to report-BRAND-PERIOD.*)."),
    brands_file: Path = typer.Option(
        None, "--brands", help="Brand cards: names, competitors, own channels (default: $REZONANS_BRANDS)."
    ),
    competitor: list[str] = typer.Option(
        [], "--competitor", "-c", help="Competitor (id, name or alias) instead of the card's (repeatable)."
    ),
    own_channel: list[str] = typer.Option(
        [], "--own-channel", help="The brand's own Telegram channel, as its source name (repeatable)."
    ),
    tz: str = typer.Option(DEFAULT_TZ, help="Time zone of days and weeks."),
) -> None:
    """Weekly (or monthly) publicity report: volume, stories, tone, publicity index, sources, stories, share of
    voice, negatives, promo codes, own channels and outcomes, each against the previous period."""
    from indexer.client import connect
    from report.build import build_report, resolve_scope
    from report.periods import resolve

    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}")
    settings = load_settings()
    lang = settings.language
    period = resolve(week, month, date_from, date_to, tz)
    cards = brands_file or settings.brands
    client = connect(settings)
    scope = resolve_scope(client, settings, brand, cards, competitor or None, own_channel or None)
    if cards is None:
        err.print(f"[yellow]{escape(say('report.no_cards', lang))}[/yellow]")
    else:
        err.print(escape(say("report.cards", lang, path=cards)))
    rep = build_report(client, settings, scope, period)
    text, path = write_report(rep, fmt, out, lang)
    if text is not None:
        typer.echo(text)
    else:
        err.print(escape(say("report.written", lang, fmt=fmt.upper(), path=path)))


def register(app: typer.Typer) -> None:
    """Add `report` to the main app."""
    app.command("report")(report_command)
