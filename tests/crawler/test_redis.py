"""Scale-out path: the crawl through the scrapy-redis scheduler and duplicate filter on a private redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from crawler.options import CrawlOptions
from crawler.run import crawl
from rezonans.model import canonicalize_url

from .conftest import TEST_OPTIONS

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not on PATH (apt-get install redis-server; scripts/setup.sh does it)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def redis_url(tmp_path):
    """A throw-away redis-server on 127.0.0.1 (no persistence), stopped at the end."""
    pytest.importorskip("scrapy_redis", reason="pip install 'rezonans[redis]' for the scale-out path")
    import redis

    port = _free_port()
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


def test_redis_scheduler_finds_the_same_articles(first_run, redis_url, tmp_path):
    import redis

    got: list = []
    options = CrawlOptions.fast(**TEST_OPTIONS, redis_url=redis_url)
    stats = crawl(first_run.sources, got.append, options, state_path=tmp_path / "state.sqlite3")
    urls = [canonicalize_url(a.url) for a in got]
    assert len(urls) == len(set(urls)), "an article came twice"
    assert set(urls) == {canonicalize_url(a.url) for a in first_run.articles}
    assert stats.articles == len(first_run.articles)
    # The requests really went through Redis: the shared duplicate filter holds their fingerprints.
    client = redis.Redis.from_url(redis_url)
    keys = {k.decode() for k in client.keys("*")}
    assert "rezonans:dupefilter" in keys, keys
    article_pages = sum(s.get("pages", 0) for s in stats.sources.values())
    assert client.scard("rezonans:dupefilter") >= article_pages > 0
    client.close()
