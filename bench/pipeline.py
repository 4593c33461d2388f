"""Fetched HTML → extract → analyse → bulk index, with the network out of the figure: articles/s on this machine.

    python bench/pipeline.py [--articles 1000] [--workers 2] [--runs 3]
    python bench/pipeline.py --profile [--articles 200]      # one process, cProfile: where the CPU goes

The dev site's article pages are rendered up front (the bytes a crawl would fetch). Worker processes (spawned,
models loaded before the clock starts) extract and analyse each page, as the crawl's workers do; this process
builds reprint clusters and hands the documents to the CLI's durable bulk writer (a private index prefix,
dropped afterwards). Prints JSON: start-up seconds, per run the seconds and articles/s (min and median over
--runs), CPU ms per article over all processes, and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# keep this folder off the import path (bench/nlp.py would shadow the nlp package)
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.devsite.site import DevSite  # noqa: E402

BASE = "http://127.0.0.1:8080"
Page = tuple[str, str, bytes, str]  # url, content type, body, source name


def pages(n: int, seed: int) -> list[Page]:
    """The article pages of a dev site of n articles, as fetched."""
    site = DevSite(articles=n, seed=seed)
    out = []
    for a in site.articles:
        status, headers, body = site.respond(a.path, "", BASE)
        if status == 200:
            out.append((BASE + a.path, headers.get("Content-Type", ""), body, a.outlet.name))
    return out


_analyzer: Any = None


def _init(brands: str | None) -> None:
    """Worker start: one BLAS thread, the analyser and its models loaded now."""
    global _analyzer
    import pipeline.ingest as ingest
    from rezonans.config import load_settings

    settings = load_settings()
    ingest._init_worker(brands, os.getppid(), settings.e5, settings.e5_threads, settings.tone)
    _analyzer = ingest._worker_analyzer


def extract_and_analyse(page: Page) -> Any:
    """One page: the crawl's extraction, then everything but the reprint cluster."""
    from crawler.extract import extract_page
    from rezonans.model import Article, SourceRef

    url, ctype, body, source = page
    fields = extract_page(body, url, ctype)
    if fields is None:
        return None
    fields["source"] = SourceRef(name=source, domain="127.0.0.1").model_dump()
    fields["crawled_at"] = datetime.now(UTC)
    article = Article.model_validate(fields)
    return _analyzer.analyze(article, reprints=False) if _analyzer is not None else article


def _cpu() -> float:
    """CPU seconds of this process and its reaped children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _workers_cpu(pool: ProcessPoolExecutor) -> float:
    """CPU seconds the pool's worker processes used so far (from /proc)."""
    total = 0.0
    for pid in list(getattr(pool, "_processes", {}) or {}):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_once(pool: ProcessPoolExecutor, workers: int, docs: list[Page], brands: Path) -> dict[str, float]:
    """One pass over the pages into a fresh private index prefix."""
    from bench.crawl_loopback import _count_and_drop
    from indexer.bulk import BulkWriter
    from nlp.reprints import ReprintDetector
    from rezonans.config import load_settings

    with tempfile.TemporaryDirectory(prefix="rezonans-pipe-") as tmp:
        settings = load_settings().model_copy(
            update={"home": Path(tmp), "index_prefix": f"rzbench-{uuid.uuid4().hex[:8]}"}
        )
        reprints = ReprintDetector()
        worker_cpu0 = _workers_cpu(pool)
        cpu0, t0 = _cpu(), time.perf_counter()
        writer = BulkWriter(settings, durable=True)
        n = 0
        try:
            for article in pool.map(extract_and_analyse, docs, chunksize=4):
                if article is None:
                    continue
                article.cluster, article.is_original = reprints.add(article)
                writer.add(article)
                n += 1
            writer.close()
            wall = time.perf_counter() - t0
            cpu = _cpu() - cpu0 + _workers_cpu(pool) - worker_cpu0
            indexed = _count_and_drop(settings)
        except BaseException:
            _count_and_drop(settings)
            raise
    return {"seconds": wall, "articles": n, "indexed": indexed, "cpu_s": cpu}


def profile(docs: list[Page], brands: Path, top: int) -> None:
    """Extract and analyse in this process under cProfile; print the costliest functions."""
    global _analyzer
    from nlp.analyzer import Analyzer
    from nlp.threads import single_threaded_blas

    single_threaded_blas()  # as in the analysis workers
    _analyzer = Analyzer.from_file(brands)
    extract_and_analyse(docs[0])  # models
    prof = cProfile.Profile()
    t = time.process_time()
    prof.enable()
    for page in docs:
        extract_and_analyse(page)
    prof.disable()
    cpu = time.process_time() - t
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(f"CPU ms per page (profiled, so slower): {1000 * cpu / len(docs):.1f}")
    print(out.getvalue())


def main() -> int:
    """Render the pages, run the pipeline --runs times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="extract+analyse processes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--brands", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "brands.yaml")
    parser.add_argument("--profile", action="store_true", help="one process under cProfile instead")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    docs = pages(args.articles, args.seed)
    if args.profile:
        profile(docs, args.brands, args.top)
        return 0
    load_before = [round(x, 2) for x in os.getloadavg()]
    t = time.perf_counter()
    pool = ProcessPoolExecutor(
        args.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=(str(args.brands),)
    )
    list(pool.map(extract_and_analyse, docs[: args.workers * 2]))  # start the workers, load and warm the models
    startup = time.perf_counter() - t
    runs = []
    try:
        for _ in range(args.runs):
            runs.append(run_once(pool, args.workers, docs, args.brands))
    finally:
        pool.shutdown()
    rates = [r["articles"] / r["seconds"] for r in runs]
    cpu_ms = [1000 * r["cpu_s"] / max(1, r["articles"]) for r in runs]
    figures = {
        "pages": len(docs),
        "workers": args.workers,
        "cores": os.cpu_count(),
        "startup_s": round(startup, 2),
        "articles": runs[0]["articles"],
        "indexed": [r["indexed"] for r in runs],
        "articles_per_s_min_median": [round(min(rates), 1), round(statistics.median(rates), 1)],
        "cpu_ms_per_article_min_median": [round(min(cpu_ms), 1), round(statistics.median(cpu_ms), 1)],
        "load_before_after": [load_before, [round(x, 2) for x in os.getloadavg()]],
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
