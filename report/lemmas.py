"""Lemmas of query words and snippet words: every pymorphy3 normal form, lower case."""

from __future__ import annotations

import re
from functools import lru_cache

WORD_RE = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:[-'][0-9A-Za-zА-Яа-яЁё]+)*")


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    """The shared pymorphy3 analyser (loading takes ~0.3 s, so once per process)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def _nlp_normal_forms():  # type: ignore[no-untyped-def]
    """The NLP stage's cached analysis (nlp.lemmas.word_info), so that queries and documents agree."""
    try:
        from nlp.lemmas import word_info
    except Exception:  # noqa: BLE001 - the nlp package may be mid-edit or absent
        return None
    return lambda word: word_info(word.lower()).forms


@lru_cache(maxsize=200_000)
def normal_forms(word: str) -> frozenset[str]:
    """All normal forms of a word plus the lower-cased word, with ё also spelt е."""
    low = word.lower()
    forms = {low}
    func = _nlp_normal_forms()
    if func is not None:
        try:
            forms.update(f.lower() for f in func(word))
            return frozenset(forms | {f.replace("ё", "е") for f in forms})
        except Exception:  # noqa: BLE001 - fall back to pymorphy3 below
            pass
    forms.update(p.normal_form for p in _morph().parse(low))
    return frozenset(forms | {f.replace("ё", "е") for f in forms})


def words(text: str) -> list[tuple[int, int, str]]:
    """Word tokens of a text as (start, end, word)."""
    return [(m.start(), m.end(), m.group(0)) for m in WORD_RE.finditer(text)]
