"""`rezonans index ...`: load JSONL, replay the spool, list, export, retention and mapping migration."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.messages import say
from rezonans.config import Settings, load_settings
from rezonans.errors import ServiceError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

index_app = typer.Typer(help="Store articles in Elasticsearch and look after the indices.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    """The settings in use."""
    return load_settings()


def _client(settings: Settings) -> Elasticsearch:
    """A connected client (ESUnavailable says how to start the server)."""
    from indexer.client import connect, wait_for_health

    client = connect(settings)
    wait_for_health(client, timeout=10)
    return client


def _emit(data: dict, as_json: bool, human: str) -> None:
    """Print JSON or a human line."""
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else human)


@index_app.command()
def init() -> None:
    """Install the index templates (done automatically by the first write too)."""
    from indexer.store import ensure_templates

    settings = _settings()
    ensure_templates(_client(settings), settings)
    typer.echo(say("index.ready", settings.language, prefix=settings.index_prefix))


@index_app.command()
def load(
    file: Path = typer.Argument(Path("-"), help="JSONL of (analysed) articles; '-' reads standard input."),
    refresh: bool = typer.Option(False, help="Make the documents searchable before returning."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Index articles from JSONL; when the server is down they are spooled for `rezonans index replay`."""
    from indexer.bulk import BulkWriter
    from pipeline.corrections import keep_corrections
    from rezonans.jsonl import BadLine, read_articles

    settings = _settings()
    errors: list[BadLine] = []
    stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    with stream:
        with BulkWriter(settings, refresh=refresh) as writer:
            writer.before_send = keep_corrections(writer.client, settings)  # a stored article keeps analysts' tone
            for article in read_articles(stream, errors):
                writer.add(article)
    stats = writer.stats.as_dict() | {"bad_lines": len(errors)}
    for bad in errors[:20]:
        err.print(f"[yellow]{escape(say('index.skipped', settings.language, line=bad))}[/yellow]")
    _emit(
        stats,
        as_json,
        say(
            "index.loaded",
            settings.language,
            indexed=stats["indexed"],
            spooled=stats["spooled"],
            rejected=stats["rejected"],
            bad=len(errors),
        ),
    )
    if stats["spooled"]:
        err.print(f"[yellow]{escape(say('index.unreachable', settings.language))}[/yellow]")


@index_app.command()
def replay(as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")) -> None:
    """Send documents spooled while Elasticsearch was unreachable (nothing lost, nothing duplicated)."""
    from indexer.bulk import replay as replay_spool
    from pipeline.corrections import keep_corrections

    settings = _settings()
    client = _client(settings)
    stats = replay_spool(settings, client, before_send=keep_corrections(client, settings))
    _emit(
        stats.as_dict(),
        as_json,
        say(
            "index.replayed",
            settings.language,
            indexed=stats.indexed,
            spooled=stats.spooled,
            rejected=stats.rejected,
        ),
    )
    if stats.spooled:
        raise ServiceError(
            f"{stats.spooled} documents are still waiting in the spool: run `rezonans index replay` again "
            "once Elasticsearch takes writes"
        )


@index_app.command("list")
def list_indices(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Monthly article indices with mapping version and article counts."""
    from indexer.store import article_indices

    settings = _settings()
    rows = article_indices(_client(settings), settings)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("index", "version", "month", "articles", "size")
    for row in rows:
        table.add_row(row["index"], str(row["version"]), row["month"], str(row["docs"]), str(row["size"]))
    Console().print(table)


@index_app.command()
def export(out: Path = typer.Option(Path("-"), "--out", help="JSONL file; '-' is standard output.")) -> None:
    """Write every stored article as JSONL (the same model the other stages read)."""
    from indexer.store import scan_articles
    from rezonans.jsonl import write_articles

    settings = _settings()
    client = _client(settings)
    stream = sys.stdout if str(out) == "-" else out.open("w", encoding="utf-8")
    count = write_articles((article for _, article in scan_articles(client, settings)), stream)
    if stream is not sys.stdout:
        stream.close()
    err.print(say("index.exported", settings.language, count=count))


@index_app.command()
def retention(
    keep_months: int = typer.Option(..., min=1, help="Keep this many months, the current one included."),
    dry_run: bool = typer.Option(False, help="Only say which indices would go."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Drop whole monthly indices older than --keep-months (no delete-by-query needed)."""
    from indexer.store import drop_older_than

    settings = _settings()
    dropped = drop_older_than(_client(settings), settings, keep_months, dry_run=dry_run)
    lang = settings.language
    names = ", ".join(dropped) or say("index.nothing", lang)
    _emit(
        {"dropped": dropped, "dry_run": dry_run},
        as_json,
        say("index.would_drop" if dry_run else "index.dropped", lang, names=names),
    )


@index_app.command()
def migrate(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Move indices of older mapping versions to the current one (scroll + bulk, then an alias swap)."""
    from indexer.store import migrate as migrate_indices

    settings = _settings()
    moved = migrate_indices(_client(settings), settings)
    lang = settings.language
    lines = [say("index.moved", lang, index=k, count=v) for k, v in moved.items()]
    _emit(moved, as_json, "\n".join(lines) or say("index.nothing_to_migrate", lang))


def register(app: typer.Typer) -> None:
    """Add the `index` group to the main app."""
    app.add_typer(index_app, name="index")
