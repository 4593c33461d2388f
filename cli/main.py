"""The `rezonans` command: registers each command group from its own module."""

from __future__ import annotations

import logging
import os

import typer

from rezonans import __version__

app = typer.Typer(
    name="rezonans",
    help="Rezonans: media monitoring and brand-mention tracking for Russian-speaking PR teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    """Print the version and exit."""
    if value:
        typer.echo(f"rezonans {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages to stderr."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Crawl → analyse → index → search, report and alert on brand mentions."""
    level = logging.DEBUG if verbose else getattr(logging, os.environ.get("REZONANS_LOG", "WARNING").upper(), 30)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# Command groups, in data-flow order. Each module exposes `register(app)`.
from cli import (  # noqa: E402
    alerts,
    analyze,
    crawl,
    demo,
    es,
    index,
    outcomes,
    reanalyze,
    report,
    search,
)

for _group in (demo, es, crawl, analyze, index, reanalyze, search, report, outcomes, alerts):
    _group.register(app)
