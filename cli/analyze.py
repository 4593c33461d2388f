"""`rezonans analyze`: JSONL articles in, analysed articles out (mentions, tone, topics, lemmas, clusters)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

import typer

from cli.messages import say
from rezonans.config import load_settings

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer
    from rezonans.model import Article


def parse_line(data: object) -> Article:
    """An input record as an Article (see `rezonans.jsonl.article_from_record`)."""
    from rezonans.jsonl import article_from_record

    return article_from_record(data, shorthand=True)


def run(stream: IO[str], out: IO[str], analyzer: Analyzer, err: IO[str]) -> tuple[int, int]:
    """Analyse every good line; bad lines are reported on `err` with their number and skipped."""
    from rezonans.jsonl import BadLine, read_articles

    done = 0
    bad: list[BadLine] = []

    def skipped(b: BadLine) -> None:
        err.write(f"line {b.lineno}: skipped: {b.reason}\n")

    for article in read_articles(stream, errors=bad, on_bad=skipped, shorthand=True):
        try:
            analyzer.analyze(article)
        except Exception as exc:  # keep going: the article is written unanalysed
            err.write(f"article {article.url or article.id}: analysis failed ({exc}); written unanalysed\n")
        out.write(article.to_json() + "\n")
        done += 1
    out.flush()
    return done, len(bad)


def register(app: typer.Typer) -> None:
    """Add the `analyze` command."""

    @app.command("analyze")
    def analyze(
        brands: Path = typer.Option(None, "--brands", help="Brand-card YAML (default: $REZONANS_BRANDS)."),
        input: Path = typer.Option(None, "--input", "-i", help="JSONL file to read (default: stdin)."),
        output: Path = typer.Option(None, "--output", "-o", help="JSONL file to write (default: stdout)."),
        no_ner: bool = typer.Option(
            False, "--no-ner", help="Judge homonyms without natasha NER (faster, less precise).", metavar=""
        ),
        state: Path = typer.Option(
            None, "--reprint-state", help="JSON file keeping reprint clusters across runs (.gz: gzipped)."
        ),
        tone_model: str = typer.Option(
            None, "--tone", help="Tone model: transformer or fast (linear); default: the tone setting."
        ),
    ) -> None:
        """Find brand mentions and their tone, prominence, topics, promo codes, lemmas and reprint clusters.

        Input lines: {"id", "url", "title", "text", "published_at", "source", optional "targets": [[start, end], ...]}.
        Mention offsets point into `text`, or into `title` / `lead` when `placement` says so.
        """
        from nlp import tone
        from nlp.analyzer import Analyzer
        from nlp.reprints import ReprintDetector
        from nlp.threads import single_threaded_blas
        from rezonans.brands import BrandError

        settings = load_settings(tone=tone_model)
        tone.configure(settings.tone)
        single_threaded_blas()
        path = brands or settings.brands
        if path is None:
            raise BrandError(
                "no brand cards: pass --brands FILE or set REZONANS_BRANDS "
                "(examples/brands.yaml is an example to copy and edit)"
            )
        reprints = ReprintDetector.load(state) if state else None
        analyzer = Analyzer.from_file(path, use_ner=not no_ner, reprints=reprints)
        src = input.open(encoding="utf-8") if input else sys.stdin
        dst = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            done, bad = run(src, dst, analyzer, sys.stderr)
        finally:
            if input:
                src.close()
            if output:
                dst.close()
        if state:
            analyzer.reprints.save(state)
        typer.echo(say("analyze.done", settings.language, done=done, bad=bad), err=True)
