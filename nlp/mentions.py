"""Brand mentions in one text: matcher hits, exclusions, homonym checks (NER only where needed)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field

from nlp.homonyms import TextIndex, Verdict, is_ambiguous, judge
from nlp.lemmas import Token, tokenize
from nlp.matcher import BrandMatcher, Hit
from nlp.ner import Entity, entities_many, sentences
from rezonans.brands import BrandSet

SURE = 0.97  # confidence of an unambiguous name
MAX_NER_SENTENCES = 20  # per text: later ambiguous hits are judged on the other cues (bounds a 5,000-mention text)


@dataclass(slots=True)
class Found:
    """A hit with the homonym decision and the sentence it sits in."""

    hit: Hit
    confidence: float
    is_brand: bool
    sentence: tuple[int, int]
    cues: list[str] = field(default_factory=list)


@dataclass
class TextMentions:
    """Everything known about the brand hits of one text (tokens, sentences, entities) for later stages."""

    text: str
    tokens: list[Token]
    sentences: list[tuple[int, int]]
    found: list[Found]
    ents: list[Entity]

    @property
    def accepted(self) -> list[Found]:
        """Hits judged to be the brand."""
        return [f for f in self.found if f.is_brand]


def _sentence_of(sents: list[tuple[int, int]], pos: int, starts: list[int] | None = None) -> tuple[int, int]:
    """The sentence span holding a character position (sentences sorted by start)."""
    if not sents:
        return (0, 0)
    i = bisect_right(starts if starts is not None else [s[0] for s in sents], pos) - 1
    if i >= 0 and sents[i][0] <= pos < sents[i][1]:
        return sents[i]
    return sents[-1] if i >= 0 else sents[0]


def find_mentions(
    text: str, brands: BrandSet, matcher: BrandMatcher, use_ner: bool = True, tokens: list[Token] | None = None
) -> TextMentions:
    """Match brand names, then run NER and homonym checks only on sentences that hold an ambiguous hit."""
    tokens = tokenize(text) if tokens is None else tokens
    hits = matcher.find(text, tokens)
    if not hits:
        return TextMentions(text, tokens, [], [], [])
    sents = sentences(text)
    starts = [s[0] for s in sents]
    cards = {c.id: c for c in brands.brands}
    hit_starts = [h.start for h in hits]  # hits come sorted by start
    # which hits need the homonym check, and the sentences NER runs on (the first MAX_NER_SENTENCES holding one)
    where = [_sentence_of(sents, h.start, starts) for h in hits]
    check = [h.kind == "name" and is_ambiguous(cards[h.brand], h.text, h.n_tokens) for h in hits]
    ner_sents: list[tuple[int, int]] = []
    if use_ner:
        for sent, ambiguous in zip(where, check, strict=True):
            if ambiguous and sent not in ner_sents and len(ner_sents) < MAX_NER_SENTENCES:
                ner_sents.append(sent)
    ents: list[Entity] = []
    for sent, spans in zip(ner_sents, entities_many([text[a:b] for a, b in ner_sents]), strict=True):
        ents.extend(Entity(e.start + sent[0], e.end + sent[0], e.type) for e in spans)
    ner_done = set(ner_sents)
    index = TextIndex(text, tokens)
    per_sentence: dict[tuple[int, int], Counter[str]] = {}
    found: list[Found] = []
    for h, sent, ambiguous in zip(hits, where, check, strict=True):
        if not ambiguous:
            found.append(Found(h, SURE, True, sent))
            continue
        brands_here = per_sentence.get(sent)
        if brands_here is None:
            lo, hi = bisect_left(hit_starts, sent[0]), bisect_left(hit_starts, sent[1])
            brands_here = per_sentence[sent] = Counter(o.brand for o in hits[lo:hi])
        others = brands_here.total() - brands_here[h.brand]  # hits of other brands in the sentence
        v: Verdict = judge(text, tokens, h.first_token, h.n_tokens, sent, ents, others, sent in ner_done, index)
        found.append(Found(h, v.confidence, v.is_brand, sent, v.cues))
    return TextMentions(text, tokens, sents, found, ents)
