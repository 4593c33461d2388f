"""`rezonans demo`: the whole pipeline on the bundled dev news site, ending with the weekly report."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from cli.messages import say
from pipeline.demo import DEMO_PREFIX
from rezonans.config import load_settings

err = Console(stderr=True, soft_wrap=True)


def demo_command(
    brand: str = typer.Option("sberbank", "--brand", "-b", help="Brand to report on."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML report file."),
    xlsx: Path = typer.Option(Path("report.xlsx"), "--xlsx", help="XLSX report file."),
    pdf: Path = typer.Option(None, "--pdf", help="Also write the report as an A4 PDF to this file."),
    articles: int = typer.Option(400, help="Articles on the dev site."),
    prefix: str = typer.Option(DEMO_PREFIX, help="Index prefix for the demo (its indices are recreated)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report figures as JSON instead of Markdown.", metavar=""
    ),
) -> None:
    """Start Elasticsearch, serve a realistic Russian news site on 127.0.0.1, crawl, analyse, index and print
    the weekly report for 2026-W47 (Markdown here, HTML and XLSX in files). The demo alone uses the example brand
    cards shipped with Rezonans."""
    from pipeline.demo import DEMO_NOW, DEMO_WEEK, run_demo_pipeline
    from report.aggs import ReportScope
    from report.demo import report_demo
    from rezonans.brands import EXAMPLE_BRANDS, load_brands

    lang = load_settings().language
    tell = lambda s: err.print(escape(s), highlight=False)  # noqa: E731
    data = run_demo_pipeline(brand=brand.lower(), articles=articles, prefix=prefix, say=tell)
    scope = ReportScope(
        brand=data.card.id,
        competitors=list(data.card.competitors),
        own_channels=[data.channel] if data.channel else [],
        names={card.id: card.name for card in load_brands(EXAMPLE_BRANDS).brands},
    )
    result = report_demo(
        data.settings,
        scope,
        data.promo_days,
        DEMO_WEEK,
        DEMO_NOW,
        out_html=out,
        out_xlsx=xlsx,
        out_pdf=pdf,
        language=lang,
    )
    if as_json:
        typer.echo(json.dumps(result.report, ensure_ascii=False, indent=2))
    else:
        typer.echo(result.markdown)
    err.print(
        escape(
            say(
                "demo.written",
                lang,
                files=", ".join(result.files),
                prefix=prefix,
                query=f"brand:{brand} sentiment:negative",
            )
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add `demo` to the main app."""
    app.command("demo")(demo_command)
