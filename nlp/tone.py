"""Tone towards a marked entity in a sentence: entity-relative hashed features + a linear model (numpy only)."""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlp.lemmas import Token, tokenize, word_info

log = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
MODEL_PATH = Path(__file__).parent / "models" / "tone.npz"
DIM_BITS = 18
_NEG = {"не", "нет", "без", "ни", "никак", "нельзя"}
_WORD = re.compile(r"\w")
_QUOTES_OPEN = {"«", "“", "„", '"'}
_QUOTES_CLOSE = {"»", "”", "“", '"'}
_SPEECH = {"заявить", "сказать", "сообщить", "отметить", "подчеркнуть", "считать", "признать", "назвать",
           "обвинить", "пояснить", "написать", "говорить", "добавить", "рассказать", "уверить", "пообещать"}


def _h(feature: str, mask: int) -> int:
    """Stable hash of a feature name into the weight vector."""
    return zlib.crc32(feature.encode("utf-8")) & mask


@dataclass(slots=True)
class _Tok:
    lemma: str
    pos: str
    case: str
    word: bool
    neg: bool  # preceded by a negation word


def _analyse(tokens: list[Token]) -> list[_Tok]:
    """Lemma, part of speech, case and negation mark of each token."""
    from nlp.lemmas import morph

    out: list[_Tok] = []
    prev_neg = False
    for t in tokens:
        low = t.text.lower()
        if not _WORD.search(low):
            out.append(_Tok(t.text, "PNCT", "", False, False))
            prev_neg = False if t.text not in {"-", "–"} else prev_neg
            continue
        info = word_info(low)
        tag = _tag(low)
        out.append(_Tok(info.lemma, tag[0], tag[1], True, prev_neg))
        prev_neg = info.lemma in _NEG
    return out


@lru_cache(maxsize=200_000)
def _tag(word: str) -> tuple[str, str]:
    """Part of speech and case of the most probable parse."""
    from nlp.lemmas import morph

    p = morph().parse(word)[0]
    return (str(p.tag.POS or "X"), str(p.tag.case or ""))


def features(sentence: str, start: int, end: int, lexicon: dict[str, float] | None = None) -> dict[str, float]:
    """Entity-relative features of the target span [start, end) in a sentence."""
    tokens = tokenize(sentence)
    toks = _analyse(tokens)
    inside = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
    feats: dict[str, float] = {"bias": 1.0}
    if not inside:
        # target not on a token boundary: take the nearest token
        inside = [min(range(len(tokens)), key=lambda i: abs(tokens[i].start - start))] if tokens else []
    if not tokens:
        return feats
    a, b = inside[0], inside[-1]
    lexicon = lexicon or {}
    lex_sent = lex_win = 0.0
    lex_pos = lex_neg = 0.0

    def add(name: str, value: float = 1.0) -> None:
        feats[name] = feats.get(name, 0.0) + value

    for i, t in enumerate(toks):
        if not t.word or a <= i <= b:
            continue
        lem = ("NEG_" if t.neg else "") + t.lemma
        add("w:" + lem)
        dist = i - b if i > b else i - a
        if abs(dist) <= 3:
            add(("L3:" if dist < 0 else "R3:") + lem)
        if abs(dist) <= 8:
            add(("L8:" if dist < 0 else "R8:") + lem)
            add("win:" + lem)
        if t.pos in {"VERB", "INFN", "PRTF", "PRTS"}:
            add(("VL:" if dist < 0 else "VR:") + lem, 1.0 if abs(dist) <= 6 else 0.5)
        score = lexicon.get(t.lemma, 0.0)
        if score:
            if t.neg:
                score = -score
            lex_sent += score
            if score > 0:
                lex_pos += score
            else:
                lex_neg -= score
            if abs(dist) <= 6:
                lex_win += score
    # bigrams of lemmas
    words = [t.lemma for t in toks if t.word]
    for x, y in zip(words, words[1:]):
        add(f"b:{x}_{y}", 0.5)
    # the target itself
    head = toks[a]
    add("Tcase:" + head.case)
    add("Tpos:" + ("first" if a <= 1 else "early" if a < len(toks) / 3 else "late"))
    if head.case == "nomn":
        nxt = next((t for t in toks[b + 1 : b + 6] if t.pos in {"VERB", "PRTS"}), None)
        if nxt:
            add("SV:" + ("NEG_" if nxt.neg else "") + nxt.lemma, 2.0)
    prv = next((t for t in reversed(toks[max(0, a - 5) : a]) if t.pos in {"VERB", "PRTS", "INFN"}), None)
    if prv and head.case in {"accs", "gent", "datv", "ablt", "nomn"}:
        # nominative and accusative look alike for inanimate nouns: after a verb, take it as the object
        add("VO:" + ("accs" if head.case == "nomn" else head.case) + ":" + prv.lemma, 2.0)
    if head.case in {"accs", "gent", "datv", "ablt"}:
        prep = toks[a - 1].lemma if a > 0 and toks[a - 1].pos == "PREP" else ""
        if prep:
            add("P:" + prep)
    # quoted speech: is the target inside quotes, is the sentence a quote with a speech verb?
    opened = sum(1 for t in tokens[:a] if t.text in _QUOTES_OPEN) - sum(1 for t in tokens[:a] if t.text in {"»", "”"})
    if opened > 0:
        add("Tquoted")
    if any(t.lemma in _SPEECH for t in toks):
        add("speech")
        if tokens[0].text in _QUOTES_OPEN:
            add("quote_first")
    if any(t.neg for t in toks):
        add("has_neg")
    add("lex_sent", float(np.tanh(lex_sent / 2)))
    add("lex_win", float(np.tanh(lex_win / 2)))
    add("lex_pos", float(np.tanh(lex_pos / 2)))
    add("lex_neg", float(np.tanh(lex_neg / 2)))
    return feats


def vectorize(feats: dict[str, float], bits: int = DIM_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Hashed (indices, values) of a feature dict."""
    mask = (1 << bits) - 1
    idx: dict[int, float] = {}
    for name, value in feats.items():
        j = _h(name, mask)
        idx[j] = idx.get(j, 0.0) + value
    keys = np.fromiter(idx.keys(), dtype=np.int64, count=len(idx))
    vals = np.fromiter(idx.values(), dtype=np.float32, count=len(idx))
    return keys, vals


@dataclass
class ToneResult:
    """Tone towards one target."""

    label: str
    score: float  # P(positive) - P(negative), in -1..1
    probs: tuple[float, float, float]


class ToneModel:
    """A multinomial linear model over hashed entity-relative features, stored as a small .npz."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, lexicon: dict[str, float], bits: int = DIM_BITS) -> None:
        self.weights = weights.astype(np.float32)  # (dim, 3): negative, neutral, positive
        self.bias = bias.astype(np.float32)
        self.lexicon = lexicon
        self.bits = bits

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> "ToneModel":
        """Load the shipped artifact (needs numpy only)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"tone model {path} is missing: train it with `python -m nlp.train_tone DATA_DIR`")
        with np.load(path, allow_pickle=False) as z:
            lexicon = dict(zip(z["lex_words"].tolist(), z["lex_scores"].astype(float).tolist()))
            return cls(z["weights"], z["bias"], lexicon, int(z["bits"]))

    def save(self, path: str | Path) -> None:
        """Write weights (float16), bias and lexicon to a compressed .npz."""
        words = np.array(sorted(self.lexicon), dtype=str)
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            bits=np.int64(self.bits),
            lex_words=words,
            lex_scores=np.array([self.lexicon[w] for w in words], dtype=np.float32),
        )

    def predict(self, sentence: str, start: int, end: int) -> ToneResult:
        """Tone towards sentence[start:end]."""
        keys, vals = vectorize(features(sentence, start, end, self.lexicon), self.bits)
        logits = vals @ self.weights[keys] + self.bias
        logits = logits - logits.max()
        p = np.exp(logits)
        p /= p.sum()
        k = int(p.argmax())
        return ToneResult(LABELS[k], float(p[2] - p[0]), (float(p[0]), float(p[1]), float(p[2])))


@lru_cache(maxsize=1)
def default_model() -> ToneModel:
    """The shipped tone model, loaded once."""
    return ToneModel.load()
