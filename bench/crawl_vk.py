"""VK crawl benchmark against the loopback API mock (tests/crawler/vkmock.py): posts/s of walls and of a search.

    python bench/crawl_vk.py                      # 5 walls × 400 posts, a search of 1,000 posts; 3 runs each
    python bench/crawl_vk.py --walls 10 --posts 300 --runs 5

Every run starts from an empty crawl state; the API calls keep VK's limit of three a second (one shared download
slot), so the figure is bounded by 3 × 100 posts/s for walls and 3 × 200 for a search. The rerun (nothing new)
is timed too. Prints min and median of the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.options import CrawlOptions
from crawler.run import crawl
from crawler.sources import parse_sources
from tests.crawler.vkmock import VkData, VkMock

TOKEN = "bench-token-not-secret"


def build(walls: int, posts: int, found: int) -> VkData:
    """`walls` communities of `posts` posts each, plus `found` posts matching the search query."""
    data = VkData()
    now = datetime.now(UTC)
    for g in range(1, walls + 1):
        data.community(g, f"club_bench_{g}", f"Сообщество {g}")
        for n in range(posts):
            data.post(-g, f"Пост {n} сообщества {g}: новости дня", now - timedelta(minutes=posts - n), likes=n)
    data.community(9999, "search_bench", "Поиск")
    for n in range(found):
        data.post(-9999, f"Бенчмарк: упоминание бренда номер {n}", now - timedelta(minutes=n + 1), views=n)
    return data


def run(sources_yaml: str, api: str) -> tuple[int, float, float]:
    """(articles, seconds of the first crawl, seconds of the rerun) from an empty state."""
    os.environ["REZONANS_VK_TOKEN"] = TOKEN
    os.environ["REZONANS_VK_API_URL"] = api
    sources = parse_sources(sources_yaml)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.sqlite3"
        got: list = []
        options = CrawlOptions.fast(extract_workers=1)
        started = time.monotonic()
        stats = crawl(sources, got.append, options, state_path=state)
        first = time.monotonic() - started
        started = time.monotonic()
        again = crawl(sources, got.append, options, state_path=state)
        rerun = time.monotonic() - started
    assert again.articles == 0, "a rerun added articles"
    return stats.articles, first, rerun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walls", type=int, default=5)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--found", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = build(args.walls, args.posts, args.found)
    walls = "sources:\n" + "".join(
        f"  - {{name: W{g}, type: vk, url: 'https://vk.com/club_bench_{g}', max_pages: 1000}}\n"
        for g in range(1, args.walls + 1)
    )
    search = "sources:\n  - {name: S, type: vk, query: 'Бенчмарк', max_pages: 1000}\n"
    with VkMock(data, TOKEN) as vk:
        for label, yaml_text in (("walls", walls), ("search", search)):
            results = [run(yaml_text, vk.url) for _ in range(args.runs)]
            n = results[0][0]
            rates = [r[0] / r[1] for r in results]
            reruns = [r[2] for r in results]
            print(
                f"{label}: {n} posts; posts/s min {min(rates):.0f} median {statistics.median(rates):.0f}; "
                f"first crawl s min {min(r[1] for r in results):.2f} median {statistics.median(r[1] for r in results):.2f}; "
                f"rerun (nothing new) s min {min(reruns):.2f} median {statistics.median(reruns):.2f}"
            )
        print(f"API calls served: {len(vk.calls)}")


if __name__ == "__main__":
    main()
