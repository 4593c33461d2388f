"""A hand-computable corpus for report and search tests (answers worked out in docs/report.md terms).

Week 2026-W47 (Mon 16 – Sun 22 Nov, Europe/Moscow) and the week before. Sources and weights:
РБК 3.0, Коммерсантъ 2.0, Региональные вести 0.5, Telegram sberbank_official 1.0 (the brand's own channel).
"""

from __future__ import annotations

from datetime import UTC, datetime

from rezonans.model import Article, BrandTone, Mention, SourceRef

RBC = SourceRef(name="РБК", type="site", weight=3.0, domain="rbc.ru")
KOM = SourceRef(name="Коммерсантъ", type="rss", weight=2.0, domain="kommersant.ru")
REG = SourceRef(name="Региональные вести", type="site", weight=0.5, domain="regvesti.ru")
OWN = SourceRef(name="sberbank_official", type="telegram", weight=1.0, domain="t.me")

BODY = {
    "c1": "Сбербанк снизил ставки по ипотеке. Клиенты Сбербанка получат скидку по промокоду SBER500 до конца месяца.",
    "c2": "Сбербанк оштрафован регулятором за сбой. ВТБ тоже упоминается в отчёте о проверке банков.",
    "c3": "Аналитики обсуждают квартальные итоги. Сбербанк опубликовал отчётность, а Сбер сохранил прогноз.",
    "c4": "В регионе открылся новый офис Сбербанка, промокоды SBER500 и VESNA действуют при открытии вклада.",
    "c5": "ВТБ запустил новую программу кешбэка для клиентов.",
    "c6": "Т-Банк получил претензии от клиентов из-за сбоя приложения.",
    "c7": "Сбербанк поздравляет клиентов: ключевая ставка по вкладам выросла.",
    "own2": "Подборка полезных советов по финансовой грамотности на выходные.",
    "c11": "Местные новости: Сбербанк провёл встречу с предпринимателями.",
    "c8": "Сбербанк обсудил с партнёрами планы на следующий год.",
    "c9": "Сбербанк критикуют за длинные очереди в отделениях.",
    "c10": "ВТБ расширил сеть банкоматов.",
    "own1": "Канал банка: ответы на вопросы подписчиков.",
    "late": "Сбербанк подвёл итоги недели.",
}


def _at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _m(
    brand: str, text: str, word: str, sentiment: str, prominence: float, promo: list[str] | None = None, nth: int = 0
) -> Mention:
    start = -1
    for _ in range(nth + 1):
        start = text.find(word, start + 1)
    assert start >= 0, (word, text)
    return Mention(
        brand=brand,
        start=start,
        end=start + len(word),
        text=word,
        sentiment=sentiment,
        prominence=prominence,
        promo_codes=promo or [],
    )


def _a(
    slug: str,
    src: SourceRef,
    when: datetime,
    body: str,
    mentions: list[tuple],
    tones: dict[str, str],
    cluster: str | None,
    original: bool = True,
    views: int | None = None,
    forwards: int | None = None,
    title: str = "",
) -> Article:
    text = BODY[body]
    ms = [_m(b, text, w, s, p, promo, nth) for (b, w, s, p, promo, nth) in mentions]
    promo_codes = sorted({c for m in ms for c in m.promo_codes})
    return Article(
        url=f"https://{src.domain}/news/{slug}",
        source=src.model_copy(),
        title=title or text.split(".")[0],
        text=text,
        published_at=when,
        mentions=ms,
        brand_sentiment=tones,
        brand_tone=[
            BrandTone(brand=b, sentiment=s, mentions=sum(1 for m in ms if m.brand == b)) for b, s in tones.items()
        ],
        cluster=cluster,
        is_original=original,
        views=views,
        forwards=forwards,
        promo_codes=promo_codes,
        lemmas=" ".join(_lemmas(text)),
    )


def _lemmas(text: str) -> list[str]:
    from nlp.lemmas import word_info
    from search.lemmas import words

    return [word_info(w.lower()).lemma for _, _, w in words(text)]


def M(brand, word, sentiment, prominence, promo=None, nth=0):
    return (brand, word, sentiment, prominence, promo, nth)


def corpus() -> list[Article]:
    """12 articles in week 47, 5 in week 46, 1 just after week 47 (Monday 01:30 Moscow time)."""
    return [
        # ---- current week 2026-W47
        _a(
            "a1",
            RBC,
            _at(16),
            "c1",
            [M("sberbank", "Сбербанк", "positive", 1.0, ["SBER500"])],
            {"sberbank": "positive"},
            "c1",
        ),
        _a(
            "a2",
            REG,
            _at(16, 12),
            "c1",
            [M("sberbank", "Сбербанк", "positive", 0.5, ["SBER500"])],
            {"sberbank": "positive"},
            "c1",
            original=False,
        ),
        _a(
            "a3",
            KOM,
            _at(17),
            "c1",
            [M("sberbank", "Сбербанк", "positive", 0.5)],
            {"sberbank": "positive"},
            "c1",
            original=False,
        ),
        _a(
            "a4",
            RBC,
            _at(18),
            "c2",
            [M("sberbank", "Сбербанк", "negative", 1.0), M("vtb", "ВТБ", "neutral", 0.2)],
            {"sberbank": "negative", "vtb": "neutral"},
            "c2",
        ),
        _a(
            "a5",
            REG,
            _at(18, 10),
            "c2",
            [M("sberbank", "Сбербанк", "negative", 0.5), M("vtb", "ВТБ", "neutral", 0.2)],
            {"sberbank": "negative", "vtb": "neutral"},
            "c2",
            original=False,
        ),
        _a(
            "a6",
            KOM,
            _at(19),
            "c3",
            [M("sberbank", "Сбербанк", "neutral", 0.4), M("sberbank", "Сбер", "neutral", 0.2, nth=1)],
            {"sberbank": "neutral"},
            "c3",
        ),
        _a(
            "a7",
            REG,
            _at(21),
            "c4",
            [M("sberbank", "Сбербанка", "positive", 0.8, ["SBER500", "VESNA"])],
            {"sberbank": "positive"},
            "c4",
        ),
        _a("a8", RBC, _at(20), "c5", [M("vtb", "ВТБ", "positive", 1.0)], {"vtb": "positive"}, "c5"),
        _a("a9", KOM, _at(22), "c6", [M("tbank", "Т-Банк", "negative", 0.6)], {"tbank": "negative"}, "c6"),
        _a(
            "a10",
            OWN,
            _at(17, 6),
            "c7",
            [M("sberbank", "Сбербанк", "positive", 0.6)],
            {"sberbank": "positive"},
            "c7",
            views=1000,
            forwards=10,
        ),
        _a("a11", OWN, _at(19, 6), "own2", [], {}, None, views=500, forwards=5),
        # 2026-11-15 22:30 UTC is Monday 16 Nov 01:30 in Moscow: inside week 47; no cluster.
        _a(
            "a12",
            REG,
            datetime(2026, 11, 15, 22, 30, tzinfo=UTC),
            "c11",
            [M("sberbank", "Сбербанк", "neutral", 0.3)],
            {"sberbank": "neutral"},
            None,
        ),
        # ---- previous week 2026-W46
        _a("p1", RBC, _at(10), "c8", [M("sberbank", "Сбербанк", "neutral", 1.0)], {"sberbank": "neutral"}, "c8"),
        _a(
            "p2",
            REG,
            _at(11),
            "c8",
            [M("sberbank", "Сбербанк", "neutral", 0.5)],
            {"sberbank": "neutral"},
            "c8",
            original=False,
        ),
        _a("p3", KOM, _at(12), "c9", [M("sberbank", "Сбербанк", "negative", 0.6)], {"sberbank": "negative"}, "c9"),
        _a("p4", RBC, _at(12, 11), "c10", [M("vtb", "ВТБ", "positive", 1.0)], {"vtb": "positive"}, "c10"),
        _a("p5", OWN, _at(13, 6), "own1", [], {}, None, views=800, forwards=8),
        # ---- after the week: 2026-11-22 22:30 UTC is Monday 23 Nov in Moscow.
        _a(
            "late",
            RBC,
            datetime(2026, 11, 22, 22, 30, tzinfo=UTC),
            "late",
            [M("sberbank", "Сбербанк", "positive", 1.0)],
            {"sberbank": "positive"},
            "c12",
        ),
    ]


REDEMPTIONS_CSV = """code,date,amount,channel
SBER500,2026-11-17,500,app
SBER500,2026-11-17,500,app
SBER500,2026-11-18,"500,00",web
VESNA,2026-11-21,300,branch
SBER500,2026-11-11,250,app
SBER500,not-a-date,100,app
,2026-11-18,100,app
SBER500,2026-11-19,-5,app
"""

SURVEY_CSV = """date;metric;value
2026-11-20;awareness;41,5
2026-11-13;awareness;40
2026-11-19;consideration;abc
"""
