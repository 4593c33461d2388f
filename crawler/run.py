"""`crawl(sources, sink)`: run one crawl in a fresh process and hand every new article to the sink.

Why a subprocess: Scrapy's Twisted reactor can start only once per Python process. Each call of `crawl()`
starts `python -m crawler.child`, which runs Scrapy (with a process pool for extraction) and streams articles
back over a pipe. This process calls the sink, then records the URL in the state store: a URL is remembered
only once its article went to the sink, so a crawl killed at any moment loses nothing on the next run.

A sink is either a callable (the article is done when it returns) or a `PipelineSink`, which may finish
articles later (for example in worker processes): it reports finished articles from `submit` and `drain`,
and only those are remembered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from crawler.options import CrawlOptions
from crawler.shared import SharedFrontier, owner_id
from crawler.sources import Source
from crawler.state import CrawlBusy, CrawlState, crawl_lock, default_state_path
from rezonans.errors import ServiceError, UserError
from rezonans.files import private_dir
from rezonans.model import Article, EngagementUpdate

log = logging.getLogger(__name__)

Sink = Callable[[Article], None]
Outcome = tuple[Article, BaseException | None]  # an article the sink finished, and its error (None: accepted)


@runtime_checkable
class PipelineSink(Protocol):
    """A sink with delayed acknowledgement: only articles it reports as finished without error are remembered."""

    def submit(self, article: Article) -> list[Outcome]:
        """Take one article; return the articles (this one or earlier ones) finished since the last call."""

    def drain(self) -> list[Outcome]:
        """Finish every article still in progress and return their outcomes (called once, at the end of the stream)."""


class _Immediate:
    """A plain callable sink seen as a pipeline sink: each article is finished when the call returns."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def submit(self, article: Article) -> list[Outcome]:
        try:
            self.sink(article)
        except Exception as exc:
            return [(article, exc)]
        return [(article, None)]

    def drain(self) -> list[Outcome]:
        return []


class CrawlError(ServiceError):
    """The crawl process failed before finishing; the message carries the end of its log."""


class CrawlAccessError(UserError):
    """A source type could not work at all (an API token missing or refused); the message says how to fix it."""


class CrawlRunning(CrawlError):
    """Another crawl is running on the same state store (same REZONANS_HOME or --state)."""


@dataclass
class CrawlStats:
    """What a crawl did, in total and per source."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    articles: int = 0
    sink_errors: int = 0
    requests: int = 0
    responses: int = 0
    bytes: int = 0
    elapsed: float = 0.0
    finish_reason: str | None = None
    maxrss_kib: int = 0
    children_maxrss_kib: int = 0
    cpu_seconds: float = 0.0
    returncode: int = 0

    @property
    def pages(self) -> int:
        """Pages fetched (article pages plus listings)."""
        return sum(s.get("pages", 0) + s.get("listings", 0) for s in self.sources.values())

    @property
    def errors(self) -> int:
        """Failures over all sources."""
        return sum(s.get("errors", 0) for s in self.sources.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "articles": self.articles,
            "pages": self.pages,
            "errors": self.errors,
            "requests": self.requests,
            "responses": self.responses,
            "bytes": self.bytes,
            "elapsed": round(self.elapsed, 3),
            "sink_errors": self.sink_errors,
            "finish_reason": self.finish_reason,
            "maxrss_kib": self.maxrss_kib,
            "children_maxrss_kib": self.children_maxrss_kib,
            "cpu_seconds": round(self.cpu_seconds, 2),
            "sources": self.sources,
        }


def crawl(
    sources: Iterable[Source] | Iterable[dict[str, Any]],
    sink: Sink | PipelineSink,
    options: CrawlOptions | None = None,
    state_path: Path | str | None = None,
    since: datetime | None = None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    home: Path | None = None,
    on_engagement: Callable[[EngagementUpdate], None] | None = None,
) -> CrawlStats:
    """Crawl the sources once; each new article goes to `sink`; returns the stats. Callable many times per process.

    With `on_engagement`, posts stored by earlier runs whose pages come up again (Telegram, VK) send their fresh
    counters there (an index applies them; a JSONL output has no use for them)."""
    options = options or CrawlOptions()
    pipeline = sink if isinstance(sink, PipelineSink) else _Immediate(sink)
    if state_path is None:
        if home is None:
            from rezonans.config import get_settings

            home = get_settings().home
        state_path = default_state_path(home)
        private_dir(state_path.parent)
        with contextlib.suppress(OSError):
            os.chmod(state_path.parent, 0o700)  # <home>/crawl is the crawler's own folder
    state_path = Path(state_path)
    source_dicts = [s.model_dump() if isinstance(s, Source) else Source.model_validate(s).model_dump() for s in sources]
    stats = CrawlStats()
    started = time.monotonic()
    try:
        with crawl_lock(state_path):
            _run(source_dicts, pipeline, options, state_path, since, on_progress, stats, started, on_engagement)
    except CrawlBusy as exc:
        raise CrawlRunning(str(exc)) from None
    return stats


def _refresh(record: dict[str, Any], on_engagement: Callable[[EngagementUpdate], None]) -> None:
    """Hand fresh counters of a stored post on; a bad record or a failing handler costs this refresh only."""
    try:
        on_engagement(EngagementUpdate.model_validate(record))
    except Exception as exc:
        log.warning("counters of %s not refreshed: %s", str(record.get("url"))[:200], exc)


def _run(
    source_dicts: list[dict[str, Any]],
    pipeline: PipelineSink,
    options: CrawlOptions,
    state_path: Path,
    since: datetime | None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None,
    stats: CrawlStats,
    started: float,
    on_engagement: Callable[[EngagementUpdate], None] | None = None,
) -> None:
    """One crawl in a child process, under the lock; fills `stats`."""
    shared = SharedFrontier(options.redis_url, owner_id(state_path)) if options.redis_url else None
    with CrawlState(state_path) as state, tempfile.TemporaryDirectory(prefix="rezonans-crawl-") as tmp:
        config_path = Path(tmp) / "config.json"
        config_path.write_text(
            json.dumps(
                {
                    "sources": source_dicts,
                    "state_path": str(state_path),
                    "since": since.isoformat() if since else None,
                    "options": options.model_dump(),
                    "engagement": on_engagement is not None,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        log_path = Path(tmp) / "crawl.log"
        read_fd, write_fd = os.pipe()
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "crawler.child", str(config_path), str(write_fd)],  # -P: not from the cwd
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=_child_env(),
            )
        os.close(write_fd)
        done: dict[str, Any] = {}
        try:
            with os.fdopen(read_fd, "r", encoding="utf-8", buffering=1 << 16) as stream:
                for line in stream:
                    message = _parse(line)
                    if message is None:
                        continue
                    kind = message.get("t")
                    if kind == "article":
                        _deliver(message["a"], pipeline, state, stats, shared)
                    elif kind == "engagement" and on_engagement is not None:
                        _refresh(message["e"], on_engagement)
                    elif kind == "stats":
                        stats.sources = message["sources"]
                        if on_progress:
                            on_progress(stats.sources)
                    elif kind == "done":
                        done = message
            _record(pipeline.drain(), state, stats, shared)
        finally:
            returncode = proc.wait()
        stats.returncode = returncode
        stats.elapsed = time.monotonic() - started
        if not done:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise CrawlError(
                f"crawl process exited with code {returncode} before finishing; its log ends with:\n{tail}"
            )
        stats.sources = done["sources"]
        for key in (
            "requests",
            "responses",
            "bytes",
            "finish_reason",
            "maxrss_kib",
            "children_maxrss_kib",
            "cpu_seconds",
        ):
            setattr(stats, key, done.get(key) or getattr(stats, key))
        state.save_validators([tuple(v) for v in done.get("validators", [])])
        if not stats.sink_errors:  # a post the sink refused must be met again next run
            state.save_walks(done.get("walks", {}))
            state.save_bookmarks({walk: tuple(mark) for walk, mark in done.get("bookmarks", {}).items()})
        if on_progress:
            on_progress(stats.sources)
        if done.get("fatal"):
            raise CrawlAccessError("\n".join(done["fatal"]))


def _child_env() -> dict[str, str]:
    """The crawl process's environment: it imports this very crawler package (never one in its working folder)."""
    root = str(Path(__file__).resolve().parents[1])
    paths = [root, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]]
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(paths)}


def _parse(line: str) -> dict[str, Any] | None:
    """One protocol message, or None for a torn line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        log.warning("ignoring a malformed message from the crawl process: %.80s", line)
        return None


def _deliver(
    data: dict[str, Any],
    sink: PipelineSink,
    state: CrawlState,
    stats: CrawlStats,
    shared: SharedFrontier | None = None,
) -> None:
    """Hand one article to the sink, then remember the articles it finished; a failed one is lost for this run only."""
    _record(sink.submit(Article.model_validate(data)), state, stats, shared)


def _record(
    outcomes: list[Outcome], state: CrawlState, stats: CrawlStats, shared: SharedFrontier | None = None
) -> None:
    """Remember each article the sink accepted; count (and log) the ones it refused, so they come again next run."""
    for article, error in outcomes:
        if error is not None:  # a broken sink must not stop the crawl; the URL is retried next run
            stats.sink_errors += 1
            log.error("sink failed for %s; it will be fetched again next run", article.url, exc_info=error)
            continue
        state.mark_emitted(article)
        if shared is not None:  # every crawler process on this Redis now knows it went to a sink
            shared.mark_emitted([article.url, article.canonical_url or ""])
        stats.articles += 1


class JsonlSink:
    """Append articles to a JSONL file, one flushed line each; `reconcile(state)` marks lines already written."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()
        self.stream = open(self.path, "a", encoding="utf-8")
        self.count = 0

    def _repair(self) -> None:
        """Drop a torn last line left by a killed run (that article was not remembered, so it comes again)."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
            fh.seek(0)
            data = fh.read()
            cut = data.rfind(b"\n") + 1
            fh.truncate(cut)

    def urls(self) -> list[str]:
        """URLs (and canonical URLs) of the articles already in the file."""
        found: list[str] = []
        if not self.path.is_file():
            return found
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                found.extend(u for u in (data.get("url"), data.get("canonical_url")) if u)
        return found

    def reconcile(self, state_path: Path | str) -> int:
        """Mark every article already in the file as emitted (closes the window between a write and its record)."""
        urls = self.urls()
        if urls:
            with CrawlState(state_path) as state:
                state.mark_urls(urls)
        return len(urls)

    def __call__(self, article: Article) -> None:
        self.stream.write(article.to_json() + "\n")
        self.stream.flush()
        self.count += 1

    def close(self) -> None:
        """Close the file."""
        self.stream.close()

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
