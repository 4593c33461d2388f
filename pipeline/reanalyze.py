"""Retroactive analysis: run the NLP stage again over stored articles so a new brand or competitor has its history.

Articles are read with scroll (`indexer.store.scan_articles`) and written back into the same concrete index
with the same id through `BulkWriter` (no scripts, no update_by_query). Reprint clusters are kept as stored, and analysts' tone corrections are applied again over the new model tone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from indexer.bulk import BulkWriter
from indexer.client import es_errors
from indexer.store import scan_articles
from pipeline.corrections import apply_corrections
from rezonans.config import Settings
from rezonans.errors import UserError
from rezonans.model import Article

log = logging.getLogger(__name__)


@dataclass
class ReanalyzeStats:
    """Counts of a re-analysis run."""

    scanned: int = 0
    written: int = 0
    failed: int = 0
    spooled: int = 0
    with_brand_before: int = 0
    with_brand_after: int = 0
    mentions_after: int = 0
    outdated_tone: int = 0  # articles whose stored tone came from another tone model (now brought to this one)
    by_index: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for --json."""
        return dict(self.__dict__)


class KeepClusters:
    """Stands in for the reprint detector: a re-analysed article keeps its stored cluster and original flag."""

    def add(self, article: Article) -> tuple[str | None, bool]:
        """Return what the article already had."""
        return article.cluster, article.is_original


def candidate_query(
    names: list[str],
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    lemma_phrases: list[str] | None = None,
) -> dict[str, Any]:
    """Articles that might mention any of the names: exact text phrase or lemma phrase, within the dates."""
    should: list[dict[str, Any]] = []
    for name in names:
        should += [{"match_phrase": {f: name}} for f in ("title", "lead", "text")]
    for phrase in lemma_phrases or []:
        should.append({"match_phrase": {"lemmas": phrase}})
    filters: list[dict[str, Any]] = []
    if date_from or date_to:
        rng = {k: v.isoformat() for k, v in (("gte", date_from), ("lt", date_to)) if v}
        filters.append({"range": {"published_at": rng}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if should:
        query["bool"]["should"] = should
        query["bool"]["minimum_should_match"] = 1
    return query


def brand_query(card: Any, date_from: datetime | None, date_to: datetime | None) -> dict[str, Any]:
    """Candidates for one brand card: its name and aliases, as text and as lemmas (any case form)."""
    from nlp.lemmas import lemma_string

    names = [card.name, *card.aliases]
    lemma_phrases = sorted({lemma_string(n) for n in names if lemma_string(n)})
    return candidate_query(names, date_from, date_to, lemma_phrases)


def reanalyze(
    client: Elasticsearch,
    settings: Settings,
    analyzer: Any,
    brand: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    everything: bool = False,
    progress: Callable[[ReanalyzeStats], None] | None = None,
    refresh: bool = False,
) -> ReanalyzeStats:
    """Re-run `analyzer` over stored articles (candidates for `brand`, or all with `everything`) and write them back."""
    if brand and not everything:
        card = analyzer.cards.get(brand)
        if card is None:
            raise UserError(f"brand {brand!r} is not in the brand cards: add its card or pass --brands FILE")
        query = brand_query(card, date_from, date_to)
    else:
        query = candidate_query([], date_from, date_to)
    analyzer.reprints = KeepClusters()
    stats = ReanalyzeStats()
    with es_errors("re-analysis"), BulkWriter(settings, client=client, refresh=refresh) as writer:
        for index, article in scan_articles(client, settings, query=query):
            stats.scanned += 1
            had = brand in article.brands if brand else False
            stats.outdated_tone += article.tone_model != analyzer.tone.version
            try:
                analyzer.analyze(article)
                apply_corrections(article)  # a person's tone wins over the model's
            except Exception as exc:
                stats.failed += 1
                log.error("article %s could not be re-analysed (%s); left as stored", article.id, exc)
                continue
            if brand:
                stats.with_brand_before += had
                stats.with_brand_after += brand in article.brands
                stats.mentions_after += sum(1 for m in article.mentions if m.brand == brand)
            writer.add(article, index=index)
            stats.by_index[index] = stats.by_index.get(index, 0) + 1
            if progress and stats.scanned % 200 == 0:
                progress(stats)
    stats.written = writer.stats.indexed
    stats.spooled = writer.stats.spooled
    if progress:
        progress(stats)
    return stats
