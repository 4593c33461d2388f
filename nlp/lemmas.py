"""Tokens (spaCy's blank Russian tokenizer) and lemmas (pymorphy3, every parse, cached per word form)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_WORD = re.compile(r"\w", re.UNICODE)


class Token(NamedTuple):
    """One token with its character span in the text it came from."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WordInfo:
    """What pymorphy3 says about one lower-cased word form."""

    lemma: str  # the most probable normal form
    forms: frozenset[str]  # every possible normal form, plus the word itself
    known: bool  # the word is in the dictionary
    common: bool  # some parse is a common noun/adjective/verb (not a name, surname, place or organisation)
    proper: bool  # some parse is a name, surname, patronymic, place or organisation
    surname: bool  # some parse is a surname


_PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}


@lru_cache(maxsize=1)
def morph():
    """The shared pymorphy3 analyser (loaded once, ~0.3 s)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def tokenizer():
    """spaCy's rule-based Russian tokenizer (no model needed)."""
    return _import_spacy().blank("ru").tokenizer


def _import_spacy():
    """spaCy without PyTorch: thinc imports torch whenever it is installed (+1 s and ≈ 490 MiB per process),
    and the tokenizer never uses it. torch stays importable for whoever needs it later."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        import spacy
    finally:
        del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=300_000)
def word_info(word: str) -> WordInfo:
    """Analyse a lower-cased word form once; later calls are a dict lookup."""
    parses = morph().parse(word)
    forms = {word.replace("ё", "е")}
    known = False
    common = proper = surname = False
    for p in parses:
        forms.add(p.normal_form.replace("ё", "е"))
        if p.is_known:
            known = True
            grams = p.tag.grammemes
            if grams & _PROPER:
                proper = True
                surname = surname or "Surn" in grams
            elif p.tag.POS in {"NOUN", "ADJF", "ADJS", "VERB", "INFN", "PRTF", "ADVB"}:
                common = True
    lemma = parses[0].normal_form.replace("ё", "е") if parses else word
    return WordInfo(lemma=lemma, forms=frozenset(forms), known=known, common=common, proper=proper, surname=surname)


def tokenize(text: str) -> list[Token]:
    """Split text into tokens with character offsets (spaCy's blank('ru') tokenizer)."""
    return [Token(t.text, t.idx, t.idx + len(t.text)) for t in tokenizer()(text) if not t.is_space]


def lemmatize(text: str) -> list[str]:
    """Most probable lower-case lemma of every word token (punctuation dropped)."""
    out = []
    for tok in tokenize(text):
        if _WORD.search(tok.text):
            out.append(word_info(tok.text.lower()).lemma)
    return out


def lemma_string(*parts: str) -> str:
    """Space-joined lemmas of several texts, for a whitespace-analysed search field."""
    return " ".join(lemma for part in parts if part for lemma in lemmatize(part))


def lemmatize_query(text: str) -> list[str]:
    """Every possible lemma of each word in a search query (e.g. 'ставки' → ['ставка', 'ставок'...]), in order."""
    out: list[str] = []
    for tok in tokenize(text):
        if not _WORD.search(tok.text):
            continue
        info = word_info(tok.text.lower())
        ordered = [
            info.lemma,
            *sorted(f for f in info.forms if f != info.lemma and f != tok.text.lower().replace("ё", "е")),
        ]
        for lemma in ordered:
            if lemma not in out:
                out.append(lemma)
    return out
