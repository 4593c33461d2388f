"""`rezonans demo`: the whole pipeline on the bundled dev news site, ending with the weekly report."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.demo import DEMO_NOW, DEMO_PREFIX, DEMO_WEEK, run_demo_pipeline
from report.aggs import ReportScope
from report.demo import report_demo

err = Console(stderr=True)


def demo_command(
    brand: str = typer.Option("sberbank", "--brand", "-b", help="Brand to report on."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML report file."),
    xlsx: Path = typer.Option(Path("report.xlsx"), "--xlsx", help="XLSX report file."),
    articles: int = typer.Option(400, help="Articles on the dev site."),
    prefix: str = typer.Option(DEMO_PREFIX, help="Index prefix for the demo (its indices are recreated)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report figures as JSON instead of Markdown."),
) -> None:
    """Start Elasticsearch, serve a realistic Russian news site on 127.0.0.1, crawl, analyse, index and print
    the weekly report for 2026-W47 (Markdown here, HTML and XLSX in files)."""
    say = lambda s: err.print(escape(s), highlight=False)  # noqa: E731
    data = run_demo_pipeline(brand=brand.lower(), articles=articles, prefix=prefix, say=say)
    scope = ReportScope(
        brand=data.card.id,
        competitors=list(data.card.competitors),
        own_channels=[data.channel] if data.channel else [],
    )
    result = report_demo(data.settings, scope, data.promo_days, DEMO_WEEK, DEMO_NOW, out_html=out, out_xlsx=xlsx)
    if as_json:
        typer.echo(json.dumps(result.report, ensure_ascii=False, indent=2))
    else:
        typer.echo(result.markdown)
    err.print(
        f"written: {', '.join(result.files)}; search it with "
        f"REZONANS_INDEX_PREFIX={prefix} rezonans search 'brand:{brand} sentiment:negative'",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add `demo` to the main app."""
    app.command("demo")(demo_command)
