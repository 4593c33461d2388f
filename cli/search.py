"""`rezonans search QUERY`: the query language over indexed articles, as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO

import typer
from elasticsearch import Elasticsearch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from indexer.client import connect
from report.periods import day_bound
from rezonans.config import Settings, load_settings
from rezonans.errors import UserError
from search.engine import SearchRequest, export, search
from search.saved import build_request, resolve_saved

err = Console(stderr=True)
CSV_FIELDS = [
    "published_at",
    "source",
    "source_type",
    "title",
    "url",
    "brands",
    "tone",
    "cluster",
    "story_size",
    "reprints",
    "snippet",
    "id",
]


def _marked(snippet: str, spans: list[tuple[int, int]]) -> str:
    """Rich markup with highlighted matches."""
    out, last = [], 0
    for s, e in spans:
        out.append(escape(snippet[last:s]))
        out.append(f"[bold yellow]{escape(snippet[s:e])}[/bold yellow]")
        last = e
    out.append(escape(snippet[last:]))
    return "".join(out)


def search_command(
    query: str = typer.Argument(
        None, help="e.g. 'ставки AND brand:sberbank NOT sentiment:negative' or '\"ключевая ставка\"'"
    ),
    date_from: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD (Moscow time)."),
    date_to: str = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (inclusive)."),
    brand: list[str] = typer.Option([], "--brand", "-b", help="Only articles mentioning this brand (repeatable)."),
    sort: str = typer.Option("date", help="date (newest first) or relevance."),
    page: int = typer.Option(1, help="Page number (table output)."),
    size: int = typer.Option(20, help="Results per page (table output)."),
    as_json: bool = typer.Option(False, "--json", help="Export ALL results as JSON lines (no 10,000 cap)."),
    as_csv: bool = typer.Option(False, "--csv", help="Export ALL results as CSV (no 10,000 cap)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the export to this file instead of stdout."),
    saved: str = typer.Option(
        None, "--saved", help="Run a saved search (query and filters) by name; options add to it."
    ),
) -> None:
    """Search articles. Words match all their forms, "quoted phrases" match exactly; AND OR NOT ( ) and
    fields brand: source: sentiment: type: promo: title: cluster: (see docs/report.md)."""
    if sort not in ("date", "relevance"):
        raise UserError("--sort must be date or relevance")
    settings = load_settings()
    if saved:
        request = _saved_request(settings, saved, query, date_from, date_to, brand, sort)
    elif not query:
        raise UserError("give a QUERY or --saved NAME")
    else:
        request = SearchRequest(
            query=query,
            date_from=day_bound(date_from, "--from"),
            date_to=day_bound(date_to, "--to", end=True),
            brands=[b.lower() for b in brand],
            sort="date" if sort == "date" else "relevance",
        )
    request.body_query()  # syntax errors before any connection
    client = connect(settings)
    if as_json or as_csv:
        if out:
            with out.open("w", encoding="utf-8", newline="") as stream:
                count = _export(client, settings, request, stream, as_csv)
            err.print(f"exported {count} results to {out}")
        else:
            _export(client, settings, request, sys.stdout, as_csv)
        return
    result = search(client, settings, request, page=page, size=size)
    pages = max(1, -(-result.total // size))
    table = Table(
        title=f"{result.total} results, page {result.page} of {pages} ({result.took_ms} ms)",
        show_lines=True,
        expand=True,
    )
    table.add_column("date", no_wrap=True, ratio=1)
    table.add_column("source", ratio=1)
    table.add_column("tone", ratio=1)
    table.add_column("article", ratio=5)
    table.add_column("reprints", justify="right")
    for hit in result.hits:
        tone = ", ".join(f"{b}: {t}" for b, t in hit.tone.items()) or "—"
        body = f"[bold]{escape(hit.title)}[/bold]\n{_marked(hit.snippet, hit.highlights)}\n[dim]{escape(hit.url)}[/dim]"
        table.add_row(
            (hit.published_at or "")[:16].replace("T", " "), escape(hit.source), escape(tone), body, str(hit.reprints)
        )
    Console().print(table)


def _saved_request(
    settings: Settings,
    name: str,
    query: str | None,
    date_from: str | None,
    date_to: str | None,
    brand: list[str],
    sort: str,
) -> SearchRequest:
    """A saved search's query and filters (search.saved); a QUERY, --from/--to, --brand or --sort given here add to them."""
    saved = resolve_saved(connect(settings), settings, name)
    filters = saved.filters
    filters.brands = list(dict.fromkeys(filters.brands + [b.lower() for b in brand]))
    filters.date_from = date_from or filters.date_from
    filters.date_to = date_to or filters.date_to
    if sort != "date":
        filters.sort = sort
    text = (
        f"({saved.query}) AND ({query})" if query and saved.query.strip() not in ("", "*") else (query or saved.query)
    )
    return build_request(
        text,
        filters,
        day_bound(filters.date_from or None, "--from"),
        day_bound(filters.date_to or None, "--to", end=True),
    )


def _export(client: Elasticsearch, settings: Settings, request: SearchRequest, stream: IO[str], as_csv: bool) -> int:
    """Stream every hit as CSV or JSON lines; returns the count."""
    count = 0
    writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, extrasaction="ignore") if as_csv else None
    if writer:
        writer.writeheader()
    for hit in export(client, settings, request):
        row = hit.as_dict()
        if writer:
            row["brands"] = " ".join(row["brands"])
            row["tone"] = " ".join(f"{b}:{t}" for b, t in row["tone"].items())
            writer.writerow(row)
        else:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    stream.flush()
    return count


def register(app: typer.Typer) -> None:
    """Add `search` to the main app."""
    app.command("search")(search_command)
