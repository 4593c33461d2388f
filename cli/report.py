"""`rezonans report --brand ID --week 2026-W47`: the publicity report as Markdown, HTML, XLSX or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from indexer.client import connect
from report.brands import default_cards_path
from report.build import ReportError, build_report, scope_for
from report.periods import DEFAULT_TZ, resolve
from report.render import to_html, to_markdown, to_xlsx
from rezonans.config import load_settings
from rezonans.errors import UserError

err = Console(stderr=True)


def write_report(rep: dict, fmt: str, out: Path | None) -> str | None:
    """Render and write (or return the text of) a report; md/json go to stdout without --out."""
    if fmt == "xlsx":
        path = out or Path(f"report-{rep['brand']}-{rep['period'].replace('..', '_')}.xlsx")
        to_xlsx(rep, path)
        return None
    text = {"md": to_markdown, "html": to_html}.get(fmt, lambda r: json.dumps(r, ensure_ascii=False, indent=2))(rep)
    if out is None and fmt == "html":
        out = Path(f"report-{rep['brand']}-{rep['period'].replace('..', '_')}.html")
    if out is None:
        return text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return None


def report_command(
    brand: str = typer.Option(..., "--brand", "-b", help="Brand id from the brand cards, e.g. sberbank."),
    week: str = typer.Option(None, help="ISO week, e.g. 2026-W47 (default: last full week)."),
    month: str = typer.Option(None, help="Calendar month, e.g. 2026-11."),
    date_from: str = typer.Option(None, "--from", help="First day YYYY-MM-DD (with --to)."),
    date_to: str = typer.Option(None, "--to", help="Last day YYYY-MM-DD, inclusive."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, html, xlsx or json."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (html/xlsx default to report-BRAND-PERIOD.*)."),
    brands_file: Path = typer.Option(None, "--brands", help="Brand cards (competitors); default: the NLP stage's."),
    competitor: list[str] = typer.Option(
        [], "--competitor", "-c", help="Override the card's competitors (repeatable)."
    ),
    own_channel: list[str] = typer.Option(
        [], "--own-channel", help="The brand's own Telegram channel name (repeatable)."
    ),
    tz: str = typer.Option(DEFAULT_TZ, help="Time zone of days and weeks."),
) -> None:
    """Weekly (or monthly) publicity report: volume, stories, tone, publicity index, sources, stories, share of
    voice, negatives, promo codes, own channels and outcomes, each against the previous period."""
    if fmt not in ("md", "html", "xlsx", "json"):
        raise UserError("--format must be md, html, xlsx or json")
    settings = load_settings()
    period = resolve(week, month, date_from, date_to, tz)
    cards = brands_file or default_cards_path(settings.brands)
    try:
        scope = scope_for(brand.lower(), cards, competitor or None, own_channel or None)
    except ReportError:
        if brands_file:
            raise
        scope = scope_for(brand.lower(), None, competitor or None, own_channel or None)
    rep = build_report(connect(settings), settings, scope, period)
    text = write_report(rep, fmt, out)
    if text is not None:
        typer.echo(text)
    else:
        err.print(f"report written ({fmt})" + (f" to {out}" if out else ""))


def register(app: typer.Typer) -> None:
    """Add `report` to the main app."""
    app.command("report")(report_command)
