"""Bulk writer: streaming bulk with retries and back-off; a local spool when Elasticsearch is unreachable."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, TransportError, helpers

from indexer.client import ESUnavailable, connect
from indexer.store import action_for, engagement_action, ensure_templates
from rezonans.config import Settings
from rezonans.files import private_dir, private_file
from rezonans.model import Article, EngagementUpdate

log = logging.getLogger(__name__)


@dataclass
class BulkStats:
    """What a writer did: documents indexed, spooled for later, or rejected by the server."""

    indexed: int = 0
    spooled: int = 0
    rejected: int = 0
    updated: int = 0  # posts whose counters were refreshed (`add_engagement`)
    missing: int = 0  # refreshes of posts the index does not hold (skipped)
    spool_files: list[str] = field(default_factory=list)
    rejected_file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for --json output."""
        return dict(self.__dict__)


class Spool:
    """Append-only JSONL files of bulk actions that could not be sent; replayed later."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path: Path | None = None

    def _new_path(self, kind: str) -> Path:
        """A fresh file name carrying the writer's process id."""
        private_dir(self.folder)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        return self.folder / f"{kind}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.jsonl"

    def write(self, actions: list[dict[str, Any]]) -> Path:
        """Append actions to this writer's spool file (fsynced: a crash loses nothing written)."""
        if self._path is None:
            self._path = private_file(self._new_path("spool"))
        with self._path.open("a", encoding="utf-8") as fh:
            for action in actions:
                fh.write(json.dumps(action, ensure_ascii=False))
                fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        return self._path

    def adopt(self, journal: Path) -> Path:
        """Turn a journal whose batch could not be sent into a spool file."""
        target = self._new_path("spool")
        journal.rename(target)
        return target

    def files(self) -> list[Path]:
        """Files waiting to be replayed, oldest first: spool files and journals of writers that died."""
        if not self.folder.exists():
            return []
        orphans = [p for p in self.folder.glob("journal-*.jsonl") if not _pid_alive(_pid_of(p))]
        return sorted([*self.folder.glob("spool-*.jsonl"), *orphans], key=lambda p: p.stat().st_mtime)


class Journal:
    """Write-ahead file of the writer's unsent buffer, so that a killed process loses nothing it accepted."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.path: Path | None = None
        self._fh: Any = None

    def append(self, action: dict[str, Any]) -> None:
        """Add one action; it is in the operating system's hands when this returns (survives kill -9)."""
        if self._fh is None:
            self.path = private_file(self.spool._new_path("journal"))
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json.dumps(action, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self, sent: bool) -> Path | None:
        """End this batch: drop the file if it was sent, otherwise keep it as a spool file."""
        if self._fh is None:
            return None
        if not sent:
            os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        path, self.path = self.path, None
        assert path is not None
        if sent:
            path.unlink(missing_ok=True)
            return None
        return self.spool.adopt(path)


def _pid_of(path: Path) -> int:
    """Process id in a spool or journal file name (0 if none)."""
    parts = path.stem.split("-")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BulkWriter:
    """Buffers articles and sends them in bulk; when the server is down they go to the spool instead."""

    def __init__(
        self,
        settings: Settings,
        client: Elasticsearch | None = None,
        chunk_size: int = 500,
        max_retries: int = 3,
        initial_backoff: float = 1.0,
        refresh: bool = False,
        durable: bool = False,
        before_send: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.settings = settings
        # before_send(batch) may amend the actions' sources in place just before they go out (the pipeline keeps
        # analysts' tone corrections of documents that a new version of the same article replaces)
        self.before_send = before_send
        self.client = client or connect(settings)
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.refresh = refresh
        self.spool = Spool(settings.spool_dir)
        # durable: every accepted document is journalled first, so kill -9 between add() and flush() loses nothing.
        self.journal = Journal(self.spool) if durable else None
        self.stats = BulkStats()
        self._buffer: list[dict[str, Any]] = []
        self._templates_ready = False
        self._down_until = 0.0

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, article: Article, index: str | None = None) -> None:
        """Queue one article (its stable id makes re-sending harmless)."""
        self.add_action(action_for(article, self.settings, index))

    def add_engagement(self, update: EngagementUpdate) -> None:
        """Queue a refresh of a stored post's counters (a partial update; a post not in the index is skipped)."""
        self.add_action(engagement_action(update, self.settings))

    def add_action(self, action: dict[str, Any]) -> None:
        """Queue a ready bulk action (used by replay and re-analysis)."""
        if self.journal is not None:
            self.journal.append(action)
        self._buffer.append(action)
        if len(self._buffer) >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        """Send the buffer now; on connection failure spool it."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        if time.monotonic() < self._down_until:
            self._to_spool(batch, "server still unreachable")
            return
        try:
            if not self._templates_ready:
                ensure_templates(self.client, self.settings)
                self._templates_ready = True
            if self.before_send is not None:
                self.before_send(batch)
            self._send(batch)
            if self.journal is not None:
                self.journal.close(sent=True)
        except (TransportError, ConnectionError, ESUnavailable) as exc:  # ESUnavailable: from before_send
            # After the client's own retries, give the server a pause before trying again.
            self._down_until = time.monotonic() + 30
            self._to_spool(batch, str(exc))

    def _send(self, batch: list[dict[str, Any]]) -> None:
        """streaming_bulk with retries on 429; per-document rejections are kept in a file, not lost."""
        rejected: list[dict[str, Any]] = []
        for ok, item in helpers.streaming_bulk(
            self.client,
            batch,
            chunk_size=self.chunk_size,
            max_retries=self.max_retries,
            initial_backoff=self.initial_backoff,
            max_backoff=60,
            raise_on_error=False,
            raise_on_exception=True,
            refresh="wait_for" if self.refresh else False,
        ):
            op, info = next(iter(item.items()))
            if ok and op == "update":
                self.stats.updated += 1
            elif ok:
                self.stats.indexed += 1
            elif op == "update" and info.get("status") == 404:
                self.stats.missing += 1  # a refresh of a post that is not (or no longer) in this month's index
            else:
                rejected.append(item)
        if rejected:
            self._reject(rejected, batch)

    def _to_spool(self, batch: list[dict[str, Any]], reason: str) -> None:
        """Keep a batch on disk for `rezonans index replay` (a journalled batch is already there)."""
        kept = self.journal.close(sent=False) if self.journal is not None else None
        path = kept or self.spool.write(batch)
        self.stats.spooled += len(batch)
        if str(path) not in self.stats.spool_files:
            self.stats.spool_files.append(str(path))
            log.warning(
                "Elasticsearch unreachable (%s): spooling to %s; send later with `rezonans index replay`",
                reason.splitlines()[0][:200],
                path,
            )

    def _reject(self, items: list[dict[str, Any]], batch: list[dict[str, Any]]) -> None:
        """Write documents the server refused, with its reason, to rejected-*.jsonl beside the spool."""
        by_id = {a["_id"]: a for a in batch}
        folder = self.settings.spool_dir
        path = private_file(private_dir(folder) / f"rejected-{time.strftime('%Y%m%d')}.jsonl")
        with path.open("a", encoding="utf-8") as fh:
            for item in items:
                info = next(iter(item.values()))
                record = {"error": info.get("error"), "action": by_id.get(info.get("_id"))}
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.stats.rejected += len(items)
        self.stats.rejected_file = str(path)
        log.error("%d documents were rejected by Elasticsearch; kept with reasons in %s", len(items), path)

    def close(self) -> BulkStats:
        """Flush what is left and return the statistics."""
        self.flush()
        return self.stats


def replay(
    settings: Settings,
    client: Elasticsearch | None = None,
    chunk_size: int = 500,
    before_send: Callable[[list[dict[str, Any]]], None] | None = None,
) -> BulkStats:
    """Send spooled actions; a file is deleted only once all of it is in the index. One replay at a time: a second
    one waits for the first (then finds its files gone). before_send: as BulkWriter's (the pipeline's hook keeps
    analysts' tone corrections made since the document was spooled)."""
    client = client or connect(settings)
    with _replay_lock(settings.spool_dir):
        return _replay(settings, client, chunk_size, before_send)


@contextlib.contextmanager
def _replay_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the spool folder itself for the time of a replay (no lock file; released if the
    process dies)."""
    fd = os.open(private_dir(folder), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _replay(
    settings: Settings,
    client: Elasticsearch,
    chunk_size: int,
    before_send: Callable[[list[dict[str, Any]]], None] | None,
) -> BulkStats:
    """The replay itself, under the lock."""
    spool = Spool(settings.spool_dir)
    total = BulkStats()
    for path in spool.files():
        if not path.exists():  # replayed by another process while this one waited for the lock
            continue
        actions = []
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    actions.append(json.loads(line))
                except json.JSONDecodeError:
                    # A torn last line from a crash mid-write: everything before it is intact.
                    log.warning("%s:%d is not valid JSON (torn write?); skipped", path, lineno)
        writer = BulkWriter(settings, client=client, chunk_size=chunk_size, before_send=before_send)
        for action in actions:
            writer.add_action(action)
        writer.flush()
        stats = writer.stats
        total.indexed += stats.indexed
        total.rejected += stats.rejected
        total.rejected_file = stats.rejected_file or total.rejected_file
        if stats.spooled:
            # Still down: the re-spooled copy holds the same actions; drop it and keep the original.
            for new in stats.spool_files:
                Path(new).unlink(missing_ok=True)
            total.spooled += len(actions)
            total.spool_files.append(str(path))
            break  # the server went away again: keep the rest for the next replay
        path.unlink(missing_ok=True)
    return total
