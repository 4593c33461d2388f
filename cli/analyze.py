"""`rezonans analyze`: JSONL articles in, analysed articles out (mentions, tone, topics, lemmas, clusters)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import typer
from pydantic import ValidationError

from nlp.brands import BrandError, default_brands_path
from rezonans.model import Article


def parse_line(data: object) -> Article:
    """An input record as an Article: `source` may be a plain name, `targets` may be [[start, end], ...]."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    data = dict(data)
    if isinstance(data.get("source"), str):
        data["source"] = {"name": data["source"]}
    data.setdefault("source", {"name": "unknown"})
    targets = data.get("targets")
    if isinstance(targets, list):
        fixed = []
        for t in targets:
            if isinstance(t, (list, tuple)) and len(t) == 2:
                fixed.append({"start": t[0], "end": t[1]})
            else:
                fixed.append(t)
        data["targets"] = fixed
    return Article.model_validate(data)


def run(stream: IO[str], out: IO[str], analyzer, err: IO[str]) -> tuple[int, int]:
    """Analyse every good line; bad lines are reported on `err` with their number and skipped."""
    done = bad = 0
    for lineno, raw in enumerate(stream, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            article = parse_line(json.loads(line))
        except (ValueError, ValidationError) as exc:
            bad += 1
            reason = (
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            err.write(f"line {lineno}: skipped: {reason}\n")
            continue
        try:
            analyzer.analyze(article)
        except Exception as exc:  # keep going: the article is written unanalysed
            err.write(f"line {lineno}: analysis failed ({exc}); written unanalysed\n")
        out.write(article.to_json() + "\n")
        done += 1
    out.flush()
    return done, bad


def register(app: typer.Typer) -> None:
    """Add the `analyze` command."""

    @app.command("analyze")
    def analyze(
        brands: Path = typer.Option(
            None, "--brands", "-b", help="Brand-card YAML (default: $REZONANS_BRANDS, else the shipped example)."
        ),
        input: Path = typer.Option(None, "--input", "-i", help="JSONL file to read (default: stdin)."),
        output: Path = typer.Option(None, "--output", "-o", help="JSONL file to write (default: stdout)."),
        no_ner: bool = typer.Option(
            False, "--no-ner", help="Judge homonyms without natasha NER (faster, less precise)."
        ),
        state: Path = typer.Option(
            None, "--reprint-state", help="JSON file keeping reprint clusters across runs (.gz: gzipped)."
        ),
    ) -> None:
        """Find brand mentions and their tone, prominence, topics, promo codes, lemmas and reprint clusters.

        Input lines: {"id", "url", "title", "text", "published_at", "source", optional "targets": [[start, end], ...]}.
        Mention offsets point into `text`, or into `title` / `lead` when `placement` says so.
        """
        from nlp.analyzer import Analyzer
        from nlp.reprints import ReprintDetector

        path = brands or default_brands_path()
        try:
            reprints = ReprintDetector.load(state) if state else None
            analyzer = Analyzer.from_file(path, use_ner=not no_ner, reprints=reprints)
        except BrandError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
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
        typer.echo(f"analysed {done} articles, skipped {bad} bad lines", err=True)
