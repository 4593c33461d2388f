"""Crawl benchmark against a loopback dev site (≥ 2,000 article pages): pages/s, articles/s, peak memory.

    python bench/crawl_loopback.py                  # fetch + extract → JSONL
    python bench/crawl_loopback.py --full           # + analyse + index (the CLI's wiring: durable bulk writer)
    python bench/crawl_loopback.py --full --analysis-workers 0   # analysis in the crawl process (no workers)

The dev site runs in its own process so that the figures are those of the crawl; peak memory is the largest
sum of RSS over the crawl's process tree (this process, its analysis workers, the crawl process and its
extraction workers), sampled every 50 ms from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
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


def tree_rss(root: int) -> int:
    """Sum of RSS (bytes) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


class PeakSampler(threading.Thread):
    """Samples the RSS of this process tree, excluding the dev-site server process."""

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self.exclude = exclude
        self.peak = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()) - tree_rss(self.exclude))
            time.sleep(0.05)


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
    args = parser.parse_args()
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
            sampler.start()
            extra: dict = {}
            started = time.monotonic()
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
                    )
                    extra["indexed_docs"] = _count_and_drop(settings)
                except BaseException:
                    _count_and_drop(settings)
                    raise
            else:
                with JsonlSink(tmpdir / "out.jsonl") as sink:
                    stats = crawl(sources, sink, options=options, state_path=tmpdir / "state.sqlite3")
            wall = time.monotonic() - started  # includes the writer's last flush
            sampler.stop_flag.set()
            sampler.join()
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
        "peak_rss_mib": round(sampler.peak / 2**20, 1),
        "cpu_seconds": stats.cpu_seconds,
        "cores": os.cpu_count(),
        "per_source": {
            n: {k: v for k, v in s.items() if v and k != "error_kinds"}
            | ({"error_kinds": s["error_kinds"]} if s.get("error_kinds") else {})
            for n, s in stats.sources.items()
        },
        **extra,
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
