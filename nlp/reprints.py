"""Reprint clusters: exact hash of normalised text, then MinHash LSH over word shingles within a time window."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from rezonans.model import Article

log = logging.getLogger(__name__)
_WORDS = re.compile(r"\w+")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATE_FORMAT = "rezonans-reprints/1"


def normalise(text: str) -> list[str]:
    """Lower-case words (ё→е), punctuation and spacing dropped."""
    return _WORDS.findall(text.lower().replace("ё", "е"))


def shingles(words: list[str], k: int = 3) -> set[bytes]:
    """Word k-shingles as bytes."""
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


@dataclass
class _Cluster:
    id: str
    original: str
    original_at: datetime


@dataclass
class ReprintDetector:
    """Streaming (add → cluster id) and batch near-duplicate clustering; state saved as (gzipped) JSON."""

    threshold: float = 0.5
    num_perm: int = 64
    window_days: float = 7.0
    shingle: int = 3
    min_words: int = 25
    _lsh: MinHashLSH = field(init=False)
    _exact: dict[str, tuple[str, str]] = field(default_factory=dict)  # text hash -> (cluster id, first key)
    _mh: dict[str, MinHash] = field(default_factory=dict)  # key -> MinHash of LSH members
    _clusters: dict[str, _Cluster] = field(default_factory=dict)
    _member: dict[str, str] = field(default_factory=dict)  # key -> cluster id
    _seen: dict[str, tuple[str, bool]] = field(default_factory=dict)  # article id -> (cluster, is_original)
    _when: dict[str, datetime] = field(default_factory=dict)  # key -> date
    _queue: deque = field(default_factory=deque)  # (date, key, text hash) for eviction
    _latest: datetime = EPOCH
    _perm: Any = None  # (permutations, scheme) shared by every MinHash of this detector

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)

    def _minhash(self, words: list[str]) -> MinHash:
        """MinHash of the shingle set (the permutations are drawn once, not for every article: the same values)."""
        if self._perm is None:
            first = MinHash(num_perm=self.num_perm)
            self._perm = (first.permutations, first.scheme)
        m = MinHash(num_perm=self.num_perm, permutations=self._perm[0], scheme=self._perm[1])
        m.update_batch(list(shingles(words, self.shingle)))
        return m

    def _evict(self) -> None:
        """Forget articles older than the window (relative to the newest date seen)."""
        limit = self._latest - timedelta(days=self.window_days)
        while self._queue and self._queue[0][0] < limit:
            _, key, digest = self._queue.popleft()
            if key in self._lsh:
                self._lsh.remove(key)
            self._mh.pop(key, None)
            self._member.pop(key, None)
            self._when.pop(key, None)
            self._seen.pop(key, None)
            if self._exact.get(digest, ("", ""))[1] == key:
                del self._exact[digest]

    def add(self, article: Article) -> tuple[str, bool]:
        """Cluster id of an article and whether it is the original (earliest copy seen so far)."""
        if article.id in self._seen:
            return self._seen[article.id]
        when = article.published_at or article.crawled_at or datetime.now(UTC)
        if when > self._latest:
            self._latest = when
            self._evict()
        words = normalise(article.text or " ".join(p for p in (article.title, article.lead) if p))
        digest = hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()
        cluster_id = self._exact.get(digest, (None, ""))[0]
        mh = None
        if cluster_id is None and len(words) >= self.min_words:
            mh = self._minhash(words)
            best, best_sim = None, 0.0
            window = timedelta(days=self.window_days)
            for key in self._lsh.query(mh):
                other = self._when.get(key)
                if other is None or abs(other - when) > window:
                    continue
                sim = mh.jaccard(self._mh[key]) if key in self._mh else 0.0
                if sim > best_sim:
                    best, best_sim = key, sim
            if best is not None and best_sim >= self.threshold:  # LSH candidates include false positives
                cluster_id = self._member[best]
        if cluster_id is None or cluster_id not in self._clusters:
            cluster_id = "c" + article.id[:16]
            self._clusters[cluster_id] = _Cluster(cluster_id, article.id, when)
            is_original = True
        else:
            cl = self._clusters[cluster_id]
            is_original = when < cl.original_at
            if is_original:  # an earlier copy arrived late: it becomes the original
                cl.original, cl.original_at = article.id, when
        key = article.id
        self._exact.setdefault(digest, (cluster_id, key))
        self._member[key] = cluster_id
        self._when[key] = when
        if mh is not None and key not in self._lsh:
            self._lsh.insert(key, mh)
            self._mh[key] = mh
        self._queue.append((when, key, digest))
        self._seen[article.id] = (cluster_id, is_original)
        return cluster_id, is_original

    def assign(self, articles: Iterable[Article]) -> list[Article]:
        """Batch mode: cluster in date order and mark exactly the earliest copy of each cluster as original."""
        arts = list(articles)
        order = sorted(range(len(arts)), key=lambda i: (arts[i].published_at or EPOCH, i))
        for i in order:
            cid, _ = self.add(arts[i])
            arts[i].cluster = cid
        for a in arts:
            a.is_original = a.cluster is not None and self._clusters[a.cluster].original == a.id
        return arts

    def is_original(self, article: Article) -> bool:
        """Whether the article is (still) the earliest copy of its cluster."""
        cid = self._seen.get(article.id, (None, True))[0]
        return cid is None or self._clusters[cid].original == article.id

    def to_dict(self) -> dict:
        """The whole state as plain JSON data (MinHash values as base64 of their bytes)."""
        first = next(iter(self._mh.values()), None) or MinHash(num_perm=self.num_perm)
        dtype, scheme = first.hashvalues.dtype.str, first.scheme
        return {
            "format": STATE_FORMAT,
            "params": {
                "threshold": self.threshold,
                "num_perm": self.num_perm,
                "window_days": self.window_days,
                "shingle": self.shingle,
                "min_words": self.min_words,
            },
            "dtype": dtype,
            "scheme": scheme,
            "exact": self._exact,
            "minhash": {
                k: base64.b64encode(m.hashvalues.astype(dtype).tobytes()).decode() for k, m in self._mh.items()
            },
            "clusters": {k: [c.original, c.original_at.isoformat()] for k, c in self._clusters.items()},
            "member": self._member,
            "seen": self._seen,
            "when": {k: v.isoformat() for k, v in self._when.items()},
            "queue": [[when.isoformat(), key, digest] for when, key, digest in self._queue],
            "latest": self._latest.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ReprintDetector:
        """Rebuild a detector from `to_dict()` data (ValueError/KeyError/TypeError when it is not such data)."""
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError(f"not a reprint state (format {STATE_FORMAT!r} expected)")
        det = cls(**{k: data["params"][k] for k in ("threshold", "num_perm", "window_days", "shingle", "min_words")})
        dtype = np.dtype(str(data["dtype"]))
        for key, encoded in data["minhash"].items():
            values = np.frombuffer(base64.b64decode(encoded), dtype=dtype)
            if len(values) != det.num_perm:
                raise ValueError(f"MinHash of {key!r} has {len(values)} values, not {det.num_perm}")
            mh = MinHash(num_perm=det.num_perm, hashvalues=values.copy(), scheme=data["scheme"])
            det._mh[str(key)] = mh
            det._lsh.insert(str(key), mh)
        det._exact = {str(k): (str(v[0]), str(v[1])) for k, v in data["exact"].items()}
        det._clusters = {
            str(k): _Cluster(str(k), str(v[0]), datetime.fromisoformat(v[1])) for k, v in data["clusters"].items()
        }
        det._member = {str(k): str(v) for k, v in data["member"].items()}
        det._seen = {str(k): (str(v[0]), bool(v[1])) for k, v in data["seen"].items()}
        det._when = {str(k): datetime.fromisoformat(v) for k, v in data["when"].items()}
        det._queue = deque((datetime.fromisoformat(w), str(k), str(d)) for w, k, d in data["queue"])
        det._latest = datetime.fromisoformat(data["latest"])
        return det

    def save(self, path: str | Path) -> None:
        """Persist the state as JSON (gzipped when the name ends in .gz), written atomically, mode 0600."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if path.suffix == ".gz":
            raw = gzip.compress(raw, compresslevel=6)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> ReprintDetector:
        """Load saved JSON state, or start empty when there is none or it cannot be read (it is never executed:
        an old pickle file is refused and replaced on the next save)."""
        path = Path(path)
        if path.is_file():
            try:
                raw = path.read_bytes()
                if raw[:2] == b"\x1f\x8b":
                    raw = gzip.decompress(raw)
                return cls.from_dict(json.loads(raw.decode("utf-8")))
            except Exception as exc:  # a broken or foreign state file must not stop analysis
                log.warning(
                    "cannot read reprint state %s (%s: %s); starting a new one (it must be the JSON this version "
                    "writes: older pickle files are not read)",
                    path,
                    type(exc).__name__,
                    str(exc)[:200],
                )
        return cls(**kwargs)
