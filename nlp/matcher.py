"""Find brand names in text: whole tokens, every case form (pymorphy3 normal forms), multi-word and hyphenated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlp.lemmas import Token, tokenize, word_info
from rezonans.brands import BrandCard, BrandSet

_DASHES = {"-", "–", "—", "‐", "‑"}
_WORDCHAR = re.compile(r"\w")


def token_forms(text: str) -> frozenset[str]:
    """Every key a text token can match: its lower-case form and all its possible normal forms."""
    if text in _DASHES:
        return frozenset({"-"})
    low = text.lower().replace("’", "'")
    if not _WORDCHAR.search(low):
        return frozenset({low})
    return word_info(low).forms


def pattern_keys(text: str) -> frozenset[str]:
    """Keys of one word of a brand name: the word itself plus its nominative readings (all readings if none)."""
    if text in _DASHES:
        return frozenset({"-"})
    low = text.lower().replace("ё", "е")
    if not _WORDCHAR.search(low):
        return frozenset({low})
    from nlp.lemmas import morph

    parses = morph().parse(low)
    nomn = {p.normal_form.replace("ё", "е") for p in parses if "nomn" in p.tag or "Fixd" in p.tag}
    return frozenset({low} | (nomn or {p.normal_form.replace("ё", "е") for p in parses}))


@dataclass(slots=True)
class Pattern:
    """One compiled brand name (or exclusion phrase) as a sequence of per-token key sets."""

    brand: str
    name: str
    keys: list[frozenset[str]]
    exclude: bool = False


@dataclass(slots=True)
class Hit:
    """A brand name found in a text."""

    brand: str
    start: int
    end: int
    text: str
    name: str  # the card name or alias that matched
    first_token: int  # index of the first token in the token list
    n_tokens: int


@dataclass
class BrandMatcher:
    """Match all brand cards against texts; build once, reuse for every article."""

    brands: BrandSet
    patterns: list[Pattern] = field(default_factory=list)
    _index: dict[str, list[Pattern]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for card in self.brands.brands:
            self._add_card(card)

    def _add_card(self, card: BrandCard) -> None:
        """Compile a card's names and exclusion phrases."""
        for name, excl in [(n, False) for n in card.names] + [(e, True) for e in card.exclude]:
            toks = tokenize(name)
            if not toks:
                continue
            pat = Pattern(card.id, name, [pattern_keys(t.text) for t in toks], excl)
            self.patterns.append(pat)
            for key in pat.keys[0]:
                self._index.setdefault(key, []).append(pat)

    def find(self, text: str, tokens: list[Token] | None = None) -> list[Hit]:
        """All brand hits in `text`, longest match first at each position, no overlaps, exclusions applied."""
        tokens = tokenize(text) if tokens is None else tokens
        forms = [token_forms(t.text) for t in tokens]
        found: list[tuple[int, int, Pattern]] = []  # (first token, n tokens, pattern)
        n = len(tokens)
        index = self._index
        for i in range(n):
            cands = None
            for key in forms[i]:
                lst = index.get(key)
                if lst:
                    cands = lst if cands is None else cands + lst
            if not cands:
                continue
            for pat in cands:
                k = len(pat.keys)
                if i + k > n:
                    continue
                ok = True
                for j in range(1, k):
                    if not (pat.keys[j] & forms[i + j]):
                        ok = False
                        break
                    # a hyphen inside a name must be written without spaces around it («Т-Банк», not «Т - Банк» ... both ok)
                if ok:
                    found.append((i, k, pat))
        if not found:
            return []
        excluded = [(i, i + k) for i, k, p in found if p.exclude]
        found.sort(key=lambda f: (f[0], -f[1]))
        hits: list[Hit] = []
        last_end = -1
        for i, k, pat in found:
            if pat.exclude or i < last_end:
                continue
            if any(a <= i and i + k <= b for a, b in excluded) or any(
                a < i + k and i < b and b - a > k for a, b in excluded
            ):
                continue
            start, end = tokens[i].start, tokens[i + k - 1].end
            hits.append(Hit(pat.brand, start, end, text[start:end], pat.name, i, k))
            last_end = i + k
        return hits
