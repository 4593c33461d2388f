"""The linear-time analysis gives exactly what the previous (quadratic) code gave on realistic inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nlp.homonyms import TextIndex, judge
from nlp.lemmas import tokenize
from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from nlp.ner import entities, entities_many
from tests.nlp.golden import GOLDEN, ROOT, brand_set, snapshot
from training.eval_homonyms import read_set


@pytest.mark.slow
def test_same_mentions_verdicts_topics_and_codes_as_recorded():
    """Snapshot recorded with the code before the speed-up (dev-site news, the labelled homonym sentences,
    a long article with hundreds of mentions, posts with hashtags, handles and promo codes)."""
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = snapshot()
    assert len(now) == len(recorded) > 100
    assert sum(len(r["mentions"]) for r in recorded) > 800
    for got, want in zip(now, recorded, strict=True):
        assert got == want, got["id"]


def test_batched_ner_gives_the_spans_of_one_call_per_sentence():
    sentences = [s for _, s, _, _ in read_set()[:40]] + ["", "   "]
    batched = entities_many(sentences)
    assert batched == [entities(s) for s in sentences]
    assert sum(len(e) for e in batched) > 20
    assert batched[-2:] == [[], []]


def test_shared_index_gives_the_same_verdicts_as_a_fresh_one():
    brands = brand_set()
    text = (
        "ПАО «Магнит» отчиталось о росте выручки. Поднесите магнит к компасу, магнит притянет опилки. "
        "магнит и мегафон в одном посте #мтс. Полицейский через мегафон призвал людей разойтись."
    )
    tm = find_mentions(text, brands, BrandMatcher(brands))
    tokens = tokenize(text)
    index = TextIndex(text, tokens)
    checked = [f for f in tm.found if f.cues]
    assert len(checked) >= 4
    for f in checked:
        args = (text, tokens, f.hit.first_token, f.hit.n_tokens, f.sentence, tm.ents)
        assert judge(*args, index=index) == judge(*args)


def test_promo_codes_of_many_cards_match_whole_words():
    from nlp.context import promo_codes

    brands = brand_set()
    text = "Купон ROMA3LETO и РОМ7123, но не XROMA3LETO; ROMA11ZIMA работает. " * 3
    # the cue word's code first, then card by card («ROMA1\w+» of card 1 takes ROMA11ZIMA before card 7)
    assert promo_codes(text, brands.brands) == ["ROMA3LETO", "ROMA11ZIMA", "РОМ7123"]


def test_spacy_tokenizer_does_not_drag_in_torch():
    code = (
        "import sys\nfrom nlp.lemmas import tokenize\n"
        "assert [t.text for t in tokenize('Сбер, привет!')] == ['Сбер', ',', 'привет', '!']\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
