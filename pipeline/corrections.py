"""Analysts' tone corrections: stored on the article with who/when, written over the model's tone, re-applied after
every re-analysis, and exported as labelled training data.

Design: a correction is kept in the article's own `tone_corrections` field and also *overwrites* the stored tone
that every aggregation reads (`brand_tone`, `brand_sentiment` and the brand's `mentions[].sentiment`), so reports,
alerts and `sentiment:` searches use it with no extra code. `pipeline.reanalyze` calls `apply_corrections` after the
model has run, so the model's new tone never wins over a person's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.client import ESRefused, es_errors
from indexer.mappings import ARTICLE_PROPERTIES, articles_alias
from indexer.store import from_document, to_document
from rezonans.config import Settings
from rezonans.errors import UserError
from rezonans.model import Article, BrandTone, Sentiment, ToneCorrection

log = logging.getLogger(__name__)

SENTIMENTS: tuple[Sentiment, ...] = ("positive", "neutral", "negative")


class CorrectionError(UserError):
    """A correction that cannot be made (unknown article, brand or tone); the message says how to fix it."""


def _key(c: ToneCorrection) -> tuple[str, int | None, str | None]:
    """What one correction is about: the brand, and the mention (start, field) or None for the whole article."""
    return (c.brand, c.mention_start, c.placement if c.mention_start is not None else None)


def apply_corrections(article: Article) -> Article:
    """Write the article's corrections over its model tone (article-level first, then single mentions); in place."""
    whole = [c for c in article.tone_corrections if c.mention_start is None]
    single = [c for c in article.tone_corrections if c.mention_start is not None]
    for c in whole:
        for m in article.mentions:
            if m.brand == c.brand:
                m.sentiment = c.sentiment
        tone = next((t for t in article.brand_tone if t.brand == c.brand), None)
        if tone is None:
            count = sum(1 for m in article.mentions if m.brand == c.brand)
            article.brand_tone.append(BrandTone(brand=c.brand, sentiment=c.sentiment, score=1.0, mentions=count))
        else:
            tone.sentiment = c.sentiment
        article.brand_sentiment[c.brand] = c.sentiment
    for c in single:
        for m in article.mentions:
            if m.brand == c.brand and m.start == c.mention_start and (c.placement in (None, m.placement)):
                m.sentiment = c.sentiment
    return article


def current_tone(article: Article, brand: str, mention_start: int | None = None) -> Sentiment | None:
    """The stored tone towards `brand` (of the article, or of the mention starting at `mention_start`)."""
    if mention_start is not None:
        return next((m.sentiment for m in article.mentions if m.brand == brand and m.start == mention_start), None)
    return next((t.sentiment for t in article.brand_tone if t.brand == brand), None)


def correct(
    article: Article,
    brand: str,
    sentiment: str,
    by: str,
    mention_start: int | None = None,
    placement: str | None = None,
    now: datetime | None = None,
) -> ToneCorrection:
    """Record a correction on the article (replacing an earlier one about the same thing) and apply it."""
    if sentiment not in SENTIMENTS:
        raise CorrectionError(f"unknown tone {sentiment!r}: use positive, neutral or negative")
    if brand not in article.brands and not any(t.brand == brand for t in article.brand_tone):
        known = ", ".join(article.brands) or "none"
        raise CorrectionError(f"article {article.id} does not mention brand {brand!r} (it mentions: {known})")
    if mention_start is not None and not any(
        m.brand == brand and m.start == mention_start and placement in (None, m.placement) for m in article.mentions
    ):
        raise CorrectionError(
            f"article {article.id} has no mention of {brand!r} at {mention_start}: see the mentions' start offsets"
        )
    fix = ToneCorrection.model_validate(
        {
            "brand": brand,
            "sentiment": sentiment,
            "mention_start": mention_start,
            "placement": placement if mention_start is not None else None,
            "by": by,
            "at": now or datetime.now(UTC),
            "previous": current_tone(article, brand, mention_start),
        }
    )
    article.tone_corrections = [c for c in article.tone_corrections if _key(c) != _key(fix)] + [fix]
    apply_corrections(article)
    return fix


def fetch_article(client: Elasticsearch, settings: Settings, article_id: str) -> tuple[str, Article]:
    """The stored article and its concrete index; an unknown id is a CorrectionError."""
    with es_errors("reading the article"):
        resp = client.search(index=articles_alias(settings), query={"ids": {"values": [article_id]}}, size=1)
    hits = resp["hits"]["hits"]
    if not hits:
        raise CorrectionError(f"no article with id {article_id!r}: copy the id from `rezonans search --json`")
    return hits[0]["_index"], from_document(hits[0]["_source"])


def set_tone(
    client: Elasticsearch,
    settings: Settings,
    article_id: str,
    brand: str,
    sentiment: str,
    by: str,
    mention_start: int | None = None,
    placement: str | None = None,
    now: datetime | None = None,
) -> Article:
    """Correct the tone of a stored article (or one mention) towards `brand` and write it back, visible at once."""
    index, article = fetch_article(client, settings, article_id)
    fix = correct(article, brand.lower(), sentiment, by, mention_start, placement, now)
    with es_errors("saving the tone correction"):
        # Indices made before corrections existed get the field's mapping (adding a field is always allowed).
        client.indices.put_mapping(index=index, properties={"tone_corrections": ARTICLE_PROPERTIES["tone_corrections"]})
        client.index(index=index, id=article.id, document=to_document(article), refresh="wait_for")
    log.info("tone of %s towards %s set to %s by %s (was %s)", article.id, fix.brand, fix.sentiment, by, fix.previous)
    return article


def training_rows(article: Article) -> Iterator[dict[str, Any]]:
    """Labelled rows of one article: one per correction, with the text fields and the brand's mention spans."""
    for c in article.tone_corrections:
        spans = [
            {"placement": m.placement, "start": m.start, "end": m.end, "text": m.text}
            for m in article.mentions
            if m.brand == c.brand
            and (c.mention_start is None or (m.start == c.mention_start and c.placement in (None, m.placement)))
        ]
        yield {
            "article_id": article.id,
            "url": article.url,
            "brand": c.brand,
            "label": c.sentiment,
            "previous": c.previous,
            "scope": "article" if c.mention_start is None else "mention",
            "by": c.by,
            "at": c.at.isoformat() if c.at else None,
            "title": article.title,
            "lead": article.lead,
            "text": article.text,
            "mentions": spans,
        }


def export_corrections(client: Elasticsearch, settings: Settings) -> Iterator[dict[str, Any]]:
    """Every correction in the index as a labelled training row (articles without corrections are skipped)."""
    query = {
        "query": {
            "nested": {
                "path": "tone_corrections",
                "query": {"exists": {"field": "tone_corrections.brand"}},
                "ignore_unmapped": True,
            }
        }
    }
    with es_errors("exporting tone corrections"):
        for hit in helpers.scan(client, index=articles_alias(settings), query=query, size=500):
            yield from training_rows(from_document(hit["_source"]))


def corrections_for(client: Elasticsearch, settings: Settings, ids: list[str]) -> dict[str, list[ToneCorrection]]:
    """The corrections of the given articles (for showing who corrected what), by article id."""
    if not ids:
        return {}
    with es_errors("reading tone corrections"):
        resp = client.search(
            index=articles_alias(settings),
            query={"ids": {"values": ids}},
            source_includes=["tone_corrections"],
            size=len(ids),
        )
    out: dict[str, list[ToneCorrection]] = {}
    for hit in resp["hits"]["hits"]:
        items = hit["_source"].get("tone_corrections") or []
        if items:
            out[hit["_id"]] = [ToneCorrection.model_validate(c) for c in items]
    return out


def keep_corrections(client: Elasticsearch, settings: Settings) -> Callable[[list[dict[str, Any]]], None]:
    """A BulkWriter `before_send` hook: a new version of a stored article keeps the analysts' tone corrections.

    One lookup per batch (the corrections of the batch's ids); an action whose article had corrections gets them
    back, applied over the new model tone, before it replaces the stored document.
    """

    def before_send(batch: list[dict[str, Any]]) -> None:
        fresh = {a["_id"]: a for a in batch if "_source" in a and not a["_source"].get("tone_corrections")}
        if not fresh:
            return
        try:
            stored = corrections_for(client, settings, list(fresh))
        except ESRefused:  # no article index yet: nothing can have been corrected
            return
        for article_id, corrections in stored.items():
            action = fresh[article_id]
            article = from_document(action["_source"])
            article.tone_corrections = corrections
            action["_source"] = to_document(apply_corrections(article))

    return before_send
