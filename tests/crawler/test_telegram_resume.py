"""A Telegram history walk cut short (kill -9 after the newest page was emitted) is finished by the next run."""

from __future__ import annotations

from crawler.options import CrawlOptions
from crawler.run import crawl
from crawler.sources import parse_sources
from crawler.state import CrawlState
from rezonans.model import canonicalize_url

from .conftest import TEST_OPTIONS


def test_walk_resumes_below_posts_a_killed_run_emitted(served, tmp_path):
    site, server = served
    channel = [s for s in parse_sources(site.sources_yaml(server.url)) if s.type == "telegram"]
    post_url = {p.id: canonicalize_url(f"{server.url}/{site.channel}/{p.id}") for p in site.posts}
    newest_page = sorted(post_url)[-20:]  # what the dev site shows first
    state = tmp_path / "state.sqlite3"
    with CrawlState(state) as db:  # the state a run killed right after the first page leaves behind
        db.mark_urls([post_url[i] for i in newest_page])

    got: list = []
    stats = crawl(channel, got.append, CrawlOptions.fast(**TEST_OPTIONS), state_path=state)
    urls = sorted(canonicalize_url(a.url) for a in got)
    assert urls == sorted(u for i, u in post_url.items() if i not in newest_page)
    assert stats.sources[channel[0].name]["skipped_seen"] == len(newest_page)

    # The walk is now recorded as finished: the next run reads one page of known posts and stops.
    again: list = []
    unconditional = CrawlOptions.fast(**TEST_OPTIONS, full_fetch_hours=0)  # no 304: the page is read again
    stats = crawl(channel, again.append, unconditional, state_path=state)
    assert again == []
    assert stats.sources[channel[0].name]["listings"] == 1
