"""Reprint clusters: exact hash of normalised text, then MinHash LSH over word shingles within a time window."""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datasketch import MinHash, MinHashLSH

from rezonans.model import Article

log = logging.getLogger(__name__)
_WORDS = re.compile(r"\w+")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """Streaming (add → cluster id) and batch near-duplicate clustering; pickle-able state."""

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

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)

    def _minhash(self, words: list[str]) -> MinHash:
        """MinHash of the shingle set."""
        m = MinHash(num_perm=self.num_perm)
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
            a.is_original = self._clusters[a.cluster].original == a.id
        return arts

    def is_original(self, article: Article) -> bool:
        """Whether the article is (still) the earliest copy of its cluster."""
        cid = self._seen.get(article.id, (None, True))[0]
        return cid is None or self._clusters[cid].original == article.id

    def save(self, path: str | Path) -> None:
        """Persist the state (pickle) so that the next run keeps clustering against the last week."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> ReprintDetector:
        """Load saved state, or start empty when there is none or it cannot be read."""
        path = Path(path)
        if path.is_file():
            try:
                obj = pickle.loads(path.read_bytes())
                if isinstance(obj, cls):
                    return obj
            except Exception as exc:  # a broken state file must not stop analysis
                log.warning("cannot read reprint state %s (%s); starting a new one", path, exc)
        return cls(**kwargs)
