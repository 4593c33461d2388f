"""Benchmark: latency of `rezonans serve` pages and API (p50/p95) over a generated corpus.

Usage: python bench/web.py [--articles 250000] [--prefix rzbench-web] [--reuse] [--keep] [--rounds 30]
Generates the corpus of bench/search_report.py (news-like Russian articles, several brand mentions each) under its
own prefix unless --reuse finds it there, starts a real `rezonans serve` process on 127.0.0.1 over it, and times
over HTTP (client on the same machine): a feed page (query + brand + 30-day window, 20 results with snippets and
story sizes), the same as /api/search, a weekly report page (charts included) and /api/report.
Prints min, p50 and p95 per kind. The prefix's indices are deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from search_report import BRANDS, COMPETITORS, DAYS, START, drop, pct, prepare_corpus  # noqa: E402


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(prefix: str) -> tuple[subprocess.Popen, str]:
    """`rezonans serve` over the prefix; returns the process and its URL once it answers."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), REZONANS_INDEX_PREFIX=prefix)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/login", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=250_000)
    parser.add_argument("--mentions", type=int, default=4, help="mentions per article")
    parser.add_argument("--prefix", default="rzbench-web")
    parser.add_argument("--rounds", type=int, default=30, help="requests of each kind")
    parser.add_argument("--keep", action="store_true", help="keep the indices afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse existing data under the prefix")
    args = parser.parse_args()
    settings, client, total = prepare_corpus(args.prefix, args.articles, args.mentions, args.reuse)
    print(f"corpus: {total:,} articles under {args.prefix}")
    proc, url = start(args.prefix)
    rng = random.Random(7)
    weeks = [f"2026-W{w:02d}" for w in range(2, 48)]

    def window() -> dict[str, str]:
        first = START + timedelta(days=rng.randint(0, DAYS - 31))
        return {"from": first.date().isoformat(), "to": (first + timedelta(days=29)).date().isoformat()}

    kinds = {
        "feed page (word + brand + 30 days)": lambda: (
            "/feed",
            {
                "q": rng.choice(["ставки", "ипотека", "сбой OR штраф", '"ключевая ставка"']),
                "brand": rng.choice(list(BRANDS)),
                **window(),
            },
        ),
        "feed page, tone filter, reprints folded": lambda: (
            "/feed",
            {"q": "", "brand": rng.choice(list(BRANDS)), "tone": "negative", "fold": "1", **window()},
        ),
        "/api/search (page of 20)": lambda: (
            "/api/search",
            {"q": rng.choice(["ставки", "ипотека"]), "brand": rng.choice(list(BRANDS)), **window()},
        ),
        "report page (week, charts)": lambda: (
            "/report",
            {"brand": rng.choice(list(COMPETITORS)), "week": rng.choice(weeks)},
        ),
        "/api/report (week)": lambda: (
            "/api/report",
            {"brand": rng.choice(list(COMPETITORS)), "week": rng.choice(weeks)},
        ),
    }
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            for make in kinds.values():  # warm-up
                path, params = make()
                http.get(path, params=params).raise_for_status()
            print(f"\nlatency over HTTP ({args.rounds} requests each, one client, server on 127.0.0.1):")
            for name, make in kinds.items():
                times = []
                for _ in range(args.rounds):
                    path, params = make()
                    t0 = time.perf_counter()
                    resp = http.get(path, params=params)
                    times.append((time.perf_counter() - t0) * 1000)
                    resp.raise_for_status()
                print(
                    f"  {name:42s} min {min(times):6.1f} ms  p50 {statistics.median(times):6.1f} ms  "
                    f"p95 {pct(times, 95):6.1f} ms"
                )
    finally:
        proc.terminate()
        proc.wait(10)
        if not args.keep:
            drop(client, args.prefix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
