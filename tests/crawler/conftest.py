"""Fixtures: a small dev site served on 127.0.0.1 and one real crawl of it, shared by the crawler tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.devsite import DevServer, DevSite
from crawler.options import CrawlOptions
from crawler.run import CrawlStats, crawl
from crawler.sources import Source, parse_sources
from rezonans.model import Article
from tests.ports import free_port

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=timezone(timedelta(hours=3)))
TEST_OPTIONS = dict(timeout=1.0, max_size=400_000, extract_workers=1)


@dataclass
class CrawlRun:
    """A dev site, its server, the sources and what one crawl produced."""

    site: DevSite
    server: DevServer
    sources: list[Source]
    articles: list[Article]
    stats: CrawlStats
    state_path: Path


def make_site(**kw) -> DevSite:
    """The small site used by the tests (2.5 s slow page against a 1 s timeout, 600 kB page against 400 kB)."""
    params = dict(articles=70, seed=7, now=NOW, days=14, slow_seconds=2.5, huge_bytes=600_000, telegram_posts=45)
    params.update(kw)
    return DevSite(**params)


@pytest.fixture(scope="session")
def served():
    """The dev site on a free loopback port."""
    site = make_site()
    with DevServer(site) as server:
        yield site, server


@pytest.fixture(scope="session")
def first_run(served, tmp_path_factory) -> CrawlRun:
    """One full crawl of the dev site into a list."""
    site, server = served
    sources = parse_sources(site.sources_yaml(server.url))
    state = tmp_path_factory.mktemp("crawlstate") / "state.sqlite3"
    out: list[Article] = []
    stats = crawl(sources, out.append, CrawlOptions.fast(**TEST_OPTIONS), state_path=state)
    return CrawlRun(site, server, sources, out, stats, state)


@pytest.fixture()
def redis_url(tmp_path):
    """A throw-away redis-server on 127.0.0.1 (no persistence), stopped at the end."""
    pytest.importorskip("redis", reason="pip install 'rezonans[redis]' for the scale-out path")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH (apt-get install redis-server; scripts/setup.sh does it)")
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
