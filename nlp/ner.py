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
def _tagger():
    """natasha segmenter and NER tagger (≈1 s to load; natasha.MorphVocab is not used)."""
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    emb = NewsEmbedding()
    return Segmenter(), NewsNERTagger(emb)


def entities(text: str) -> list[Entity]:
    """ORG/PER/LOC spans of a (short) text; an NER failure is logged and yields no entities."""
    if not text.strip():
        return []
    try:
        from natasha import Doc

        segmenter, tagger = _tagger()
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_ner(tagger)
        return [Entity(s.start, s.stop, s.type) for s in doc.spans]
    except Exception as exc:  # NER is a hint; never lose an article over it
        log.warning("NER failed (%s); continuing without entities", exc)
        return []


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) from razdel's rule-based splitter."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text)]
