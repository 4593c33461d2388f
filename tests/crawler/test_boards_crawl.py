"""Real crawls of the loopback forums and review sites: every post and review once, reruns add nothing, new posts
on later thread pages and new reviews appear in the next run, hostile pages cost one error line each."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawler.options import CrawlOptions
from crawler.run import crawl
from crawler.sources import parse_sources
from rezonans.model import Article, canonicalize_url

from .boards import ENGINES, Boards, BoardServer

OPTIONS = dict(timeout=2.0, max_size=400_000, extract_workers=1)
SOURCE_OF = {"phpbb": "Форум phpBB", "xf": "Форум XenForo", "vb": "Форум vBulletin"}
REVIEWS_OF = {"ld": "Отзовик JSON-LD", "cards": "Отзывы карточками"}


def _run(boards_server: BoardServer, boards: Boards, state: Path) -> tuple[list[Article], object]:
    out: list[Article] = []
    sources = parse_sources(boards.sources_yaml(boards_server.url))
    stats = crawl(sources, out.append, CrawlOptions.fast(**OPTIONS), state_path=state)
    return out, stats


FIRST_PAGES_OF_LONG_THREADS = (
    "/phpbb/viewtopic.php?t=10",
    "/phpbb/viewtopic.php?t=11",
    "/xf/threads/banki-i-servis-1.10/",
    "/xf/threads/banki-i-servis-2.11/",
    "/vb/showthread.php?t=10",
    "/vb/showthread.php?t=11",
)


def _thread_hits(now: Counter[str], before: Counter[str]) -> dict[str, int]:
    """Thread pages requested since `before`, with how often."""
    return {
        path: n - before[path]
        for path, n in now.items()
        if n > before[path] and ("showthread" in path or "viewtopic" in path or "/threads/" in path)
    }


def _expected_posts(boards: Boards, base: str) -> dict[str, tuple[str, str]]:
    """canonical permalink → (engine, post text) of every post on the three boards."""
    return {
        canonicalize_url(boards.permalink(base, engine, thread, post)): (engine, post.text)
        for engine in ENGINES
        for thread in boards.forums[engine]
        for post in thread.posts
    }


@pytest.mark.slow
def test_forums_and_reviews_crawl_incrementally(tmp_path: Path, caplog) -> None:
    boards = Boards()
    state = tmp_path / "state.sqlite3"
    with BoardServer(boards) as server:
        first, stats = _run(server, boards, state)
        posts = [a for a in first if a.source.type == "forum"]
        reviews = [a for a in first if a.source.type == "reviews"]
        expected = _expected_posts(boards, server.url)
        expected[canonicalize_url(f"{server.url}/phpbb/viewtopic.php?p=9001")] = ("phpbb", "ВТБ снова")  # broken page
        assert sorted(a.canonical_url for a in posts) == sorted(expected)
        by_url = {a.canonical_url: a for a in posts}
        for engine in ENGINES:
            for thread in boards.forums[engine]:
                for post in thread.posts:
                    article = by_url[canonicalize_url(boards.permalink(server.url, engine, thread, post))]
                    assert article.source.name == SOURCE_OF[engine]
                    assert article.title == thread.title
                    assert article.published_at == post.when
                    assert post.text in article.text
                    assert article.author is None  # no poster names without REZONANS_FORUM_AUTHORS
                    assert article.url == boards.permalink(server.url, engine, thread, post)
        # every review of both sites (three pages each), with its rating on its own scale and on 1–5
        for site, name in REVIEWS_OF.items():
            got = {a.url: a for a in reviews if a.source.name == name}
            want = boards.reviews[site]
            assert set(got) == {boards.review_url(server.url, site, r) for r in want}
            for review in want:
                article = got[boards.review_url(server.url, site, review)]
                assert article.rating is not None and article.rating.value == review.rating
                assert article.rating.best == review.best
                assert 1 <= article.rating.score <= 5
                assert article.product == review.product
                assert article.text.startswith(review.text)
                assert article.author is None
                assert article.published_at is not None
        # hostile pages: the oversized thread is one counted error; the broken one still gave its post
        phpbb = stats.sources[SOURCE_OF["phpbb"]]
        assert phpbb["error_kinds"] == {"DownloadCancelledError": 1}  # over --max-size: cancelled, counted
        assert sum(s["errors"] for s in stats.sources.values()) == 1
        assert stats.sink_errors == 0

        # a rerun adds nothing: every section's first page and every review listing answer 304, no thread is read
        hits_before = server.hits.copy()
        again, stats2 = _run(server, boards, state)
        assert again == []
        assert _thread_hits(server.hits, hits_before) == {}
        assert sum(s["not_modified"] for s in stats2.sources.values()) == 5

        # new posts (one on a fresh page 3 of a 6-post thread, one at the end of page 3 of the 7-post thread)
        # and a new review: the next run brings exactly these
        added = [(engine, boards.add_post(engine, 1, f"Новый пост про Сбербанк на {engine}")) for engine in ENGINES] + [
            (engine, boards.add_post(engine, 0, f"Ещё один пост про ВТБ на {engine}")) for engine in ENGINES
        ]
        review = boards.add_review("ld", "Свежий отзыв: Сбербанк снова поднял комиссию.", 2)
        hits_before = server.hits.copy()
        third, _ = _run(server, boards, state)
        # the changed threads are read from their bookmarks (their last pages), never from page 1 again
        read = _thread_hits(server.hits, hits_before)
        assert read and not any(path in read for path in FIRST_PAGES_OF_LONG_THREADS), read
        new_urls = {
            canonicalize_url(
                boards.permalink(server.url, engine, next(t for t in boards.forums[engine] if post in t.posts), post)
            )
            for engine, post in added
        }
        assert {a.canonical_url for a in third if a.source.type == "forum"} == new_urls
        assert [a.url for a in third if a.source.type == "reviews"] == [boards.review_url(server.url, "ld", review)]
        assert _run(server, boards, state)[0] == []


@pytest.mark.slow
def test_poster_names_only_when_allowed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REZONANS_FORUM_AUTHORS", "1")
    boards = Boards(threads=1, posts=2)
    with BoardServer(boards) as server:
        out, _ = _run(server, boards, tmp_path / "state.sqlite3")
    authors = {a.author for a in out if a.source.type == "forum" and a.source.name == SOURCE_OF["xf"]}
    assert authors == {"user_xf_0", "user_xf_1"}
    assert {a.author for a in out if a.source.name == REVIEWS_OF["ld"]} == {f"Покупатель {i}" for i in range(7)}


@pytest.mark.slow
def test_walks_cut_short_go_on_next_run(tmp_path: Path) -> None:
    boards = Boards(threads=2, posts=7)  # threads of 7 and 6 posts: 3 and 2 pages
    state = tmp_path / "state.sqlite3"
    with BoardServer(boards) as server:
        sources = parse_sources(
            f"""sources:
  - name: phpBB page by page
    type: forum
    url: {server.url}/phpbb/viewforum.php?f=1
    thread_pages: 1
  - name: Reviews two at a time
    type: reviews
    url: {server.url}/otzovik/product/1
    budget: 2
"""
        )
        runs: list[list[Article]] = []
        for _ in range(6):
            out: list[Article] = []
            crawl(sources, out.append, CrawlOptions.fast(**OPTIONS), state_path=state)
            runs.append(out)
    posts = [[a for a in run if a.source.type == "forum" and "p=9001" not in a.url] for run in runs]
    # one page of each thread per run, though the section page is unchanged (304) after the first run
    assert [len(p) for p in posts] == [6, 6, 1, 0, 0, 0]
    all_posts = {a.canonical_url for run in posts for a in run}
    assert all_posts == {
        canonicalize_url(boards.permalink(server.url, "phpbb", t, p)) for t in boards.forums["phpbb"] for p in t.posts
    }
    reviews = [[a.url for a in run if a.source.type == "reviews"] for run in runs]
    assert all(len(r) <= 2 for r in reviews)
    assert sorted(u for r in reviews for u in r) == sorted(
        boards.review_url(server.url, "ld", r) for r in boards.reviews["ld"]
    )
    assert reviews[-1] == []


@pytest.mark.slow
def test_wrong_pages_are_one_error_each_and_the_run_goes_on(tmp_path: Path, caplog) -> None:
    boards = Boards(threads=1, posts=2)
    with BoardServer(boards) as server:
        sources = parse_sources(
            f"""sources:
  - name: Not a forum
    type: forum
    url: {server.url}/cards/bank/7
  - name: No reviews here
    type: reviews
    url: {server.url}/vb/forumdisplay.php?f=1
  - name: Good forum
    type: forum
    url: {server.url}/xf/forums/banki.1/
"""
        )
        out: list[Article] = []
        stats = crawl(sources, out.append, CrawlOptions.fast(**OPTIONS), state_path=tmp_path / "state.sqlite3")
    assert stats.sources["Not a forum"]["error_kinds"] == {"not a forum page": 1}
    assert stats.sources["No reviews here"]["error_kinds"] == {"no reviews found": 1}
    assert len([a for a in out if a.source.name == "Good forum"]) == 2
    assert stats.returncode == 0
