"""Tone towards a marked entity in a sentence.

Two models share one interface (`predict`, `predict_batch`, `version`): this module's linear model (`ToneModel`:
hashed features, navec vectors and optional e5 embeddings; the `fast` mode) and the transformer mode, the default
(`nlp.tone_student`: an 8-layer e5 student, int8 ONNX, mixed with the linear model; see nlp/models/README.md).
`configure(mode)` picks one per process (from the `tone` setting) before `default_model()` first loads it.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nlp import encoder
from nlp.frames import FrameTable, against_wrongdoer, find_frames, frame_features, frame_reason
from nlp.homonyms import casual
from nlp.lemmas import Token, tokenize, word_info
from rezonans.config import Settings
from rezonans.model import Sentiment

if TYPE_CHECKING:
    from nlp.tone_student import StudentTone

log = logging.getLogger(__name__)
ToneMode = Literal["fast", "transformer"]

LABELS: tuple[Sentiment, Sentiment, Sentiment] = ("negative", "neutral", "positive")
MODEL_PATH = Path(__file__).parent / "models" / "tone.npz"
DIM_BITS = 18
_NEG = {"не", "нет", "без", "ни", "никак", "нельзя"}
_WORD = re.compile(r"\w")
_QUOTES_OPEN = {"«", "“", "„", '"'}
_QUOTES_CLOSE = {"»", "”", "“", '"'}
_SPEECH = {
    "заявить",
    "сказать",
    "сообщить",
    "отметить",
    "подчеркнуть",
    "считать",
    "признать",
    "назвать",
    "обвинить",
    "пояснить",
    "написать",
    "говорить",
    "добавить",
    "рассказать",
    "уверить",
    "пообещать",
}


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


def analyse_tokens(tokens: list[Token]) -> list[_Tok]:
    """Lemma, part of speech, case and negation mark of each token."""
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


def _target_tokens(tokens: list[Token], start: int, end: int) -> tuple[int, int]:
    """First and last token index of the target span (the nearest token if the span is off token boundaries)."""
    inside = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
    if not inside:
        inside = [min(range(len(tokens)), key=lambda i: abs(tokens[i].start - start))]
    return inside[0], inside[-1]


def features(sentence: str, start: int, end: int, lexicon: dict[str, float] | None = None) -> dict[str, float]:
    """Entity-relative features of the target span [start, end) in a sentence."""
    tokens = tokenize(sentence)
    return token_features(tokens, analyse_tokens(tokens), start, end, lexicon)


def token_features(
    tokens: list[Token], toks: list[_Tok], start: int, end: int, lexicon: dict[str, float] | None
) -> dict[str, float]:
    """Entity-relative sparse features from analysed tokens."""
    feats: dict[str, float] = {"bias": 1.0}
    if not tokens:
        return feats
    a, b = _target_tokens(tokens, start, end)
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
    for x, y in zip(words, words[1:], strict=False):
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


DENSE_TAU = 3.0  # decay (in tokens) of the distance weights of the left/right context vectors
DENSE_PARTS = ("left", "right", "sentence", "target", "negated")


@lru_cache(maxsize=1)
def embeddings():
    """natasha's navec news embeddings (300-d, shipped in the natasha wheel; nothing is downloaded), the same
    object the NER tagger uses (one copy per process: ≈ 94 MiB)."""
    from nlp.ner import news_embedding

    return news_embedding()


LEX_TAUS = (2.0, 5.0, 1e9)  # decays of the lexicon sums (the last one: no decay)


def dense_features(
    sentence: str, start: int, end: int, lexicon: dict[str, float] | None = None, emb=None
) -> np.ndarray:
    """Navec context vectors of the target (distance-weighted left/right, sentence mean, target, negated words)
    and distance-weighted lexicon polarity sums left/right."""
    tokens = tokenize(sentence)
    return token_dense_features(tokens, analyse_tokens(tokens), start, end, lexicon, emb)


def token_dense_features(
    tokens: list[Token], toks: list[_Tok], start: int, end: int, lexicon: dict[str, float] | None = None, emb=None
) -> np.ndarray:
    """Five 300-d means (zeros where a part has no known word) and 12 lexicon sums, concatenated."""
    emb = emb if emb is not None else embeddings()
    lexicon = lexicon or {}
    dim = 300
    lex = np.zeros(4 * len(LEX_TAUS))  # per decay: positive left, positive right, negative left, negative right
    left, right, neg = np.zeros(dim), np.zeros(dim), np.zeros(dim)
    wl = wr = wn = 0.0
    sent: list[np.ndarray] = []
    target: list[np.ndarray] = []
    if tokens:
        a, b = _target_tokens(tokens, start, end)
        for i, (t, x) in enumerate(zip(tokens, toks, strict=False)):
            if not x.word:
                continue
            if not a <= i <= b:
                d = i - b if i > b else i - a
                polarity = lexicon.get(x.lemma, 0.0) * (-1 if x.neg else 1)
                if polarity:
                    side = 0 if d < 0 else 1
                    for j, tau in enumerate(LEX_TAUS):
                        w = float(np.exp(-abs(d) / tau))
                        lex[4 * j + side] += w * max(polarity, 0.0)
                        lex[4 * j + 2 + side] += w * max(-polarity, 0.0)
            v = emb.get(t.text.lower())
            if v is None:
                v = emb.get(x.lemma)
            if v is None:
                continue
            if a <= i <= b:
                target.append(v)
                continue
            dist = i - b if i > b else i - a
            w = float(np.exp(-abs(dist) / DENSE_TAU))
            sent.append(v)
            if x.neg:
                neg += w * v
                wn += w
            if dist < 0:
                left += w * v
                wl += w
            else:
                right += w * v
                wr += w
    zero = np.zeros(dim)
    parts = [
        left / wl if wl else zero,
        right / wr if wr else zero,
        np.mean(sent, axis=0) if sent else zero,
        np.mean(target, axis=0) if target else zero,
        neg / wn if wn else zero,
        np.tanh(lex),
    ]
    return np.concatenate(parts).astype(np.float32)


@lru_cache(maxsize=1)
def _syntax():
    """natasha's segmenter and news syntax parser (shipped in its wheel; slovnet, numpy only)."""
    from natasha import NewsSyntaxParser, Segmenter

    return Segmenter(), NewsSyntaxParser(embeddings())


@lru_cache(maxsize=16)
def _parse(sentence: str) -> tuple:
    """Dependency parse of one sentence, cached: several mentions in one sentence share a parse."""
    from natasha import Doc

    segmenter, parser = _syntax()
    doc = Doc(sentence)
    doc.segment(segmenter)
    doc.parse_syntax(parser)
    return tuple(doc.tokens)


def syntax_features(
    sentence: str, start: int, end: int, frames: FrameTable | None = None, lexicon: dict[str, float] | None = None
) -> dict[str, float]:
    """Dependency cues of the target: its relation, head word, the head's other dependents, its own dependents;
    with a frame table also the RuSentiFrames features of the target's role (`nlp.frames`)."""
    return _syntax_and_frames(sentence, start, end, frames, lexicon)[0]


def _syntax_and_frames(
    sentence: str, start: int, end: int, frames: FrameTable | None, lexicon: dict[str, float] | None = None
) -> tuple[dict[str, float], list]:
    """Dependency features and the frames found around the target."""
    toks = _parse(sentence)
    inside = [t for t in toks if t.start < end and t.stop > start]
    feats: dict[str, float] = {}
    if not inside:
        return feats, []
    ids = {t.id for t in inside}
    by_id = {t.id: t for t in toks}
    head = next((t for t in inside if t.head_id not in ids), inside[0])

    def lemma(t) -> str:
        return word_info(t.text.lower()).lemma

    feats["DEP:" + head.rel] = 1.0
    parent = by_id.get(head.head_id)
    if parent is not None:
        feats["HEAD:" + lemma(parent)] = 1.0
        feats[f"HR:{head.rel}:{lemma(parent)}"] = 1.0
        grand = by_id.get(parent.head_id)
        if grand is not None:
            feats["GP:" + lemma(grand)] = 0.5
    for t in toks:
        if t.id in ids or t.rel == "punct":
            continue
        if parent is not None and t.head_id == parent.id:
            feats[f"SIB:{t.rel}:{lemma(t)}"] = 1.0
            feats["SIBW:" + lemma(t)] = 0.5
        elif t.head_id in ids:
            feats["CH:" + lemma(t)] = 1.0
    hits = find_frames(toks, ids, frames) if frames else []
    if hits:
        feats.update(frame_features(hits, lexicon))
    return feats, hits


def post_features(feats: dict[str, float]) -> dict[str, float]:
    """Domain copies for post-style text: every feature also under a `P|` prefix (frustratingly easy adaptation)."""
    out = dict(feats)
    for name, value in feats.items():
        out["P|" + name] = value
    out["STYLE:post"] = 1.0
    return out


def target_features(
    sentence: str,
    start: int,
    end: int,
    lexicon: dict[str, float] | None = None,
    syntax: bool = True,
    frames: FrameTable | None = None,
    dense: bool = True,
    tokens: list[Token] | None = None,
) -> tuple[dict[str, float], np.ndarray | None, bool, list]:
    """Everything the tone model reads about one target: sparse features, dense vector (or None), post style, frames."""
    tokens = tokenize(sentence) if tokens is None else tokens
    toks = analyse_tokens(tokens)
    feats = token_features(tokens, toks, start, end, lexicon)
    hits: list = []
    if syntax:
        extra, hits = _syntax_and_frames(sentence, start, end, frames, lexicon)
        feats.update(extra)
    post = casual(sentence)
    if post:
        feats = post_features(feats)
    vec = None
    if dense:
        vec = np.append(token_dense_features(tokens, toks, start, end, lexicon), np.float32(post))
    return feats, vec, post, hits


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

    label: Sentiment
    score: float  # P(positive) - P(negative), in -1..1
    probs: tuple[float, float, float]
    reason: str = ""  # the words or frame that decided it («оштрафовать (− for A1)», «сбой, пожаловаться»)


class ToneModel:
    """Sparse, dense and sentence-encoder multinomial linear models, log-probabilities averaged, plus offsets.

    The offsets (added to the averaged log-probabilities of negative / neutral / positive) are chosen by
    cross-validation to maximise F1 over the positive and negative classes, separately for news-style and
    post-style text: they trade neutral precision for positive/negative recall.
    """

    def __init__(
        self,
        weights: np.ndarray,
        bias: np.ndarray,
        lexicon: dict[str, float],
        bits: int = DIM_BITS,
        dense: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
        offsets: np.ndarray | None = None,
        syntax: bool = False,
        e5: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
        frames: FrameTable | None = None,
        offsets_post: np.ndarray | None = None,
        post_style: bool = False,
    ) -> None:
        self.weights = weights.astype(np.float32)  # (dim, 3): negative, neutral, positive
        self.bias = bias.astype(np.float32)
        self.lexicon = lexicon
        self.bits = bits
        # dense model: (weights (D, 3), bias (3,), feature mean (D,), feature scale (D,)) over `dense_features`
        self.dense = tuple(a.astype(np.float32) for a in dense) if dense is not None else None
        self.offsets = (np.zeros(3) if offsets is None else np.asarray(offsets)).astype(np.float32)
        self.offsets_post = self.offsets if offsets_post is None else np.asarray(offsets_post, dtype=np.float32)
        self.syntax = syntax  # add `syntax_features` to the sparse features
        # sentence-encoder model: (weights (768, 3), bias (3,), mean (768,), scale (768,)) over `encoder.features`
        self.e5 = tuple(a.astype(np.float32) for a in e5) if e5 is not None else None
        self.frames = frames or {}  # RuSentiFrames table (`nlp.frames`)
        self.post_style = post_style  # features know post-style text (`post_features`, a flag in the dense part)
        self.version = "linear-2"  # stored with each article (`tone_model`): reanalyze tells outdated ones

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> ToneModel:
        """Load the shipped artifact (needs numpy only)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"tone model {path} is missing: train it with `python -m training.train_tone DATA_DIR`"
            )
        with np.load(path, allow_pickle=False) as z:
            lexicon = dict(zip(z["lex_words"].tolist(), z["lex_scores"].astype(float).tolist(), strict=False))
            dense = None
            if "dense_weights" in z.files:
                dense = (z["dense_weights"], z["dense_bias"], z["dense_mean"], z["dense_scale"])
            offsets = z["offsets"] if "offsets" in z.files else None
            syntax = bool(z["syntax"]) if "syntax" in z.files else False
            e5 = None
            if "e5_weights" in z.files:
                e5 = (z["e5_weights"], z["e5_bias"], z["e5_mean"], z["e5_scale"])
            frames = json.loads(str(z["frames"])) if "frames" in z.files else None
            offsets_post = z["offsets_post"] if "offsets_post" in z.files else None
            post_style = bool(z["post_style"]) if "post_style" in z.files else False
            return cls(
                z["weights"],
                z["bias"],
                lexicon,
                int(z["bits"]),
                dense,
                offsets,
                syntax,
                e5,
                frames,
                offsets_post,
                post_style,
            )

    def save(self, path: str | Path) -> None:
        """Write weights (float16), biases, offsets, lexicon and frame table to a compressed .npz."""
        words = np.array(sorted(self.lexicon), dtype=str)
        extra: dict[str, np.ndarray] = {}
        if self.dense is not None:
            w, b, mean, scale = self.dense
            extra = {"dense_weights": w, "dense_bias": b, "dense_mean": mean, "dense_scale": scale}
        if self.e5 is not None:
            w, b, mean, scale = self.e5
            extra.update(e5_weights=w.astype(np.float16), e5_bias=b, e5_mean=mean, e5_scale=scale)
        if self.frames:
            extra["frames"] = np.array(json.dumps(self.frames, ensure_ascii=False))
        arrays: dict[str, Any] = dict(
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            bits=np.int64(self.bits),
            offsets=self.offsets,
            offsets_post=self.offsets_post,
            post_style=np.bool_(self.post_style),
            syntax=np.bool_(self.syntax),
            lex_words=words,
            lex_scores=np.array([self.lexicon[w] for w in words], dtype=np.float32),
            **extra,
        )
        np.savez_compressed(path, **arrays)

    def _parts(self, sentence: str, start: int, end: int) -> tuple[np.ndarray, dict[str, float], bool, list]:
        """Averaged log-probabilities before the offsets, the sparse features, post style and frames."""
        feats, vec, post, hits = target_features(
            sentence, start, end, self.lexicon, self.syntax, self.frames, self.dense is not None
        )
        if not self.post_style and post:
            feats = {k: v for k, v in feats.items() if not k.startswith(("P|", "STYLE:"))}
        keys, vals = vectorize(feats, self.bits)
        parts = [log_softmax(vals @ self.weights[keys] + self.bias)]
        if self.dense is not None and vec is not None:
            w, b, mean, scale = self.dense
            x = vec if len(vec) == len(mean) else vec[: len(mean)]
            parts.append(log_softmax(((x - mean) / scale) @ w + b))
        if self.e5 is not None and encoder.available():
            w, b, mean, scale = self.e5
            x = (encoder.default_encoder().features(sentence, start, end) - mean) / scale
            parts.append(log_softmax(x @ w + b))
        return np.mean(parts, axis=0), feats, post, hits

    def log_probs(self, sentence: str, start: int, end: int) -> np.ndarray:
        """Averaged log-probabilities of (negative, neutral, positive) before the class offsets."""
        return self._parts(sentence, start, end)[0]

    def predict(self, sentence: str, start: int, end: int) -> ToneResult:
        """Tone towards sentence[start:end], with the words or frame that decided it."""
        logp, feats, post, hits = self._parts(sentence, start, end)
        return self.decide(logp + (self.offsets_post if post else self.offsets), feats, hits)

    def parts(self, sentence: str, start: int, end: int) -> tuple[np.ndarray, dict[str, float], list]:
        """Log-probabilities with this model's offsets (before softmax), the sparse features and the frames found:
        what `decide` needs (the transformer mode mixes its own log-probabilities in)."""
        logp, feats, post, hits = self._parts(sentence, start, end)
        return logp + (self.offsets_post if post else self.offsets), feats, hits

    def decide(self, logits: np.ndarray, feats: dict[str, float], hits: list) -> ToneResult:
        """Label, score and reason from final logits (the «acting against a wrongdoer» rule applies)."""
        p = np.exp(logits - logits.max())
        p /= p.sum()
        k = int(p.argmax())
        bad = next((h for h in hits if against_wrongdoer(h, self.lexicon)), None)
        if bad is not None and k == 0:
            # acting against a wrongdoer («Сбербанк уволил мошенников») is not bad news for the one who acts
            p[0] = 0.0
            p /= p.sum()
            k = 1 if p[1] >= p[2] else 2
            return ToneResult(
                LABELS[k],
                float(p[2] - p[0]),
                (float(p[0]), float(p[1]), float(p[2])),
                f"{bad.key} {', '.join(bad.themes)} (against a wrongdoer)",
            )
        reason = self._reason(feats, k, hits) if k != 1 else ""
        return ToneResult(LABELS[k], float(p[2] - p[0]), (float(p[0]), float(p[1]), float(p[2])), reason)

    def predict_batch(self, items: list[tuple[str, int, int]]) -> list[ToneResult]:
        """`predict` for each (sentence, start, end)."""
        return [self.predict(s, a, b) for s, a, b in items]

    def _reason(self, feats: dict[str, float], k: int, hits: list) -> str:
        """The frame concerning the target whose effect agrees with the label, else the words that pushed most."""
        frame = frame_reason(hits)
        if frame and ((k == 0) == ("−" in frame)):
            return frame
        mask = (1 << self.bits) - 1
        push: dict[str, float] = {}
        for name, value in feats.items():
            word = _reason_word(name)
            if not word or _function_word(word):
                continue
            j = _h(name, mask)
            w = self.weights[j]
            push[word] = push.get(word, 0.0) + value * float(w[k] - w[1])
        top = [w for w, v in sorted(push.items(), key=lambda x: -x[1]) if v > 0.05][:3]
        return ", ".join(top)


_REASON_PREFIXES = ("w:", "win:", "L3:", "R3:", "L8:", "R8:", "VL:", "VR:", "SV:", "HEAD:", "SIBW:", "CH:")


def _reason_word(name: str) -> str:
    """The lemma a word feature is about (`L3:сбой` → «сбой», `SV:NEG_работать` → «не работать»), else ''."""
    name = name.removeprefix("P|")
    if not name.startswith(_REASON_PREFIXES):
        return ""
    word = name.split(":", 1)[1]
    return ("не " + word[4:]) if word.startswith("NEG_") else word


_FUNCTION_POS = {"PREP", "CONJ", "PRCL"}


def _function_word(word: str) -> bool:
    """A preposition, conjunction or particle («за», «у», «и»): it may weigh in the model, but it explains nothing
    to a reader of `tone_reason` (negated verbs such as «не работать» are phrases and stay)."""
    return " " not in word and _tag(word)[0] in _FUNCTION_POS


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Log of the softmax of a logit vector."""
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


_mode: dict[str, ToneMode] = {"tone": Settings.model_fields["tone"].default}  # the setting's default


def configure(mode: ToneMode) -> None:
    """Choose the process-wide tone model (from the `tone` setting): "transformer" (default) or "fast" (linear)."""
    if mode not in ("transformer", "fast"):
        raise ValueError(f"tone mode {mode!r}: expected 'transformer' or 'fast'")
    _mode["tone"] = mode


def current_mode() -> ToneMode:
    """The mode `default_model()` loads."""
    return _mode["tone"]


@lru_cache(maxsize=1)
def linear_model() -> ToneModel:
    """The shipped linear model, loaded once."""
    return ToneModel.load()


@lru_cache(maxsize=1)
def _student() -> StudentTone:
    from nlp.tone_student import StudentTone

    return StudentTone.load(linear=linear_model())


def default_model() -> ToneModel | StudentTone:
    """The configured tone model, loaded once (UserError with the fix when the transformer's files are missing)."""
    return linear_model() if _mode["tone"] == "fast" else _student()
