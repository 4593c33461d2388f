"""Brand mentions in one text: matcher hits, exclusions, homonym checks (NER only where needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nlp.homonyms import Verdict, is_ambiguous, judge
from nlp.lemmas import Token, tokenize
from nlp.matcher import BrandMatcher, Hit
from nlp.ner import Entity, entities, sentences
from rezonans.brands import BrandSet

SURE = 0.97  # confidence of an unambiguous name


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


def _sentence_of(sents: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    """The sentence span holding a character position."""
    for s in sents:
        if s[0] <= pos < s[1]:
            return s
    return (0, 0) if not sents else sents[-1]


def find_mentions(
    text: str, brands: BrandSet, matcher: BrandMatcher, use_ner: bool = True, tokens: list[Token] | None = None
) -> TextMentions:
    """Match brand names, then run NER and homonym checks only on sentences that hold an ambiguous hit."""
    tokens = tokenize(text) if tokens is None else tokens
    hits = matcher.find(text, tokens)
    if not hits:
        return TextMentions(text, tokens, [], [], [])
    sents = sentences(text)
    cards = {c.id: c for c in brands.brands}
    found: list[Found] = []
    ents: list[Entity] = []
    ner_done: set[tuple[int, int]] = set()
    for h in hits:
        sent = _sentence_of(sents, h.start)
        card = cards[h.brand]
        if h.kind != "name" or not is_ambiguous(card, h.text, h.n_tokens):
            found.append(Found(h, SURE, True, sent))
            continue
        if use_ner and sent not in ner_done:
            ner_done.add(sent)
            ents.extend(Entity(e.start + sent[0], e.end + sent[0], e.type) for e in entities(text[sent[0] : sent[1]]))
        others = sum(1 for o in hits if o is not h and sent[0] <= o.start < sent[1] and o.brand != h.brand)
        v: Verdict = judge(text, tokens, h.first_token, h.n_tokens, sent, ents, others)
        found.append(Found(h, v.confidence, v.is_brand, sent, v.cues))
    return TextMentions(text, tokens, sents, found, ents)
