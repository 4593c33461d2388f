"""The transformer tone model's input: a window of subword tokens around a target marked with brackets.

Shared by training (`training.train_tone_student`) and inference (`nlp.tone_student`) so both see the same ids.
The target is written as «… [Сбербанк] повысил …», the text is cut to `CHARS` characters on each side, tokenised
with the student's pruned Unigram vocabulary, and `WINDOW` tokens are kept on each side of the bracketed target
(at most `TARGET` tokens of the target itself), between <s> and </s>.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 32  # subword tokens kept on each side of the marked target
TARGET = 12  # at most this many tokens of the target (brackets included)
CHARS = 400  # characters of text kept on each side before tokenising
BOS, PAD, EOS, UNK = 0, 1, 2, 3


@dataclass(slots=True)
class Window:
    """Token ids of one marked window and the positions of the target's tokens (brackets included)."""

    ids: list[int]
    target: list[int]
    text: str  # the marked text the ids were cut from (for tone_reason)


def marked_text(sentence: str, start: int, end: int) -> tuple[str, int, int]:
    """The text around sentence[start:end] with the target in brackets, and the bracketed span's offsets."""
    left = sentence[max(0, start - CHARS) : start]
    right = sentence[end : end + CHARS]
    target = sentence[start:end].strip() or sentence[start:end]
    text = f"{left}[{target}]{right}"
    return text, len(left), len(left) + len(target) + 2


def window(tokenizer, sentence: str, start: int, end: int) -> Window:
    """The window of one target (tokenizer: a `tokenizers.Tokenizer` with the student's vocabulary)."""
    text, a, b = marked_text(sentence, start, end)
    enc = tokenizer.encode(text, add_special_tokens=False)
    ids = enc.ids
    inside = [i for i, (s, e) in enumerate(enc.offsets) if s < b and e > a]
    if not inside:
        inside = [min(range(len(ids)), key=lambda i: abs(enc.offsets[i][0] - a))] if ids else []
    if not ids:
        return Window([BOS, EOS], [0], text)
    t0, t1 = inside[0], min(inside[-1], inside[0] + TARGET - 1)
    lo, hi = max(0, t0 - WINDOW), min(len(ids), t1 + 1 + WINDOW)
    cut = ids[lo:hi]
    target = [1 + i - lo for i in range(t0, t1 + 1)]
    first, last = enc.offsets[lo][0], enc.offsets[hi - 1][1]
    return Window([BOS, *cut, EOS], target, text[first:last])


def batch(windows: list[Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded ids (int64), attention mask and target mask (float32), shape (n, longest window)."""
    n = len(windows)
    length = max(len(w.ids) for w in windows)
    ids = np.full((n, length), PAD, dtype=np.int64)
    mask = np.zeros((n, length), dtype=np.float32)
    tmask = np.zeros((n, length), dtype=np.float32)
    for i, w in enumerate(windows):
        ids[i, : len(w.ids)] = w.ids
        mask[i, : len(w.ids)] = 1.0
        tmask[i, w.target] = 1.0
    return ids, mask, tmask
