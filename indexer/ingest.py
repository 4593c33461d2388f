"""Ingest: crawl → analyse → index, the wiring that `rezonans crawl` (without --out) and the benchmark share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.options import CrawlOptions
from crawler.run import CrawlStats, crawl
from crawler.sources import Source
from rezonans.config import Settings


def crawl_to_index(
    sources: Iterable[Source], brands: Path, settings: Settings, options: CrawlOptions, state_path: Path,
    since: datetime | None = None, on_progress: Callable[[dict[str, dict[str, Any]]], None] | None = None,
) -> tuple[CrawlStats, dict[str, Any]]:
    """Replay the spool, then crawl with each article analysed (nlp) and journalled into a durable bulk writer.

    Raises ImportError when the analysis or index stage is missing. Returns the crawl stats and
    {"index": bulk stats, "replayed": documents sent from the spool (only when there was one)}.
    """
    from indexer.bulk import BulkWriter, Spool, replay
    from nlp.analyzer import Analyzer

    analyzer = Analyzer.from_file(brands)
    pending = replay(settings) if Spool(settings.spool_dir).files() else None
    # durable: each article is journalled before the crawl marks its URL seen, so kill -9 loses nothing.
    writer = BulkWriter(settings, durable=True)
    try:
        stats = crawl(list(sources), lambda article: writer.add(analyzer.analyze(article)), options=options,
                      state_path=state_path, since=since, on_progress=on_progress)
    finally:
        bulk = writer.close()
    extra: dict[str, Any] = {"index": bulk.as_dict()}
    if pending is not None:
        extra["replayed"] = pending.indexed
    return stats, extra
