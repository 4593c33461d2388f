"""`rezonans serve`: the web workspace for PR staff (mention feed, tone corrections, reports, alerts, JSON API)."""

from __future__ import annotations

import sys

import typer

from rezonans.config import load_settings


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to bind; anything but loopback needs web_users in the config."),
    port: int = typer.Option(8080, help="TCP port."),
    hash_password: bool = typer.Option(
        False, "--hash-password", help="Read a password (prompt or stdin) and print its hash for web_users; no server."
    ),
) -> None:
    """Serve the web workspace: feed, saved searches, tone corrections, reports, alerts and /api/."""
    from web.auth import hash_password as make_hash

    if hash_password:
        password = (
            typer.prompt("password", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        )
        typer.echo(make_hash(password))
        return
    from web.server import serve

    settings = load_settings()
    typer.echo(f"Rezonans: http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve(settings, host, port)


def register(app: typer.Typer) -> None:
    """Add `serve` to the main app."""
    app.command("serve")(serve_command)
