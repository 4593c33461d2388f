"""Named entities from natasha's NER model (shipped in its wheel), loaded lazily and used for NER only."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import NamedTuple

log = logging.getLogger(__name__)


class Entity(NamedTuple):
    """A named-entity span: start, end (exclusive) and type (ORG, PER, LOC)."""

    start: int
    end: int
    type: str


@lru_cache(maxsize=1)
def news_embedding():
    """natasha's navec news embeddings (shipped in its wheel), loaded once per process for NER and tone alike."""
    from natasha import NewsEmbedding

    return NewsEmbedding()


@lru_cache(maxsize=1)
def _tagger():
    """natasha's NER tagger (≈1 s to load). It tokenises the text itself: no natasha Doc or Segmenter needed."""
    from natasha import NewsNERTagger

    return NewsNERTagger(news_embedding())


def load() -> None:
    """Load the NER model now (worker start-up) rather than on the first ambiguous hit."""
    _tagger()


def entities(text: str) -> list[Entity]:
    """ORG/PER/LOC spans of a (short) text; an NER failure is logged and yields no entities."""
    return entities_many([text])[0]


def entities_many(texts: list[str]) -> list[list[Entity]]:
    """ORG/PER/LOC spans of each text, tagged in batches (several times faster than one call per sentence).

    The spans are the same as one call per text. An NER failure is logged and yields no entities.
    """
    out: list[list[Entity]] = [[] for _ in texts]
    todo = [i for i, text in enumerate(texts) if text.strip()]
    if not todo:
        return out
    try:
        markups = _tagger().map([texts[i] for i in todo])
        for i, markup in zip(todo, markups, strict=True):
            out[i] = [Entity(s.start, s.stop, s.type) for s in markup.spans]
    except Exception as exc:  # NER is a hint; never lose an article over it
        log.warning("NER failed (%s); continuing without entities", exc)
        return [[] for _ in texts]
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) from razdel's rule-based splitter."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text)]
