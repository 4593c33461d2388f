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
from cli import es as _es  # noqa: E402

_es.register(app)
from cli import index as _index  # noqa: E402

_index.register(app)
from cli import search as _search; _search.register(app)  # noqa: E402,E702
from cli import report as _report; _report.register(app)  # noqa: E402,E702
from cli import outcomes as _outcomes; _outcomes.register(app)  # noqa: E402,E702
from cli import crawl as _crawl; _crawl.register(app)  # noqa: E402,E702
from cli import analyze as _analyze; _analyze.register(app)  # noqa: E402,E702
from cli import reanalyze as _reanalyze; _reanalyze.register(app)  # noqa: E402,E702
from cli import demo as _demo; _demo.register(app)  # noqa: E402,E702
from cli import alerts as _alerts; _alerts.register(app)  # noqa: E402,E702
