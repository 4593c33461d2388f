"""Article-level tone towards a brand agrees with its mentions."""

import pytest

from nlp.analyzer import article_tone, article_tone_reason
from rezonans.model import Mention

pytestmark = pytest.mark.unit


def m(sentiment: str, score: float, prominence: float = 0.2) -> Mention:
    return Mention(
        brand="b", start=0, end=1, text="B", sentiment=sentiment, sentiment_score=score, prominence=prominence
    )


def test_single_mention_keeps_its_label():
    for label, score in (("neutral", 0.19), ("positive", 0.05), ("negative", -0.02)):
        assert article_tone([m(label, score)])[0] == label


def test_prominent_mentions_weigh_more_and_ties_are_neutral():
    assert article_tone([m("negative", -0.6, prominence=0.6), m("positive", 0.4), m("neutral", 0.0)])[0] == "negative"
    assert article_tone([m("negative", -0.5), m("positive", 0.5)]) == ("neutral", 0.0)
    label, score = article_tone([m("positive", 0.8), m("positive", 0.6), m("negative", -0.9)])
    assert label == "positive" and score == pytest.approx((0.8 + 0.6 - 0.9) / 3)


def placed(sentiment: str, score: float, placement: str, reason: str = "") -> Mention:
    return Mention(
        brand="b",
        start=0,
        end=1,
        text="B",
        sentiment=sentiment,
        sentiment_score=score,
        placement=placement,
        prominence=0.2,
        tone_reason=reason,
    )


def test_a_negative_title_outweighs_passing_neutral_mentions():
    ms = [placed("negative", -0.7, "title", "сбой")] + [placed("neutral", 0.0, "body") for _ in range(4)]
    label, score, reason = article_tone_reason(ms)
    assert label == "negative" and score < 0
    assert reason == "title: сбой"


def test_lead_outweighs_one_body_mention_of_the_other_sign():
    assert article_tone_reason([placed("positive", 0.6, "body"), placed("negative", -0.6, "lead")])[0] == "negative"
    assert article_tone_reason([placed("positive", 0.6, "lead"), placed("negative", -0.6, "body")])[0] == "positive"


def test_many_neutral_body_mentions_still_outvote_one_polar_body_mention():
    ms = [placed("positive", 0.5, "body")] + [placed("neutral", 0.0, "body") for _ in range(3)]
    assert article_tone_reason(ms)[0] == "neutral"
    assert article_tone_reason([]) == ("neutral", 0.0, "")
