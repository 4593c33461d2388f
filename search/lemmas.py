"""Lemmas of query words and snippet words: every pymorphy3 normal form, lower case."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.lemmas import word_info

WORD_RE = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:[-'][0-9A-Za-zА-Яа-яЁё]+)*")


@lru_cache(maxsize=200_000)
def normal_forms(word: str) -> frozenset[str]:
    """All normal forms of a word plus the lower-cased word, with ё also spelt е (the NLP stage's analysis,
    so that queries and indexed lemmas agree)."""
    low = word.lower()
    forms = {low, *(f.lower() for f in word_info(low).forms)}
    return frozenset(forms | {f.replace("ё", "е") for f in forms})


def words(text: str) -> list[tuple[int, int, str]]:
    """Word tokens of a text as (start, end, word)."""
    return [(m.start(), m.end(), m.group(0)) for m in WORD_RE.finditer(text)]


@lru_cache(maxsize=50_000)
def inflections(word: str) -> frozenset[str]:
    """Every inflected form of every parse of a word, lower case, with ё also spelt е (to match a field that
    holds the text as written, such as `title`, in every grammatical form)."""
    from nlp.lemmas import morph

    low = word.lower()
    forms = {low}
    for parse in morph().parse(low):
        forms.update(form.word.lower() for form in parse.lexeme)
    return frozenset(forms | {f.replace("ё", "е") for f in forms})
