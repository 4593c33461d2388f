"""Social posts: lower-case names, hashtags, handles, addresses and slang forms find the brand; common words stay out."""

from __future__ import annotations

import pytest

from nlp.matcher import BrandMatcher, compact
from nlp.mentions import find_mentions
from rezonans.brands import parse_brands


def _accepted(text, brands, matcher):
    return [(f.hit.brand, f.hit.kind) for f in find_mentions(text, brands, matcher).accepted]


@pytest.fixture(scope="module")
def matcher(brands):
    return BrandMatcher(brands)


@pytest.mark.parametrize(
    "text, brand, kind",
    [
        ("сбербанк опять завис, перевод не дошёл", "sberbank", "name"),
        ("кредит в сбербанке под 20%, это грабёж", "sberbank", "name"),
        ("#сбербанк опять списал комиссию", "sberbank", "name"),
        ("@sberbank верните деньги!", "sberbank", "handle"),
        ("пишу в поддержку.#Сбербанк", "sberbank", "hashtag"),
        ("оплатил через #СбербанкОнлайн, всё ок", "sberbank", "hashtag"),
        ("сбербанковская карта опять заблокирована", "sberbank", "name"),
        ("мегафон опять не ловит, связь пропадает", "megafon", "name"),
        ("#мегафон опять списал деньги", "megafon", "name"),
        ("мтс, мегафон, билайн - все одинаковые", "megafon", "name"),
        ("@Beeline_RUS у вас интернет лежит", "beeline", "handle"),
        ("пишите на pomogite@beeline.ru", "beeline", "domain"),
        ("биллайн опять подключил платную подписку", "beeline", "name"),
        ("тинек одобрил кредитку за минуту", "tbank", "name"),
        ("в магните опять скидки на молоко, очередь на кассе", "magnit", "name"),
    ],
)
def test_post_mentions_found(brands, matcher, text, brand, kind):
    assert (brand, kind) in _accepted(text, brands, matcher)


@pytest.mark.parametrize(
    "text, brand",
    [
        ("купил магнит на холодильник #отпуск", "magnit"),
        ("нужен мощный магнит для опытов по физике", "magnit"),
        ("полицейский кричал в мегафон, толпа разошлась))", "megafon"),
        ("дети принесли мегафон на митинг", "megafon"),
        ("получил пятерочку по физике!!", "pyaterochka"),
        ("еду в #магнитогорск на выходные", "magnit"),
    ],
)
def test_common_words_in_posts_stay_out(brands, matcher, text, brand):
    assert brand not in [b for b, _ in _accepted(text, brands, matcher)]


def test_handles_with_region_tails_and_heads():
    brands = parse_brands("brands:\n  - id: mts\n    name: МТС\n    aliases: [MTS]\n")
    m = BrandMatcher(brands)
    for text in ("@ru_mts где LTE?", "@by_mts привет", "#mts_ua", "#МТСУкраина"):
        assert [h.brand for h in m.find(text)] == ["mts"], text
    for text in ("@smartsmth привет", "#mtsni"):
        assert m.find(text) == [], text


def test_hit_offsets_cover_the_handle(brands, matcher):
    text = "RT @Beeline_RUS: новый тариф"
    (h,) = [h for h in matcher.find(text) if h.brand == "beeline"]
    assert text[h.start : h.end] == h.text == "@Beeline_RUS"


def test_card_slang_and_handles_are_matched():
    brands = parse_brands(
        "brands:\n  - id: acme\n    name: Акмеком\n    slang: [акмешка]\n    handles: ['@acme_support']\n"
    )
    assert brands.brands[0].handles == ["acme_support"]
    m = BrandMatcher(brands)
    assert [h.kind for h in m.find("акмешка опять глючит")] == ["name"]
    assert [h.kind for h in m.find("написал @acme_support")] == ["handle"]
    assert compact("Банк Москвы") == "банкмосквы"
