"""Ingest: crawl → analyse → index, the wiring that `rezonans crawl` (without --out) and the benchmark share.

Analysis is the costly part, so it runs in worker processes (`ParallelAnalysis`) while this process reads
the crawl, builds reprint clusters (stateful, in arrival order) and journals each analysed document. The
crawler is told an article is done only once its document is journalled, so kill -9 still loses nothing.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.options import CrawlOptions
from crawler.run import CrawlStats, Outcome, crawl
from crawler.sources import Source
from nlp.threads import single_threaded_blas
from rezonans.config import Settings
from rezonans.model import Article

if TYPE_CHECKING:
    from indexer.bulk import BulkWriter
    from nlp.analyzer import Analyzer
    from nlp.tone import ToneMode

log = logging.getLogger(__name__)
_worker_analyzer: Analyzer | None = None  # one per worker process, loaded by _init_worker


def _init_worker(brands: str | None, parent: int, e5: bool, e5_threads: int | None, tone: ToneMode) -> None:
    """Load the analyser once per worker process; exit when the parent process dies (kill -9 leaves no orphan)."""
    global _worker_analyzer
    from nlp import encoder
    from nlp import tone as tone_model
    from nlp.analyzer import Analyzer

    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    single_threaded_blas()
    encoder.configure(e5, e5_threads or 1)  # one engine thread per analysis process
    tone_model.configure(tone)
    _worker_analyzer = Analyzer.from_file(brands).warm()  # models load now, while the crawl starts up


def _exit_with_parent(parent: int) -> None:
    """Watch the parent: a killed parent cannot shut the pool down, and the worker would wait on its queue forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _analyze_in_worker(article: Article) -> Article:
    """Everything but the reprint cluster (which needs the stream's history, kept in the parent)."""
    assert _worker_analyzer is not None, "worker started without _init_worker"
    return _worker_analyzer.analyze(article, reprints=False)


def default_analysis_workers() -> int:
    """Worker processes for analysis: one per core beyond the first (0 = analyse in this process)."""
    return max(0, (os.cpu_count() or 1) - 1)


class ParallelAnalysis:
    """A pipeline sink (see `crawler.run.PipelineSink`): analysis in workers, clusters and the journal here, in order.

    An article is reported finished only after `writer.add` returned (the durable writer journals it first).
    With workers=0, or once a worker process died, articles are analysed in this process instead.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        writer: BulkWriter,
        brands: Path | None,
        workers: int,
        depth: int = 8,
        e5: bool = False,
        e5_threads: int | None = None,
        on_indexed: Callable[[Article], None] | None = None,
        tone: ToneMode | None = None,
    ) -> None:
        if tone is None:  # the workers judge tone with this process's model
            from nlp.tone import current_mode

            tone = current_mode()
        self.analyzer = analyzer
        self.on_indexed = on_indexed
        self.writer = writer
        self.depth = max(1, depth * workers)  # articles in flight before submit waits for the oldest
        self.inflight: deque[tuple[Article, Future[Article] | None]] = deque()
        self.pool: ProcessPoolExecutor | None = None
        if workers > 0:
            # spawn, not fork: the parent may run threads (progress display, HTTP client) a fork would copy mid-lock.
            self.pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(brands) if brands else None, os.getpid(), e5, e5_threads, tone),
            )
            for _ in range(workers):  # start the workers (and load their models) while the crawl starts up
                self.pool.submit(int)

    def submit(self, article: Article) -> list[Outcome]:
        """Queue one article; return those finished (clustered and journalled) so far, oldest first."""
        self.inflight.append((article, self._start(article)))
        done: list[Outcome] = []
        while self.inflight and (len(self.inflight) > self.depth or _ready(self.inflight[0][1])):
            done.append(self._finish(*self.inflight.popleft()))
        return done

    def drain(self) -> list[Outcome]:
        """Finish every queued article."""
        done = [self._finish(*self.inflight.popleft()) for _ in range(len(self.inflight))]
        return done

    def close(self) -> None:
        """Stop the worker processes (queued articles that were not drained are dropped, never journalled)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _start(self, article: Article) -> Future[Article] | None:
        """Send the article to a worker; None when analysis happens here."""
        if self.pool is None:
            return None
        try:
            return self.pool.submit(_analyze_in_worker, article)
        except BrokenProcessPool:
            self._lost_pool()
            return None

    def _finish(self, article: Article, future: Future[Article] | None) -> Outcome:
        """Cluster and journal one analysed article; an analysis or index failure is this article's outcome."""
        try:
            analysed = self._analysed(article, future)
            self.analyzer.assign_cluster(analysed)
            self.writer.add(analysed)
        except Exception as exc:
            return article, exc
        if self.on_indexed is not None:
            self.on_indexed(analysed)
        return article, None

    def _analysed(self, article: Article, future: Future[Article] | None) -> Article:
        """The worker's result, or this process's own analysis when there is no (longer a) worker."""
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                self._lost_pool()
        return self.analyzer.analyze(article, reprints=False)

    def _lost_pool(self) -> None:
        """A worker died (out of memory, killed): go on analysing in this process."""
        if self.pool is not None:
            log.error("an analysis worker process died; analysing in the crawl process from now on (slower)")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def _ready(future: Future[Article] | None) -> bool:
    """Whether finishing this article will not wait for a worker."""
    return future is None or future.done()


def crawl_to_index(
    sources: Iterable[Source],
    brands: Path,
    settings: Settings,
    options: CrawlOptions,
    state_path: Path,
    since: datetime | None = None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    analysis_workers: int | None = None,
    on_indexed: Callable[[Article], None] | None = None,
    refresh: bool = False,
) -> tuple[CrawlStats, dict[str, Any]]:
    """Replay the spool, then crawl with each article analysed (nlp) and journalled into a durable bulk writer.

    analysis_workers: processes for analysis (default: one per core beyond the first; 0 = in this process).
    on_indexed: called in this process with each analysed article once it is journalled (the demo counts
    promo codes with it). refresh: make everything searchable before returning.
    Raises ImportError when the analysis or index stage is missing. Returns the crawl stats and
    {"index": bulk stats, "replayed": documents sent from the spool (only when there was one)}.
    """
    from indexer.bulk import BulkWriter, Spool, replay  # here, not at the top: spawned workers import this module
    from nlp import encoder, tone
    from nlp.analyzer import Analyzer
    from pipeline.corrections import keep_corrections

    encoder.configure(settings.e5, settings.e5_threads)
    tone.configure(settings.tone)
    analyzer = Analyzer.from_file(brands)  # also checks the brand cards before anything starts
    workers = default_analysis_workers() if analysis_workers is None else max(0, analysis_workers)
    # durable: each article is journalled before the crawl marks its URL seen, so kill -9 loses nothing.
    writer = BulkWriter(settings, durable=True, refresh=refresh)
    writer.before_send = keep_corrections(writer.client, settings)  # a re-crawled article keeps analysts' tone
    pending = None
    if Spool(settings.spool_dir).files():
        pending = replay(settings, writer.client, before_send=writer.before_send)
    analysis = ParallelAnalysis(
        analyzer,
        writer,
        brands,
        workers,
        e5=settings.e5,
        e5_threads=settings.e5_threads,
        on_indexed=on_indexed,
        tone=settings.tone,
    )
    blas = single_threaded_blas()
    try:
        stats = crawl(
            list(sources),
            analysis,
            options=options,
            state_path=state_path,
            since=since,
            on_progress=on_progress,
            home=settings.home,
            on_engagement=writer.add_engagement,  # posts seen again: their counters, read now
        )
    finally:
        blas.restore_original_limits()
        analysis.close()
        bulk = writer.close()
    extra: dict[str, Any] = {"index": bulk.as_dict(), "analysis_workers": workers}
    if pending is not None:
        extra["replayed"] = pending.indexed
    return stats, extra
