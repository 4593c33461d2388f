"""`rezonans es install|start|stop|status`: the local Elasticsearch server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.messages import say
from rezonans.config import load_settings

if TYPE_CHECKING:
    from indexer.server import LocalServer

es_app = typer.Typer(help="Manage the local Elasticsearch server (or check an external one).", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def _server(port: int | None = None) -> LocalServer:
    """The local server for the current settings."""
    from indexer.server import LocalServer

    return LocalServer(load_settings(), port=port)


@es_app.command()
def install() -> None:
    """Fetch Elasticsearch with mvn (cached) and unpack it for the local server."""
    server = _server()
    home = server.install()
    typer.echo(say("es.installed", server.settings.language, name=home.name, path=home))


@es_app.command()
def start(
    wait: float = typer.Option(180.0, help="Seconds to wait for the server to become healthy."),
    nodes: int = typer.Option(1, "--nodes", min=1, help="Start a local cluster of this many nodes (ports es_port…)."),
) -> None:
    """Start the local server on 127.0.0.1 (installing it first if needed) and wait until it is healthy."""
    from indexer.server import LocalCluster

    if nodes > 1:
        cluster = LocalCluster(load_settings(), nodes=nodes)
        seconds = cluster.start(wait=wait)
        urls = ",".join(cluster.urls)
        lang = load_settings().language
        typer.echo(say("es.cluster_up", lang, nodes=nodes, urls=urls, seconds=f"{seconds:.1f}"))
        typer.echo(say("es.cluster_use", lang, env=f"REZONANS_ES_URL={urls} REZONANS_ES_REPLICAS=1"))
        return
    server = _server()
    seconds = server.start(wait=wait)
    lang = server.settings.language
    if seconds:
        typer.echo(say("es.up", lang, url=server.url, seconds=f"{seconds:.1f}"))
    else:
        typer.echo(say("es.running", lang, url=server.url))


@es_app.command()
def stop(nodes: int = typer.Option(1, "--nodes", min=1, help="Stop the local cluster of this many nodes.")) -> None:
    """Stop the local server (or cluster)."""
    from indexer.server import LocalCluster

    if nodes > 1:
        lang = load_settings().language
        count = LocalCluster(load_settings(), nodes=nodes).stop()
        typer.echo(say("es.stopped_nodes", lang, count=count) if count else say("es.not_running", lang))
        return
    server = _server()
    lang = server.settings.language
    typer.echo(say("es.stopped", lang) if server.stop() else say("es.not_running", lang))


@es_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show version, health and the Rezonans indices with document counts."""
    from indexer.status import cluster_status

    info = cluster_status(load_settings())
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    typer.echo(f"url:     {info['url']}")
    typer.echo(f"version: {info['version']}")
    typer.echo(f"health:  {info['health']} ({info['nodes']} node(s))")
    table = Table("index", "docs", "size", "health")
    for row in info["indices"]:
        table.add_row(row["index"], str(row["docs"]), str(row["size"]), str(row["health"]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the `es` group to the main app."""
    app.add_typer(es_app, name="es")
