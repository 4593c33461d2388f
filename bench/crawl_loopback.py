"""Crawl benchmark against a loopback dev site (≥ 2,000 article pages): pages/s, articles/s, peak memory.

    python bench/crawl_loopback.py                  # fetch + extract → JSONL
    python bench/crawl_loopback.py --full           # + analyse + index (the CLI's wiring: durable bulk writer)
    python bench/crawl_loopback.py --full --analysis-workers 0   # analysis in the crawl process (no workers)
    python bench/crawl_loopback.py --full --runs 3  # min and median over three crawls (each run's figures too)

The dev site runs in its own process so that the figures are those of the crawl; peak memory is the largest
sum of RSS over the crawl's process tree (this process, its analysis workers, the crawl process and its
extraction workers), sampled every 250 ms from /proc by a separate sampler process (so that measuring does not
take CPU from the process that feeds the workers); the largest processes' own peaks are listed too.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.options import CrawlOptions
from crawler.run import JsonlSink, crawl
from crawler.sources import parse_sources


def tree_rss(root: int, exclude: set[int]) -> dict[int, tuple[int, str]]:
    """RSS (bytes) and short command line of a process and all its descendants (the excluded pid's tree left out)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    out: dict[int, tuple[int, str]] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in exclude:
            continue
        out[pid] = (rss.get(pid, 0), _cmd(pid))
        stack.extend(children.get(pid, []))
    return out


def _cmd(pid: int) -> str:
    """The short command line of a process ("" when it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().decode(errors="replace").split("\0")
    except OSError:
        return ""
    text = " ".join(p.rsplit("/", 1)[-1] for p in parts if p)
    return text[:60]


def sample_main(root: int, exclude: int, interval: float) -> int:
    """Sampler process: the crawl tree's peak summed RSS and each process's peak, as JSON once stdin closes.

    It runs outside the crawl's processes, so its /proc scans do not take CPU from the pipeline's own loop.
    """
    peak = 0
    per: dict[int, tuple[int, str]] = {}
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.is_set():
        tree = tree_rss(root, {exclude, os.getpid()})
        peak = max(peak, sum(r for r, _ in tree.values()))
        for pid, (r, cmd) in tree.items():
            if r > per.get(pid, (0, ""))[0]:
                per[pid] = (r, cmd or per.get(pid, (0, ""))[1])
        done.wait(interval)
    top = sorted(per.values(), reverse=True)[:8]
    print(json.dumps({"peak": peak, "processes": [[round(r / 2**20, 1), c] for r, c in top]}, ensure_ascii=False))
    return 0


class PeakSampler:
    """Samples the RSS of this process tree (the dev-site server excluded) from a separate process."""

    def __init__(self, exclude: int, interval: float = 0.25) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--sample", str(os.getpid()), str(exclude), str(interval)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.peak = 0
        self.processes: list = []

    def stop(self) -> None:
        """Stop sampling and read the figures."""
        out, _ = self.proc.communicate("")
        data = json.loads(out)
        self.peak, self.processes = data["peak"], data["processes"]


def _count_and_drop(settings) -> int:  # type: ignore[no-untyped-def]
    """Documents in the benchmark's private index prefix; its indices and template are deleted."""
    from indexer.client import connect

    client = connect(settings)
    alias = f"{settings.index_prefix}-articles"
    count = 0
    if client.indices.exists_alias(name=alias):
        client.indices.refresh(index=alias)
        count = int(client.count(index=alias)["count"])
    names = list(client.indices.get(index=f"{settings.index_prefix}-*", expand_wildcards="all").keys())
    if names:
        client.indices.delete(index=",".join(names))
    for tpl in client.indices.get_index_template(name=f"{settings.index_prefix}-*").get("index_templates", []):
        client.indices.delete_index_template(name=tpl["name"])
    return count


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0 = one per core)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--full", action="store_true", help="also analyse (nlp) and index (Elasticsearch)")
    parser.add_argument(
        "--analysis-workers",
        type=int,
        default=None,
        help="with --full: analysis processes (default: one per core beyond the first; 0 = in-process)",
    )
    parser.add_argument(
        "--brands",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "examples" / "brands.yaml",
        help="brand cards for --full",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile-parent", action="store_true", help="cProfile this process; top functions on stderr")
    parser.add_argument("--runs", type=int, default=1, help="repeat the crawl; min and median are printed")
    args = parser.parse_args()
    runs = [run_once(args) for _ in range(max(1, args.runs))]
    figures = runs[0] if len(runs) == 1 else summary(runs)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of it plus its reaped children (both cumulative)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = own.ru_utime + own.ru_stime
    return mine, mine + kids.ru_utime + kids.ru_stime


def summary(runs: list[dict]) -> dict:
    """Min and median of the rates, CPU and memory over several runs, and every run's own figures."""
    out: dict = {"runs": len(runs)}
    for key in ("pages_per_s", "articles_per_s", "cpu_ms_per_article_all_processes", "peak_rss_mib"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            out[f"{key}_min_median"] = [min(values), round(statistics.median(values), 1)]
    out["load"] = [r["load_before_after"] for r in runs]
    out["each_run"] = runs
    return out


def run_once(args: argparse.Namespace) -> dict:
    """One crawl against a fresh dev site; its figures."""
    load_before = [round(x, 2) for x in os.getloadavg()]
    cpu_parent0, cpu_all0 = _cpu()
    with tempfile.TemporaryDirectory(prefix="rezonans-bench-") as tmp:
        tmpdir = Path(tmp)
        sources_file = tmpdir / "sources.yaml"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler.devsite",
                "--articles",
                str(args.articles),
                "--seed",
                str(args.seed),
                "--sources-out",
                str(sources_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            base = server.stdout.readline().strip()
            sources = parse_sources(sources_file.read_text(encoding="utf-8"))
            options = CrawlOptions.fast(
                concurrency=args.concurrency,
                per_domain=args.concurrency,
                timeout=10.0,
                extract_workers=args.workers,
                max_size=8 * 1024 * 1024,
                max_pages=500,
            )
            sampler = PeakSampler(server.pid)
            prof = cProfile.Profile() if args.profile_parent else None
            if prof is not None:
                prof.enable()
            extra: dict = {}
            started = time.monotonic()
            first: list[float] = []

            def first_indexed(article: object) -> None:
                if not first:
                    first.append(time.monotonic() - started)

            if args.full:
                from pipeline.ingest import crawl_to_index
                from rezonans.config import load_settings

                # The CLI's own wiring (analyser + durable bulk writer) into a private index prefix, dropped after.
                settings = load_settings().model_copy(
                    update={"home": tmpdir / "home", "index_prefix": f"rzbench-{uuid.uuid4().hex[:8]}"}
                )
                try:
                    stats, extra = crawl_to_index(
                        sources,
                        args.brands,
                        settings,
                        options,
                        tmpdir / "state.sqlite3",
                        analysis_workers=args.analysis_workers,
                        on_indexed=first_indexed,
                    )
                    extra["indexed_docs"] = _count_and_drop(settings)
                except BaseException:
                    _count_and_drop(settings)
                    raise
            else:
                with JsonlSink(tmpdir / "out.jsonl") as sink:
                    stats = crawl(sources, sink, options=options, state_path=tmpdir / "state.sqlite3")
            wall = time.monotonic() - started  # includes the writer's last flush
            if prof is not None:
                prof.disable()
                pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
            # CPU of this process and of the reaped crawl process (with its extraction workers) and analysis
            # workers; the dev-site server and the sampler are still running, so they are not counted
            cpu_parent, cpu_all = (now - before for now, before in zip(_cpu(), (cpu_parent0, cpu_all0), strict=True))
            sampler.stop()
        finally:
            server.terminate()
            server.wait()
    figures = {
        "mode": "fetch+extract+analyse+index" if args.full else "fetch+extract→JSONL",
        "site": base,
        "articles_on_site": args.articles,
        "articles": stats.articles,
        "pages": stats.pages,
        "requests": stats.requests,
        "errors": stats.errors,
        "seconds": round(wall, 2),
        "pages_per_s": round(stats.pages / wall, 1),
        "articles_per_s": round(stats.articles / wall, 1),
        "first_article_indexed_s": round(first[0], 2) if first else None,
        "peak_rss_mib": round(sampler.peak / 2**20, 1),
        "peak_rss_mib_by_process": sampler.processes,
        "load_before_after": [load_before, [round(x, 2) for x in os.getloadavg()]],
        "cpu_seconds": stats.cpu_seconds,
        "cpu_ms_per_article_all_processes": round(1000 * cpu_all / max(1, stats.articles), 1),
        "cpu_ms_per_article_parent": round(1000 * cpu_parent / max(1, stats.articles), 1),
        "cores": os.cpu_count(),
        "per_source": {
            n: {k: v for k, v in s.items() if v and k != "error_kinds"}
            | ({"error_kinds": s["error_kinds"]} if s.get("error_kinds") else {})
            for n, s in stats.sources.items()
        },
        **extra,
    }
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sample"]:
        raise SystemExit(sample_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
    raise SystemExit(main())
