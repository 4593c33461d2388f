"""An article with thousands of mentions: tone is judged for a bounded number per brand, and the output says so."""

from __future__ import annotations

import pytest

from nlp.analyzer import MAX_TONE_MENTIONS, Analyzer
from nlp.tone import ToneModel, linear_model
from rezonans.model import Article


class CountingTone(ToneModel):
    """The shipped linear model, counting its predictions."""

    def __init__(self) -> None:
        self.__dict__.update(linear_model().__dict__)
        self.calls = 0

    def predict(self, sentence, start, end):
        self.calls += 1
        return super().predict(sentence, start, end)


@pytest.fixture()
def counting_analyzer(brands):
    tone = CountingTone()
    return Analyzer(brands, tone=tone), tone


def test_five_thousand_mentions_are_listed_but_tone_is_capped(counting_analyzer):
    analyzer, tone = counting_analyzer
    body = " ".join(f"Отделение Сбербанка номер {i} работает, ВТБ рядом." for i in range(2500))
    body += " Сбербанк и ВТБ снова вместе."
    article = Article(
        url="http://127.0.0.1/big",
        source={"name": "test"},
        title="Сбербанк оштрафовали за нарушения",
        text=body,
    )
    analyzer.analyze(article, reprints=False)
    by_brand = {t.brand: t for t in article.brand_tone}
    assert by_brand["sberbank"].mentions == 2502 and by_brand["vtb"].mentions == 2501
    assert len(article.mentions) == 5003
    assert tone.calls == 2 * MAX_TONE_MENTIONS
    assert by_brand["sberbank"].tone_capped and by_brand["vtb"].tone_capped
    # the title was judged first: its mention carries a reason, the capped ones none
    title = [m for m in article.mentions if m.placement == "title"]
    assert title and title[0].sentiment == "negative" and title[0].tone_reason
    judged = [m for m in article.mentions if m.brand == "sberbank" and m.tone_reason]
    assert len(judged) <= MAX_TONE_MENTIONS


def test_short_article_is_not_capped(analyzer):
    article = Article(url="http://127.0.0.1/a", source={"name": "test"}, title="Сбербанк открыл офис", text="ВТБ тоже.")
    analyzer.analyze(article, reprints=False)
    assert all(not t.tone_capped for t in article.brand_tone)
    assert len(article.brand_tone) == 2
