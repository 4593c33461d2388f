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
