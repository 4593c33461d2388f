"""Mention finding: case forms, hyphens, multi-word names, quotes, Latin spellings, whole tokens, exclusions."""

from __future__ import annotations

import pytest

from nlp.lemmas import lemma_string, lemmatize_query
from nlp.matcher import BrandMatcher
from rezonans.brands import parse_brands

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def matcher(brands):
    return BrandMatcher(brands)


def found(matcher, text):
    return [(h.brand, text[h.start : h.end]) for h in matcher.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Клиенты «Т-Банка» получили кэшбэк.", [("tbank", "Т-Банка")]),
        ("Вклад в Тинькофф-банке и в Альфа-Банке.", [("tbank", "Тинькофф-банке"), ("alfabank", "Альфа-Банке")]),
        ("Сберу придётся ответить.", [("sberbank", "Сберу")]),
        ("ПАО «Сбербанк России» и Sberbank.", [("sberbank", "Сбербанк России"), ("sberbank", "Sberbank")]),
        ("Абоненты МегаФону и Beeline.", [("megafon", "МегаФону"), ("beeline", "Beeline")]),
        ("Пятерочку и Пятёрочку открыли.", [("pyaterochka", "Пятерочку"), ("pyaterochka", "Пятёрочку")]),
        ("Магнитский и магнитный, Магнитогорск.", []),
        ("Матч прошёл на ВТБ Арене, а ВТБ выпустил отчёт.", [("vtb", "ВТБ")]),
    ],
)
def test_forms(matcher, text, expected):
    assert found(matcher, text) == expected


def test_offsets_are_character_spans(matcher):
    text = "Вчера  «Альфа Банк» сообщил"
    (hit,) = matcher.find(text)
    assert text[hit.start : hit.end] == hit.text == "Альфа Банк"


def test_multiword_name_in_case_forms():
    cards = parse_brands("brands:\n  - id: bm\n    name: Банк Москвы\n")
    m = BrandMatcher(cards)
    text = "Акции Банка Москвы выросли, а банк москвы молчит. Москва и банк отдельно."
    assert [text[h.start : h.end] for h in m.find(text)] == ["Банка Москвы", "банк москвы"]


def test_lemmas_for_index_and_query():
    assert lemma_string("Т-Банк снизил ставки", "по вкладам").split()[-4:] == ["снизить", "ставка", "по", "вклад"]
    assert lemmatize_query("ставки")[0] == "ставка"
    assert "сбер" in lemmatize_query("Сберу")
