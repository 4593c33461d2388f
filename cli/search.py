"""`rezonans search QUERY`: the query language over indexed articles, as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.messages import plural_word, say
from rezonans.config import Settings, load_settings
from rezonans.errors import UserError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from search.engine import Hit, SearchRequest
    from search.query import Node
    from search.vocabulary import Vocabulary

err = Console(stderr=True, soft_wrap=True, highlight=False)
TONE_WORDS = {
    "ru": {"positive": "позитив", "neutral": "нейтрально", "negative": "негатив"},
    "en": {"positive": "positive", "neutral": "neutral", "negative": "negative"},
}


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
    date_from: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD or DD.MM.YYYY (Moscow time)."),
    date_to: str = typer.Option(None, "--to", help="Last day, YYYY-MM-DD or DD.MM.YYYY (inclusive)."),
    brand: list[str] = typer.Option(
        [], "--brand", "-b", help="Only articles mentioning this brand: id, name or alias (repeatable)."
    ),
    brands_file: Path = typer.Option(
        None, "--brands", help="Brand cards for names and aliases (default: $REZONANS_BRANDS)."
    ),
    exact: bool = typer.Option(
        False, "--exact", help="Phrases, words and title: match only the forms as written.", metavar=""
    ),
    sort: str = typer.Option("date", help="date (newest first) or relevance."),
    page: int = typer.Option(1, help="Page number (table output)."),
    size: int = typer.Option(20, help="Results per page (table output)."),
    as_json: bool = typer.Option(False, "--json", help="Export ALL results as JSON lines (no 10,000 cap).", metavar=""),
    as_csv: bool = typer.Option(
        False, "--csv", help="Export ALL results as CSV, UTF-8 with BOM (no 10,000 cap).", metavar=""
    ),
    sep: str = typer.Option(",", "--sep", help="CSV separator: ',' or ';' (Russian Excel)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the export to this file instead of stdout."),
    saved: str = typer.Option(
        None, "--saved", help="Run a saved search (query and filters) by name; options add to it."
    ),
) -> None:
    """Search articles. Words and "quoted phrases" match in every grammatical form (exact:"..." or --exact for
    the form as written); a brand name means the brand; AND OR NOT ( ) and fields brand: source: sentiment:
    type: promo: title: cluster: exact: (see docs/report.md)."""
    from indexer.client import connect
    from report.periods import day_bound
    from search.engine import SearchRequest, search
    from search.vocabulary import load_vocabulary

    if sort not in ("date", "relevance"):
        raise UserError("--sort must be date or relevance")
    if sep not in (",", ";", "\t", "\\t"):
        raise UserError("--sep must be ',' or ';' (or '\\t')")
    settings = load_settings()
    lang = settings.language
    if saved:
        request = _saved_request(settings, saved, query, date_from, date_to, brand, sort)
        request.exact = request.exact or exact
    elif not query:
        raise UserError("give a QUERY or --saved NAME")
    else:
        request = SearchRequest(
            query=query,
            date_from=day_bound(date_from, "--from"),
            date_to=day_bound(date_to, "--to", end=True),
            brands=list(brand),
            sort="date" if sort == "date" else "relevance",
            exact=exact,
        )
    request.body_query()  # syntax errors before any connection
    client = connect(settings)
    cards = brands_file or settings.brands
    request.vocabulary = load_vocabulary(client, settings, cards)
    node, brand_words = request.resolved()
    if cards is None and _has_words(node):
        err.print(escape(say("search.no_cards", lang)))
    for note in brand_words:
        err.print(escape(say("search.brand_word", lang, word=note.word, name=note.name, brand=note.brand)))
    if as_json or as_csv:
        delimiter = "\t" if sep in ("\t", "\\t") else sep
        if out:
            with out.open("w", encoding="utf-8-sig" if as_csv else "utf-8", newline="") as stream:
                count = _export(client, settings, request, stream, as_csv, delimiter)
            err.print(
                escape(say("search.exported", lang, count=count, results=plural_word("results", count, lang), path=out))
            )
        else:
            if as_csv:
                sys.stdout.write("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
            _export(client, settings, request, sys.stdout, as_csv, delimiter)
        return
    result = search(client, settings, request, page=page, size=size)
    Console().print(_table(result.hits, result.total, result.page, size, result.took_ms, request.vocabulary, lang))


def _has_words(node: Node) -> bool:
    """The query has a bare word (which brand cards could have read as a brand)."""
    from search.query import And, Not, Or, Term

    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return _has_words(node.child)
    if isinstance(node, And | Or):
        return any(_has_words(c) for c in node.children)
    return False


def _table(hits: list[Hit], total: int, page: int, size: int, took_ms: int, vocab: Vocabulary, lang: str) -> Table:
    """The results as a table: local date and time, source, tone by brand name, highlighted snippet, reprints."""
    from datetime import datetime

    from rezonans.formats import moment

    pages = max(1, -(-total // size))
    title = say(
        "search.title",
        lang,
        total=total,
        results=plural_word("results", total, lang),
        page=page,
        pages=pages,
        ms=took_ms,
    )
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column(say("search.col.date", lang), no_wrap=False, ratio=1)
    table.add_column(say("search.col.source", lang), ratio=1)
    table.add_column(say("search.col.tone", lang), ratio=1)
    table.add_column(say("search.col.article", lang), ratio=5)
    table.add_column(say("search.col.reprints", lang), justify="right")
    words = TONE_WORDS["en" if lang == "en" else "ru"]
    for hit in hits:
        tone = ", ".join(f"{vocab.display(b)}: {words.get(t, t)}" for b, t in hit.tone.items()) or "—"
        body = f"[bold]{escape(hit.title)}[/bold]\n{_marked(hit.snippet, hit.highlights)}\n[dim]{escape(hit.url)}[/dim]"
        when = moment(datetime.fromisoformat(hit.published_at), lang) if hit.published_at else "—"
        table.add_row(escape(when), escape(hit.source), escape(tone), body, str(hit.reprints))
    return table


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
    from indexer.client import connect
    from report.periods import day_bound
    from search.saved import build_request, resolve_saved

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


def _export(
    client: Elasticsearch,
    settings: Settings,
    request: SearchRequest,
    stream: IO[str],
    as_csv: bool,
    delimiter: str = ",",
) -> int:
    """Stream every hit as CSV (machine keys as headers) or JSON lines; returns the count."""
    from search.engine import export
    from search.exports import FIELDS, flat_row, safe_cell

    count = 0
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n") if as_csv else None
    if writer:
        writer.writerow(FIELDS)  # machine keys: the web feed's export has Russian headers
    for hit in export(client, settings, request):
        if writer:
            writer.writerow([safe_cell(v) for v in flat_row(hit)])
        else:
            stream.write(json.dumps(hit.as_dict(), ensure_ascii=False) + "\n")
        count += 1
    stream.flush()
    return count


def register(app: typer.Typer) -> None:
    """Add `search` to the main app."""
    app.command("search")(search_command)
