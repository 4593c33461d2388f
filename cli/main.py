"""The `rezonans` command: registers each command group and turns every library error into one line and an exit code."""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from rezonans import __version__
from rezonans.config import ConfigError, load_settings
from rezonans.errors import RezonansError

err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, code: int) -> None:
    """Print `error: message` on stderr and exit with `code` (the one place the CLI reports a failure)."""
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def _os_message(exc: OSError) -> str:
    """An operating-system error as a sentence with the path and a hint."""
    where = f" {exc.filename}" if exc.filename else ""
    if isinstance(exc, PermissionError):
        return (
            f"permission denied:{where}: check the folder's owner and mode (or set REZONANS_HOME to a folder you own)"
        )
    if isinstance(exc, IsADirectoryError | NotADirectoryError | FileNotFoundError):
        return f"{exc.strerror}:{where}: check the path"
    return f"{exc.strerror or exc}:{where}"


def _client_error(exc: BaseException) -> bool:
    """An Elasticsearch client error (the client is imported by the commands that use it, not at start-up:
    when it was never imported, this cannot be one of its errors)."""
    es = sys.modules.get("elasticsearch")
    return es is not None and isinstance(exc, es.ApiError | es.TransportError)


class RezonansGroup(TyperGroup):
    """The root command group: library errors (rezonans.errors) become `error: …` and exit 2 (user) or 1 (runtime)."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map errors to one line and an exit code."""
        try:
            return super().invoke(ctx)
        except RezonansError as exc:
            fail(exc.display(), exc.exit_code)
        except Exception as exc:
            if _client_error(exc):  # a client call no library function wrapped: same translation
                from indexer.client import translate

                translated = translate(exc)
                fail(translated.display(), translated.exit_code)
            if isinstance(exc, OSError):  # disk full, read-only or foreign REZONANS_HOME, a file for a folder
                fail(_os_message(exc), 1)
            raise
        except KeyboardInterrupt:
            fail("interrupted", 130)


app = typer.Typer(
    name="rezonans",
    cls=RezonansGroup,
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


def _log_level(verbose: bool) -> int:
    """DEBUG with --verbose, else the `log` setting (REZONANS_LOG); a bad config is reported by the command."""
    if verbose:
        return logging.DEBUG
    try:
        return getattr(logging, load_settings().log, logging.WARNING)
    except ConfigError:
        return logging.WARNING


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages to stderr."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Crawl → analyse → index → search, report and alert on brand mentions."""
    level = _log_level(verbose)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # The client logs each retry with a traceback; our own error line says what failed and how to fix it.
        logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
        logging.getLogger("elasticsearch").setLevel(logging.CRITICAL)


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
    serve,
    tone,
)

for _group in (demo, es, crawl, analyze, index, reanalyze, search, report, outcomes, alerts, tone, serve):
    _group.register(app)


if __name__ == "__main__":
    app()
