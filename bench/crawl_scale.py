"""Benchmark: scale-out figures for docs/scaling.md.

1. Crawl: 1, 2 and 3 `rezonans crawl --redis-url` processes over a loopback dev site with a private redis-server:
   pages/s and articles/s (wall clock from the first start to the last exit), the ratio to one process, and the CPU
   per page of all crawl processes together (their own and their children's CPU time).
2. Index: bulk docs/s into the local single node and into a local two-node cluster (replicas 1), and bytes per
   article stored (primary store size / documents).

Usage: python bench/crawl_scale.py [--articles 1500] [--runs 3] [--docs 10000] [--skip-index]
Needs redis-server on PATH and the local Elasticsearch (or REZONANS_ES_URL); everything it creates is removed.
Machines are shared: each figure is min / median of --runs, with the load average printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.index_bulk import make_articles  # noqa: E402
from crawler.devsite import DevServer, DevSite  # noqa: E402
from indexer.bulk import BulkWriter  # noqa: E402
from indexer.client import connect, wait_for_health  # noqa: E402
from indexer.mappings import articles_alias  # noqa: E402
from indexer.server import LocalCluster  # noqa: E402
from rezonans.config import load_settings  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


def crawl_round(n: int, sources: Path, redis_port: int, work: Path) -> dict[str, float]:
    """n crawl processes at once on a flushed Redis; wall time, pages, articles."""
    subprocess.run(["redis-cli", "-p", str(redis_port), "FLUSHALL"], check=True, capture_output=True)
    run = work / uuid.uuid4().hex[:6]
    procs = []
    t0 = time.monotonic()
    for i in range(n):
        args = [sys.executable, "-m", "cli.main", "crawl", "--sources", str(sources), "--out", str(run / f"o{i}.jsonl")]
        args += ["--state", str(run / f"s{i}.sqlite3"), "--redis-url", f"redis://127.0.0.1:{redis_port}/0"]
        args += ["--fast", "--no-progress", "--json"]
        env = {**os.environ, "REZONANS_HOME": str(run / f"h{i}"), "PYTHONPATH": str(ROOT)}
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True))
    pages = articles = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=1800)
        summary = json.loads(out)
        pages += sum(s.get("pages", 0) + s.get("listings", 0) for s in summary["sources"].values())
        articles += int(summary["articles"])
    return {"wall": time.monotonic() - t0, "pages": pages, "articles": articles}


def bench_crawl(articles: int, runs: int) -> None:
    """Pages/s for 1, 2, 3 processes, ratio to one, CPU per page."""
    if shutil.which("redis-server") is None:
        print("crawl: skipped (no redis-server on PATH)")
        return
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="rezonans-scale-") as tmp:
        work = Path(tmp)
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
        )
        try:
            time.sleep(0.5)
            site = DevSite(articles=articles, seed=3, telegram_posts=200, slow_seconds=0.2, huge_bytes=200_000)
            with DevServer(site) as server:
                sources = work / "sources.yaml"
                sources.write_text(site.sources_yaml(server.url), encoding="utf-8")
                print(
                    f"crawl: dev site of {len(site.articles)} articles, {len(site.posts)} posts; {os.cpu_count()} cores"
                )
                base = None
                for n in (1, 2, 3):
                    rates, cpu_ms, arts = [], [], []
                    for _ in range(runs):
                        before = os.times()
                        r = crawl_round(n, sources, port, work)
                        after = os.times()
                        cpu = (after.children_user - before.children_user) + (
                            after.children_system - before.children_system
                        )
                        rates.append(r["pages"] / r["wall"])
                        arts.append(r["articles"] / r["wall"])
                        cpu_ms.append(1000 * cpu / max(1, r["pages"]))
                    med = statistics.median(rates)
                    base = base or med
                    print(
                        f"  {n} process(es): pages/s min {min(rates):.1f} median {med:.1f} (×{med / base:.2f} of one); "
                        f"articles/s median {statistics.median(arts):.1f}; CPU per page median "
                        f"{statistics.median(cpu_ms):.1f} ms; {_load()}"
                    )
        finally:
            redis.terminate()
            redis.wait(timeout=10)


def _bulk(settings, docs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """docs/s of one bulk load, and stored bytes per article (primary store)."""
    client = connect(settings)
    wait_for_health(client, timeout=60)
    articles = make_articles(docs)
    t0 = time.perf_counter()
    with BulkWriter(settings, client=client, chunk_size=500) as writer:
        for a in articles:
            writer.add(a)
    rate = writer.stats.indexed / (time.perf_counter() - t0)
    client.indices.refresh(index=articles_alias(settings))
    client.indices.forcemerge(index=articles_alias(settings), max_num_segments=1)
    stats = client.indices.stats(index=articles_alias(settings), metric="store")
    size = stats["_all"]["primaries"]["store"]["size_in_bytes"]
    names = list(client.indices.get(index=f"{settings.index_prefix}-*").keys())
    if names:
        client.indices.delete(index=",".join(names))
    return rate, size / max(1, writer.stats.indexed)


def bench_index(docs: int, runs: int) -> None:
    """Bulk docs/s into one node and into a two-node cluster."""
    base = load_settings()
    single = base.model_copy(update={"index_prefix": f"bench-scale-{uuid.uuid4().hex[:6]}"})
    one = [_bulk(single, docs) for _ in range(runs)]
    print(
        f"index, one node: docs/s min {min(r for r, _ in one):.0f} median {statistics.median(r for r, _ in one):.0f}; "
        f"{statistics.median(b for _, b in one):.0f} bytes per article stored (primaries); {_load()}"
    )
    cluster = LocalCluster(base, nodes=2, name=f"bench{uuid.uuid4().hex[:4]}", port=9271, heap="512m")
    try:
        cluster.start(wait=240)
        two_settings = single.model_copy(update={"es_url": ",".join(cluster.urls), "es_replicas": 1})
        two = [_bulk(two_settings, docs) for _ in range(runs)]
        print(
            f"index, two-node cluster (replicas 1): docs/s min {min(r for r, _ in two):.0f} "
            f"median {statistics.median(r for r, _ in two):.0f} (×{statistics.median(r for r, _ in two) / statistics.median(r for r, _ in one):.2f} "
            f"of one node, both nodes on these same cores); {_load()}"
        )
    finally:
        cluster.remove()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--skip-index", action="store_true")
    ap.add_argument("--skip-crawl", action="store_true")
    args = ap.parse_args()
    if not args.skip_crawl:
        bench_crawl(args.articles, args.runs)
    if not args.skip_index:
        bench_index(args.docs, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
