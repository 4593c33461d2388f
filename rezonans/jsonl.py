"""Read and write articles as JSONL so that every stage can run alone."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import IO

from pydantic import ValidationError

from rezonans.model import Article

log = logging.getLogger(__name__)


class BadLine(Exception):
    """A JSONL line that is not a valid article."""

    def __init__(self, lineno: int, reason: str, raw: str) -> None:
        super().__init__(f"line {lineno}: {reason}")
        self.lineno = lineno
        self.reason = reason
        self.raw = raw


def read_articles(stream: IO[str], errors: list[BadLine] | None = None) -> Iterator[Article]:
    """Yield articles from JSONL; bad lines are logged, collected in `errors` and skipped, never fatal."""
    for lineno, raw in enumerate(stream, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            yield Article.model_validate(data)
        except (ValueError, ValidationError) as exc:
            reason = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else _short(exc)
            bad = BadLine(lineno, reason, line)
            log.warning("skipping JSONL %s", bad)
            if errors is not None:
                errors.append(bad)


def _short(exc: ValidationError) -> str:
    """One-line summary of a pydantic error."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])


def write_articles(articles: Iterable[Article], stream: IO[str]) -> int:
    """Write articles as JSONL and return how many were written."""
    count = 0
    for article in articles:
        stream.write(article.to_json())
        stream.write("\n")
        count += 1
    stream.flush()
    return count
