"""`rezonans outcomes import FILE.csv`: promo-code redemptions or survey figures for the report."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from cli.messages import MESSAGES, say
from rezonans.config import load_settings
from rezonans.errors import UserError

outcomes_app = typer.Typer(
    help="Real outcomes (promo-code redemptions, survey figures) beside publicity.", no_args_is_help=True
)
err = Console(stderr=True, soft_wrap=True, highlight=False)


@outcomes_app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., help="CSV: code,date,amount,channel (redemptions) or date,metric,value (surveys)."
    ),
    brand: str = typer.Option(None, "--brand", "-b", help="Brand (id, name or alias) for rows without a brand column."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.", metavar=""),
) -> None:
    """Validate and store a CSV (idempotent: importing it again changes nothing); bad rows are listed by line."""
    from indexer.client import connect
    from report.outcomes import import_file, outcomes_index
    from search.vocabulary import load_vocabulary

    settings = load_settings()
    client = connect(settings)
    if brand:  # an id, name or alias; a typo would file the rows under a brand nobody reports on
        brand = load_vocabulary(client, settings, settings.brands).brand(brand)
    parsed = import_file(client, settings, file, brand=brand)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "kind": parsed.kind,
                    "imported": len(parsed.rows),
                    "index": outcomes_index(settings),
                    "bad_rows": [{"line": b.line, "reason": b.reason} for b in parsed.bad],
                },
                ensure_ascii=False,
            )
        )
    else:
        lang = settings.language
        kind = say(f"outcomes.kind.{parsed.kind}", lang) if f"outcomes.kind.{parsed.kind}" in MESSAGES else parsed.kind
        typer.echo(
            say(
                "outcomes.imported",
                lang,
                file=file,
                kind=kind,
                rows=len(parsed.rows),
                index=outcomes_index(settings),
                bad=len(parsed.bad),
            )
        )
        for bad in parsed.bad:
            err.print(escape(say("outcomes.bad_line", lang, line=bad.line, reason=bad.reason)))
    if parsed.bad and not parsed.rows:
        raise UserError(f"{file}: no row could be imported ({len(parsed.bad)} refused, reasons above)")


def register(app: typer.Typer) -> None:
    """Add the `outcomes` group to the main app."""
    app.add_typer(outcomes_app, name="outcomes")
