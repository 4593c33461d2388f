"""The transformer tone model on our own sentences; batching; the tone switch; a missing artifact."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from nlp import tone, tone_window
from nlp.tone_student import StudentTone, artifact_files
from rezonans.config import Settings
from rezonans.errors import UserError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def student() -> StudentTone:
    """The network alone."""
    return StudentTone.load(lexicon=tone.linear_model().lexicon)


@pytest.fixture(scope="module")
def mixed() -> StudentTone:
    """The transformer mode: the network mixed with the linear model."""
    return StudentTone.load(linear=tone.linear_model())


def judge(model, sentence: str, target: str):
    a = sentence.index(target)
    return model.predict(sentence, a, a + len(target))


@pytest.mark.parametrize(
    "sentence, target, label",
    [
        ("Клиенты Сбербанка массово жалуются на сбой: приложение не работает третий день.", "Сбербанка", "negative"),
        ("Центробанк оштрафовал ВТБ на 10 млн рублей за нарушения при продаже вкладов.", "ВТБ", "negative"),
        ("Альфа-Банк признан лучшим банком года и получил престижную премию.", "Альфа-Банк", "positive"),
        ("мегафон опять без связи весь день, ужасный оператор", "мегафон", "negative"),
    ],
)
def test_obvious_sentences(student, sentence, target, label):
    res = judge(student, sentence, target)
    assert res.label == label, res
    assert abs(sum(res.probs) - 1) < 1e-5 and res.reason


def test_the_tone_is_towards_the_target(mixed):
    # the network alone reads both as negative (a failure case in the model card); mixed, the frames separate them
    s = "Суд оштрафовал Сбербанк за нарушения, а ВТБ получил премию «Банк года»."
    assert judge(mixed, s, "Сбербанк").score < judge(mixed, s, "ВТБ").score


def test_mixed_mode_keeps_the_linear_models_reasons_and_rules(mixed):
    fine = judge(mixed, "Суд оштрафовал Сбербанк за нарушения.", "Сбербанк")
    assert fine.label == "negative" and "оштрафовать" in fine.reason
    fired = judge(mixed, "Сбербанк уволил мошенников, похищавших деньги клиентов.", "Сбербанк")
    assert fired.label != "negative"
    assert mixed.version.startswith("student") and tone.linear_model().version in mixed.version


def test_mixing_weight_per_style(student):
    """The file's weights are one per style: post-style text uses the posts weight, news-style text the news one."""
    linear = tone.linear_model()
    post = ("мегафон опять без связи весь день, но поддержка ответила быстро", "мегафон")
    news = ("Центробанк оштрафовал ВТБ на 10 млн рублей за нарушения при продаже вкладов.", "ВТБ")
    split = StudentTone(
        student.session, student.tokenizer, student.meta, linear=linear, mix={"news": 1.0, "posts": 0.0}
    )
    assert split.version.endswith("@1/0")
    assert judge(split, *post) == judge(linear, *post)  # weight 0: the linear model decides alone
    a, b = judge(split, *news), judge(student, *news)
    assert a.label == b.label and a.score == pytest.approx(b.score, abs=1e-6)  # weight 1: the network alone
    file_default = StudentTone.load(linear=linear)
    assert (file_default.mix_news, file_default.mix_posts) == (0.9, 0.5)


def test_batch_equals_single(student):
    items = [
        ("Клиенты Сбера пожаловались на масштабный сбой.", 8, 13),
        ("ВТБ открыл новый офис в Казани, сообщает пресс-служба банка.", 0, 3),
        ("Альфа-Банк получил премию.", 0, 10),
        ("x" * 3000 + " Сбербанк закрыл отделения, жители возмущены. " + "y " * 500, 3001, 3009),
    ]
    batch = student.predict_batch(items)
    for item, b in zip(items, batch, strict=True):
        single = student.predict(*item)
        assert single.label == b.label and np.allclose(single.probs, b.probs, atol=1e-4)
    assert student.predict_batch([]) == []


def test_window_marks_the_target_and_is_bounded(student):
    s = "слово " * 200 + "Сбербанк" + " другое" * 200
    a = s.index("Сбербанк")
    w = tone_window.window(student.tokenizer, s, a, a + 8)
    assert w.ids[0] == tone_window.BOS and w.ids[-1] == tone_window.EOS
    assert len(w.ids) <= 2 * tone_window.WINDOW + tone_window.TARGET + 2
    marked = student.tokenizer.decode([w.ids[i] for i in w.target])
    assert "Сбербанк" in marked.replace(" ", "") and "[" in marked and "]" in marked


def test_the_setting_switches_between_fast_and_transformer():
    assert tone.current_mode() == "transformer" and Settings().tone == "transformer"  # the default
    try:
        tone.configure("fast")
        fast = tone.default_model()
        assert isinstance(fast, tone.ToneModel)
        tone.configure("transformer")
        m = tone.default_model()
        assert isinstance(m, StudentTone) and m.linear is fast
        assert judge(m, "Президент наградил Сбербанк орденом.", "Сбербанк").label == "positive"
        tone.configure("fast")
        assert tone.default_model() is fast
    finally:
        tone.configure("transformer")
    assert tone.default_model() is m
    assert m.version != fast.version  # stored per article: reanalyze tells them apart
    with pytest.raises(ValueError):
        tone.configure("slow")  # type: ignore[arg-type]
    assert Settings(tone="fast").tone == "fast"


def test_missing_artifact_says_how_to_fix(tmp_path):
    onnx_path, tok_path, meta_path = artifact_files()
    shutil.copy(tok_path, tmp_path)
    shutil.copy(meta_path, tmp_path)
    with pytest.raises(UserError, match="REZONANS_TONE=fast"):
        StudentTone.load(tmp_path)
    shutil.copy(onnx_path, tmp_path)
    assert StudentTone.load(tmp_path).version.startswith("student")
