"""Read and write articles as JSONL so that every stage can run alone."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from pydantic import ValidationError

from rezonans.errors import pydantic_problems
from rezonans.model import Article

log = logging.getLogger(__name__)


def article_from_record(data: object, shorthand: bool = False) -> Article:
    """A JSON record as an Article; with `shorthand` (the analyse stage's input) `source` may be a plain name or
    missing, and `targets` may be [[start, end], ...]."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    data = dict(data)
    if not shorthand:
        return Article.model_validate(data)
    if isinstance(data.get("source"), str):
        data["source"] = {"name": data["source"]}
    data.setdefault("source", {"name": "unknown"})
    targets = data.get("targets")
    if isinstance(targets, list):
        data["targets"] = [
            {"start": t[0], "end": t[1]} if isinstance(t, list | tuple) and len(t) == 2 else t for t in targets
        ]
    return Article.model_validate(data)


class BadLine(Exception):
    """A JSONL line that is not a valid article."""

    def __init__(self, lineno: int, reason: str, raw: str) -> None:
        super().__init__(f"line {lineno}: {reason}")
        self.lineno = lineno
        self.reason = reason
        self.raw = raw


def read_articles(
    stream: IO[str],
    errors: list[BadLine] | None = None,
    on_bad: Callable[[BadLine], None] | None = None,
    shorthand: bool = False,
) -> Iterator[Article]:
    """Yield articles from JSONL; bad lines are logged, collected in `errors` (and passed to `on_bad`), never fatal."""
    for lineno, raw in enumerate(stream, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            article = article_from_record(json.loads(line), shorthand)
        except (ValueError, ValidationError) as exc:
            reason = pydantic_problems(exc, 3) if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
            bad = BadLine(lineno, reason, line)
            log.debug("skipping JSONL %s", bad)
            if errors is not None:
                errors.append(bad)
            if on_bad is not None:
                on_bad(bad)
            continue
        yield article


def write_articles(articles: Iterable[Article], stream: IO[str]) -> int:
    """Write articles as JSONL and return how many were written."""
    count = 0
    for article in articles:
        stream.write(article.to_json())
        stream.write("\n")
        count += 1
    stream.flush()
    return count
