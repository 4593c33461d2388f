"""The transformer tone model: an 8-layer multilingual-e5-small student on a marked window, int8 ONNX.

Trained by `training.train_tone_student` (model card: nlp/models/README.md). Inference needs onnxruntime and
tokenizers (main dependencies); `predict_batch` takes one article's mentions at once. The artifact is three
files in nlp/models/: `tone_student.onnx`, `tone_student_tokenizer.json` and `tone_student.json` (version, class
offsets and the mixing weight with the linear model, each for news-style and post-style text).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

from nlp import tone_window as tw
from nlp.homonyms import casual
from nlp.lemmas import word_info
from nlp.tone import LABELS, ToneModel, ToneResult, log_softmax
from rezonans.errors import UserError

log = logging.getLogger(__name__)
MODELS = Path(__file__).parent / "models"
_WORDS = re.compile(r"\w+")
# Windows per network call. Dynamic int8 quantisation scales the activations per tensor, i.e. over the whole
# batch, so a batched result would depend on the other mentions in it (probabilities move by ~0.002); one window
# per call keeps each mention's tone reproducible, for ≈25 % more CPU than batches of four.
_BATCH = 1


def artifact_files(folder: Path = MODELS) -> tuple[Path, Path, Path]:
    """The network, tokenizer and metadata files of the student."""
    return folder / "tone_student.onnx", folder / "tone_student_tokenizer.json", folder / "tone_student.json"


class StudentTone:
    """Tone towards a target from the student network (same `predict` interface as `nlp.tone.ToneModel`).

    With a `linear` model the decision mixes both: `mix` × (student log-probabilities + its offsets) +
    (1 − `mix`) × (the linear model's, with its offsets); the linear model then also gives the reason (frame or
    words) and its «acting against a wrongdoer» rule applies. Without one, the student decides alone. The file's
    `mix` is one weight or one per style ({"news": …, "posts": …}); a `mix` argument sets both.
    """

    def __init__(
        self,
        session,
        tokenizer,
        meta: dict,
        lexicon: dict[str, float] | None = None,
        linear: ToneModel | None = None,
        mix: float | dict[str, float] | None = None,
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.meta = meta
        self.offsets = np.asarray(meta["offsets_news"], dtype=np.float32)
        self.offsets_post = np.asarray(meta["offsets_posts"], dtype=np.float32)
        self.lexicon = lexicon if lexicon is not None else (linear.lexicon if linear is not None else {})
        weights = meta.get("mix", 0.5) if mix is None else mix
        if not isinstance(weights, dict):
            weights = {"news": weights, "posts": weights}
        self.mix_news, self.mix_posts = (float(weights[k]) if linear is not None else 1.0 for k in ("news", "posts"))
        self.linear = linear if min(self.mix_news, self.mix_posts) < 1.0 else None
        version = str(meta.get("version", "student"))
        at = f"{self.mix_news:g}" if self.mix_news == self.mix_posts else f"{self.mix_news:g}/{self.mix_posts:g}"
        self.version = f"{version}+{self.linear.version}@{at}" if self.linear is not None else version

    @classmethod
    def load(
        cls,
        folder: Path = MODELS,
        lexicon: dict[str, float] | None = None,
        threads: int = 1,
        linear: ToneModel | None = None,
        mix: float | dict[str, float] | None = None,
    ) -> StudentTone:
        """Load the artifact; UserError (with the fix) when a file or onnxruntime/tokenizers is missing."""
        onnx_path, tok_path, meta_path = artifact_files(folder)
        missing = [p.name for p in (onnx_path, tok_path, meta_path) if not p.is_file()]
        if missing:
            raise UserError(
                f"transformer tone model files missing in {folder}: {', '.join(missing)}; restore them "
                "(git checkout nlp/models), train them with `python -m training.train_tone_student DATA_DIR`, "
                "or use the linear model: REZONANS_TONE=fast"
            )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise UserError(
                f"the transformer tone model needs onnxruntime and tokenizers ({exc}): reinstall the package "
                "(`pip install -e .`) or use the linear model: REZONANS_TONE=fast"
            ) from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return cls(session, Tokenizer.from_file(str(tok_path)), meta, lexicon, linear, mix)

    def logits(self, windows: list[tw.Window]) -> np.ndarray:
        """Raw network outputs (n, 3), `_BATCH` windows of similar length per call."""
        out = np.zeros((len(windows), 3), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        for s in range(0, len(order), _BATCH):
            idx = order[s : s + _BATCH]
            ids, mask, tmask = tw.batch([windows[i] for i in idx])
            out[idx] = self.session.run(None, {"ids": ids, "mask": mask, "tmask": tmask})[0]
        return out

    def predict(self, sentence: str, start: int, end: int) -> ToneResult:
        """Tone towards sentence[start:end]."""
        return self.predict_batch([(sentence, start, end)])[0]

    def predict_batch(self, items: list[tuple[str, int, int]]) -> list[ToneResult]:
        """Tone towards each (sentence, start, end), one network pass for all."""
        if not items:
            return []
        windows = [tw.window(self.tokenizer, s, a, b) for s, a, b in items]
        z = self.logits(windows)
        results = []
        for (sentence, a, b), w, row in zip(items, windows, z, strict=True):
            post = casual(sentence)
            logits = log_softmax(row) + (self.offsets_post if post else self.offsets)
            if self.linear is not None:
                lin, feats, hits = self.linear.parts(sentence, a, b)
                mix = self.mix_posts if post else self.mix_news
                res = self.linear.decide(mix * logits + (1.0 - mix) * lin, feats, hits)
                if res.label != "neutral" and not res.reason:
                    res.reason = self.reason(w.text, LABELS.index(res.label))
                results.append(res)
                continue
            p = np.exp(logits - logits.max())
            p /= p.sum()
            k = int(p.argmax())
            probs = (float(p[0]), float(p[1]), float(p[2]))
            results.append(ToneResult(LABELS[k], float(p[2] - p[0]), probs, self.reason(w.text, k)))
        return results

    def reason(self, text: str, k: int) -> str:
        """Empty for neutral; else lexicon words of the window that agree with the label, or the window itself."""
        if k == 1:
            return ""
        sign = -1.0 if k == 0 else 1.0
        words: list[str] = []
        for m in _WORDS.finditer(text):
            lemma = word_info(m.group().lower()).lemma
            if self.lexicon.get(lemma, 0.0) * sign >= 0.4 and lemma not in words:
                words.append(lemma)
        if words:
            return ", ".join(words[:3])
        snippet = " ".join(text.split())
        return f"«{snippet[:117]}…»" if len(snippet) > 120 else f"«{snippet}»"
