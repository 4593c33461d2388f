"""Homonyms: the labelled set keeps its precision/recall; clear cases go the right way."""

from __future__ import annotations

import pytest

from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from training.eval_homonyms import evaluate, read_set

# Measured on the committed 314-hit set with NER: precision 0.950, recall 0.916; floors leave a margin.
PRECISION_FLOOR = 0.90
RECALL_FLOOR = 0.85


def test_labelled_set_is_large_and_mixed():
    rows = read_set()
    assert len(rows) >= 300
    assert 100 <= sum(r[0] for r in rows) <= len(rows) - 100


@pytest.mark.slow
def test_precision_recall_floor(brands):
    res = evaluate(brands)
    assert res["precision"] >= PRECISION_FLOOR, res
    assert res["recall"] >= RECALL_FLOOR, res


@pytest.mark.parametrize(
    "text, is_brand",
    [
        ("ПАО «Магнит» отчиталось о росте выручки.", True),
        ("Поднесите магнит к компасу.", False),
        ("Полицейский через мегафон призвал людей разойтись.", False),
        ("Оператор МегаФон повысил тарифы.", True),
        ("Учительница поставила пятёрочку за сочинение.", False),
        ("Сеть «Пятёрочка» снизила цены на молоко.", True),
    ],
)
def test_clear_cases(brands, text, is_brand):
    tm = find_mentions(text, brands, BrandMatcher(brands))
    assert len(tm.found) == 1
    assert tm.found[0].is_brand is is_brand
    assert (tm.found[0].confidence >= 0.5) is is_brand


def test_unambiguous_names_skip_the_check(brands):
    tm = find_mentions("ВТБ и Т-Банк снизили ставки.", brands, BrandMatcher(brands))
    assert [f.is_brand for f in tm.found] == [True, True]
    assert tm.ents == []  # NER did not run: no ambiguous hit
