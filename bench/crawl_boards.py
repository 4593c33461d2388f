"""Crawl speed of `type: forum` and `type: reviews` on the loopback boards of the tests (127.0.0.1).

    PYTHONPATH=. python bench/crawl_boards.py [--runs 3] [--threads 20] [--posts 60] [--reviews 300]

Each run crawls one type (the three forums, or the two review sites) from a fresh state and prints posts (or
reviews) per second and pages per second over the whole crawl (process start included); then min and median
over the runs. The parsers alone are timed too (posts or reviews per second, one core, no network).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))

from crawler.forums import parse_forum_page  # noqa: E402
from crawler.options import CrawlOptions  # noqa: E402
from crawler.reviews import parse_review_page  # noqa: E402
from crawler.run import crawl  # noqa: E402
from crawler.sources import parse_sources  # noqa: E402
from tests.crawler.boards import Boards, BoardServer  # noqa: E402


def _sources(boards: Boards, base: str, kind: str) -> str:
    """The part of the boards' sources file with one type."""
    text = boards.sources_yaml(base)
    entries = text.split("  - name:")[1:]
    keep = [e for e in entries if f"type: {kind}" in e]
    return "sources:\n" + "".join("  - name:" + e for e in keep)


def _crawl(boards: Boards, server: BoardServer, kind: str) -> tuple[int, int, float]:
    """(items, pages, seconds) of one crawl of one type from a fresh state."""
    sources = parse_sources(_sources(boards, server.url, kind))
    for source in sources:
        source.max_pages = 1000
    out: list[object] = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        stats = crawl(
            sources,
            out.append,
            CrawlOptions.fast(timeout=10.0, max_size=400_000, extract_workers=1, max_pages=1000),
            state_path=Path(tmp) / "state.sqlite3",
        )
        return len(out), stats.pages, time.perf_counter() - started


def _parse_rate(boards: Boards, kind: str, rounds: int = 3) -> float:
    """Items per second of the parser alone over every thread or review page of the boards."""
    pages: list[tuple[bytes, str]] = []
    if kind == "forum":
        for thread in boards.forums["phpbb"] + boards.forums["xf"] + boards.forums["vb"]:
            for engine, path in (
                ("phpbb", f"/phpbb/viewtopic.php?t={thread.id}"),
                ("xf", f"/xf/threads/{thread.slug}.{thread.id}/"),
                ("vb", f"/vb/showthread.php?t={thread.id}"),
            ):
                if thread in boards.forums[engine]:
                    route, _, query = path.partition("?")
                    pages.append((boards.respond(route, query)[2], "http://127.0.0.1" + path))
        parse = parse_forum_page
    else:
        for page in range(1, len(boards.reviews["ld"]) // boards.per_page + 1):
            for route in ("/otzovik/product/1", "/cards/bank/7"):
                pages.append((boards.respond(route, f"page={page}")[2], f"http://127.0.0.1{route}?page={page}"))
        parse = parse_review_page  # type: ignore[assignment]
    best = 0.0
    for _ in range(rounds):
        started, items = time.perf_counter(), 0
        for body, url in pages:
            result = parse(body, url)
            items += len(getattr(result, "posts", None) or getattr(result, "reviews", None) or [])
        best = max(best, items / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=20, help="threads per forum")
    parser.add_argument("--posts", type=int, default=60, help="posts in the longest thread")
    parser.add_argument("--per-page", type=int, default=20, help="posts (and reviews) per page")
    parser.add_argument("--reviews", type=int, default=300, help="reviews per review site")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    boards = Boards(
        threads=args.threads, posts=args.posts, per_page=args.per_page, threads_per_page=20, reviews=args.reviews
    )
    with BoardServer(boards) as server:
        for kind in ("forum", "reviews"):
            rates, page_rates = [], []
            for _ in range(args.runs):
                items, pages, seconds = _crawl(boards, server, kind)
                rates.append(items / seconds)
                page_rates.append(pages / seconds)
                print(f"{kind}: {items} items, {pages} pages in {seconds:.2f} s")
            print(
                f"{kind}: items/s min {min(rates):.0f} median {statistics.median(rates):.0f}; "
                f"pages/s min {min(page_rates):.1f} median {statistics.median(page_rates):.1f}; "
                f"parser alone {_parse_rate(boards, kind):.0f} items/s"
            )


if __name__ == "__main__":
    main()
