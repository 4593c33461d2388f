"""The transformer tone model (default) on our own sentences; batching; the `fast` switch; a missing artifact."""

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
    return StudentTone.load(lexicon=tone.linear_model().lexicon)


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


def test_the_tone_is_towards_the_target():
    s = "Суд оштрафовал Сбербанк за нарушения, а ВТБ получил премию «Банк года»."
    m = tone.default_model()
    assert judge(m, s, "Сбербанк").score < judge(m, s, "ВТБ").score


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


def test_fast_mode_switches_to_the_linear_model():
    assert tone.current_mode() == "transformer"
    assert isinstance(tone.default_model(), StudentTone)
    try:
        tone.configure("fast")
        m = tone.default_model()
        assert isinstance(m, tone.ToneModel)
        assert judge(m, "Президент наградил Сбербанк орденом.", "Сбербанк").label == "positive"
    finally:
        tone.configure("transformer")
    assert m.version != tone.default_model().version  # stored per article: reanalyze tells them apart
    with pytest.raises(ValueError):
        tone.configure("slow")  # type: ignore[arg-type]
    assert Settings(tone="fast").tone == "fast" and Settings().tone == "transformer"


def test_missing_artifact_says_how_to_fix(tmp_path):
    onnx_path, tok_path, meta_path = artifact_files()
    shutil.copy(tok_path, tmp_path)
    shutil.copy(meta_path, tmp_path)
    with pytest.raises(UserError, match="REZONANS_TONE=fast"):
        StudentTone.load(tmp_path)
    shutil.copy(onnx_path, tmp_path)
    assert StudentTone.load(tmp_path).version.startswith("student")
