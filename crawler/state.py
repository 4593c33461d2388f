"""SQLite store of emitted article URLs, content hashes and feed validators, kept across runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from rezonans.files import private_file
from rezonans.model import Article, canonicalize_url

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    url TEXT PRIMARY KEY,
    content_hash TEXT,
    domain TEXT,
    source TEXT,
    published_at TEXT,
    emitted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_hash ON seen(domain, content_hash);
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_full_fetch TEXT,
    fetches INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS telegram_walk (
    channel TEXT PRIMARY KEY,
    newest_done INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bookmark (
    walk TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    pending INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
"""


def default_state_path(home: Path) -> Path:
    """Where the crawl state lives by default: <home>/crawl/state.sqlite3."""
    return Path(home) / "crawl" / "state.sqlite3"


class CrawlBusy(RuntimeError):
    """Another crawl holds the lock of this state store."""


@contextlib.contextmanager
def crawl_lock(state_path: Path | str) -> Iterator[Path]:
    """Hold `<state>.lock` for a crawl; CrawlBusy (naming the holder's pid) when another crawl has it."""
    path = private_file(Path(f"{state_path}.lock"))
    fh = open(path, "r+", encoding="utf-8")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read().strip() or "unknown"
            raise CrawlBusy(
                f"another crawl is running on {state_path} (pid {holder}); wait for it to finish "
                "or give this one its own --state"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield path
    finally:
        fh.close()  # closing the file releases the lock


def _now() -> str:
    """Current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat()


class CrawlState:
    """Seen-article store; an URL is remembered only after its article went to the sink."""

    def __init__(self, path: Path | str, readonly: bool = False) -> None:
        self.path = Path(path)
        if not readonly:
            private_file(self.path)  # SQLite gives the -wal and -shm files the database file's mode
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        if not readonly:
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def seen(self, url: str) -> bool:
        """True when an article with this (canonicalised) URL was already emitted."""
        with self._lock:
            row = self.db.execute("SELECT 1 FROM seen WHERE url = ?", (canonicalize_url(url),)).fetchone()
        return row is not None

    def hash_seen(self, domain: str, digest: str) -> bool:
        """True when the same text was already emitted from this domain (mirror or print version)."""
        if not digest:
            return False
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM seen WHERE domain = ? AND content_hash = ? LIMIT 1", (domain, digest)
            ).fetchone()
        return row is not None

    def mark_emitted(self, article: Article) -> None:
        """Remember an article (its URL, its canonical URL and its content hash) as emitted."""
        stamp = _now()
        published = article.published_at.isoformat() if article.published_at else None
        urls = {canonicalize_url(article.url), canonicalize_url(article.canonical_url)}
        with self._lock:
            self.db.executemany(
                "INSERT OR REPLACE INTO seen(url, content_hash, domain, source, published_at, emitted_at) VALUES (?,?,?,?,?,?)",
                [(u, article.content_hash, article.source.domain, article.source.name, published, stamp) for u in urls],
            )

    def mark_urls(self, urls: list[str]) -> None:
        """Remember bare URLs as emitted (used to reconcile with an existing JSONL output)."""
        stamp = _now()
        with self._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR IGNORE INTO seen(url, emitted_at) VALUES (?, ?)",
                [(canonicalize_url(u), stamp) for u in urls],
            )
            self.db.execute("COMMIT")

    def count(self) -> int:
        """Number of remembered URLs."""
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def validators(self, url: str) -> tuple[str | None, str | None, datetime | None, int]:
        """(ETag, Last-Modified, time of the last unconditional fetch, fetch count) of a feed or listing."""
        with self._lock:
            row = self.db.execute(
                "SELECT etag, last_modified, last_full_fetch, fetches FROM http_cache WHERE url = ?", (url,)
            ).fetchone()
        if not row:
            return None, None, None, 0
        full = datetime.fromisoformat(row[2]) if row[2] else None
        return row[0], row[1], full, row[3]

    def walk_done(self, channel: str) -> int | None:
        """Newest post id of the last finished history walk of a channel: older known posts need no re-walk."""
        with self._lock:
            row = self.db.execute("SELECT newest_done FROM telegram_walk WHERE channel = ?", (channel,)).fetchone()
        return row[0] if row else None

    def save_walks(self, walks: dict[str, int]) -> None:
        """Record channels whose history walk finished in a completed run (newest post id reached)."""
        stamp = _now()
        walks = {channel: newest for channel, newest in walks.items() if 0 <= int(newest) < 2**63}
        with self._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO telegram_walk(channel, newest_done, updated_at) VALUES (?,?,?) ON CONFLICT(channel) "
                "DO UPDATE SET newest_done = MAX(newest_done, excluded.newest_done), updated_at = excluded.updated_at",
                [(channel, newest, stamp) for channel, newest in walks.items()],
            )
            self.db.execute("COMMIT")

    def bookmark(self, walk: str) -> str | None:
        """Where a finished run left a walk (the last page of a forum thread): the next run starts there."""
        with self._lock:
            row = self.db.execute("SELECT url FROM bookmark WHERE walk = ?", (walk,)).fetchone()
        return row[0] if row else None

    def pending_walks(self, source: str) -> list[tuple[str, str]]:
        """(walk, url) of a source's walks that a limit cut short: the next run goes on from `url` unconditionally."""
        with self._lock:
            rows = self.db.execute(
                "SELECT walk, url FROM bookmark WHERE source = ? AND pending = 1 ORDER BY updated_at", (source,)
            ).fetchall()
        return [(walk, url) for walk, url in rows]

    def save_bookmarks(self, bookmarks: dict[str, tuple[str, str, bool]]) -> None:
        """Record where the walks of a completed run stopped: walk → (url, source, cut short by a limit)."""
        stamp = _now()
        with self._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO bookmark(walk, url, source, pending, updated_at) VALUES (?,?,?,?,?) ON CONFLICT(walk) "
                "DO UPDATE SET url = excluded.url, source = excluded.source, pending = excluded.pending, "
                "updated_at = excluded.updated_at",
                [(walk, url, source, int(bool(pending)), stamp) for walk, (url, source, pending) in bookmarks.items()],
            )
            self.db.execute("COMMIT")

    def save_validators(self, entries: list[tuple[str, str | None, str | None, bool]]) -> None:
        """Store (url, etag, last_modified, was_unconditional) for feeds and listings fetched in a finished run."""
        stamp = _now()
        with self._lock:
            self.db.execute("BEGIN")
            for url, etag, modified, full in entries:
                self.db.execute(
                    "INSERT INTO http_cache(url, etag, last_modified, last_full_fetch, fetches) VALUES (?,?,?,?,1) "
                    "ON CONFLICT(url) DO UPDATE SET etag = COALESCE(excluded.etag, etag), "
                    "last_modified = COALESCE(excluded.last_modified, last_modified), "
                    "last_full_fetch = CASE WHEN ? THEN excluded.last_full_fetch ELSE last_full_fetch END, "
                    "fetches = fetches + 1",
                    (url, etag, modified, stamp if full else None, full),
                )
            self.db.execute("COMMIT")
