"""The shipped linear (`fast`) tone model on our own sentences: direction, negation, entity-relative features, no sklearn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nlp.tone import LEX_TAUS, MODEL_PATH, ToneModel, dense_features, features, linear_model, syntax_features

pytestmark = pytest.mark.unit


def tone(sentence: str, target: str):
    start = sentence.index(target)
    return linear_model().predict(sentence, start, start + len(target))


def test_clear_positive_and_negative():
    pos = tone("Президент наградил Сбербанк орденом за помощь пострадавшим.", "Сбербанк")
    neg = tone("Глава филиала обвинил Сбербанк в коррупции.", "Сбербанк")
    assert pos.label == "positive" and pos.score > 0.2
    assert neg.label == "negative" and neg.score < 0
    assert abs(sum(pos.probs) - 1) < 1e-5


def test_award_scores_above_fine_and_neutral_in_between():
    award = tone("Альфа-Банк признан лучшим банком года и получил престижную премию.", "Альфа-Банк").score
    report = tone("Альфа-Банк опубликовал отчётность за квартал.", "Альфа-Банк").score
    fraud = tone("Альфа-Банк был обвинён в мошенничестве и оштрафован.", "Альфа-Банк")
    assert award > report > fraud.score
    assert fraud.label == "negative"


def test_features_mark_negation_and_target_role():
    f = features("Банк не получил премию.", 0, 4)
    assert "w:NEG_получить" in f and "w:получить" not in f
    assert "Tcase:nomn" in f and any(k.startswith("SV:") for k in f)
    g = features("Суд оштрафовал банк.", 15, 19)
    assert any(k.startswith("VO:accs:оштрафовать") for k in g)


def test_dense_features_are_target_relative():
    lex = {"премия": 0.7, "мошенничество": -0.8}
    s = "Банк получил премию, а завод обвинили в мошенничестве."
    bank = dense_features(s, 0, 4, lex)
    plant = dense_features(s, s.index("завод"), s.index("завод") + 5, lex)
    assert bank.shape == plant.shape == (5 * 300 + 4 * len(LEX_TAUS),)
    # lexicon sums with the strongest decay: positive right / negative right of each target
    pos_r, neg_r = bank[1500 + 1], bank[1500 + 3]
    assert pos_r > neg_r > 0  # «премию» is next to the bank, «мошенничестве» far to its right
    assert plant[1500 + 3] > plant[1500 + 1]  # right of the plant: only the negative word
    assert np.any(bank[:300] != plant[:300])  # left context vectors differ


def test_syntax_features_name_the_verb_and_the_role():
    s = "Суд оштрафовал банк за нарушения."
    obj = syntax_features(s, s.index("банк"), s.index("банк") + 4)
    subj = syntax_features(s, 0, 3)
    assert "HR:obj:оштрафовать" in obj and "SIB:nsubj:суд" in obj
    assert "HR:nsubj:оштрафовать" in subj and "SIB:obj:банк" in subj
    assert syntax_features(s, 100, 104) == {}


def test_shipped_model_has_dense_part_and_offsets():
    m = linear_model()
    # five navec means, the lexicon sums and the post-style flag
    assert m.dense is not None and m.dense[0].shape == (5 * 300 + 4 * len(LEX_TAUS) + 1, 3)
    assert m.offsets.shape == (3,) and m.offsets_post.shape == (3,)
    assert m.post_style and len(m.frames) > 5000  # RuSentiFrames table shipped inside


def test_save_load_roundtrip(tmp_path):
    m = linear_model()
    path = tmp_path / "t.npz"
    m.save(path)
    with np.load(path, allow_pickle=False) as z:
        assert z["weights"].dtype == np.float16
    m2 = ToneModel.load(path)
    s = "Компания ВТБ провалила запуск приложения."
    assert abs(m2.predict(s, 9, 12).score - m.predict(s, 9, 12).score) < 1e-2
    with pytest.raises(FileNotFoundError, match="train it"):
        ToneModel.load(tmp_path / "missing.npz")


def test_inference_needs_no_sklearn():
    code = (
        "import sys; from nlp.tone import linear_model; linear_model().predict('ВТБ вырос.', 0, 3);"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
    assert MODEL_PATH.stat().st_size < 5_000_000


@pytest.fixture
def fresh_encoder():
    """Switch the process-wide encoder off before and after a test that switches it on."""
    from nlp import encoder

    encoder.configure(False)
    yield encoder
    encoder.configure(False)


@pytest.fixture
def e5_on(monkeypatch, fresh_encoder):
    """Switch the opt-in sentence encoder on for one test."""
    fresh_encoder.configure(True)
    return fresh_encoder


def test_encoder_is_off_unless_asked(monkeypatch, fresh_encoder):
    assert not fresh_encoder.available()


def test_encoder_marks_the_target_and_embeds_it_apart(e5_on):
    from nlp import encoder

    s = "Суд оштрафовал Сбербанк, а ВТБ получил премию."
    a, b = s.index("Сбербанк"), s.index("Сбербанк") + 8
    assert encoder.marked(s, a, b) == "Суд оштрафовал [Сбербанк], а ВТБ получил премию."
    assert encoder.marked("x" * 1000 + " ВТБ", 1001, 1004, width=5) == "xxxx [ВТБ]"
    enc = encoder.default_encoder()
    sber = enc.features(s, a, b)
    vtb = enc.features(s, s.index("ВТБ"), s.index("ВТБ") + 3)
    assert sber.shape == (768,) and np.allclose(np.linalg.norm(sber[:384]), 1, atol=1e-3)
    assert not np.allclose(sber[:384], vtb[:384])  # the brackets move: another embedding
    batch = enc.features_batch([(s, a, b)])
    assert batch.shape == (1, 768) and float(batch[0] @ sber) / 2 > 0.99  # batched and single calls agree


def test_model_with_an_encoder_part_uses_it_and_falls_back_without_it(monkeypatch, e5_on, tmp_path):
    """The shipped model has no e5 part (see the model card); one trained with --e5 uses the encoder when on."""
    from nlp import encoder

    m = linear_model()
    rng = np.random.default_rng(0)
    e5 = (rng.normal(0, 0.1, (768, 3)), np.zeros(3), np.zeros(768), np.ones(768))
    m5 = ToneModel(m.weights, m.bias, m.lexicon, m.bits, m.dense, m.offsets, m.syntax, e5, m.frames,
                   m.offsets_post, m.post_style)  # fmt: skip
    m5.save(tmp_path / "e5.npz")
    m5 = ToneModel.load(tmp_path / "e5.npz")
    assert m5.e5 is not None and m5.e5[0].shape == (768, 3)
    s = "Клиенты массово жалуются на Сбербанк: приложение не работает третий день."
    a = s.index("Сбербанк")
    with_e5 = m5.log_probs(s, a, a + 8)
    encoder.configure(False)
    assert not encoder.available()
    without = m5.log_probs(s, a, a + 8)
    assert not np.allclose(with_e5, without)
    assert np.allclose(without, m.log_probs(s, a, a + 8), atol=1e-3)
    res = m5.predict(s, a, a + 8)
    assert res.label in {"negative", "neutral", "positive"} and abs(sum(res.probs) - 1) < 1e-5


def test_frames_read_who_does_what_to_whom():
    m = linear_model()
    s = "Суд оштрафовал Сбербанк за нарушения."
    a = s.index("Сбербанк")
    res = m.predict(s, a, a + 8)
    assert res.label == "negative" and "оштрафовать" in res.reason
    fired = m.predict("Сбербанк уволил мошенников, похищавших деньги клиентов.", 0, 8)
    assert fired.label != "negative" and "мошенник" in fired.reason
    plain = m.predict("Сбербанк уволил сотрудников колл-центра.", 0, 8)
    assert "against a wrongdoer" not in plain.reason


@pytest.mark.parametrize(
    "sentence, target, word",
    [
        ("Сбербанк отменил комиссию за переводы.", "Сбербанк", "комиссия"),
        ("МТС отменил плату за роуминг по России.", "МТС", "роуминг"),
        ("Клиенты уходят из ВТБ в Сбербанк из-за выгодных ставок.", "Сбербанк", "выгодный"),
        ("Карты Сбербанка не работали за границей из-за технической ошибки.", "Сбербанка", "не работать"),
    ],
)
def test_reason_names_content_words_not_prepositions(sentence, target, word):
    """«за», «у», «и» may weigh in the model, but the reason an analyst reads lists content words only."""
    from nlp.lemmas import morph

    res = tone(sentence, target)
    words = [w.strip() for w in res.reason.split(",")]
    assert word in words
    assert not [w for w in words if " " not in w and morph().parse(w)[0].tag.POS in {"PREP", "CONJ", "PRCL"}]


def test_post_style_changes_the_features():
    from nlp.tone import target_features

    news = target_features("Сбербанк снизил ставки.", 0, 8, dense=False)
    post = target_features("сбербанк опять завис, верните деньги!!", 0, 8, dense=False)
    assert not news[2] and post[2]
    assert "STYLE:post" in post[0] and any(k.startswith("P|") for k in post[0])
