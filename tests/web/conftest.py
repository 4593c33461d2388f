"""A real `rezonans serve` process on 127.0.0.1 over its own copy of the hand-computable corpus."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from indexer.bulk import BulkWriter
from rezonans.config import Settings
from rezonans.model import Article, BrandTone, Mention, SourceRef
from tests.report.corpus import corpus

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_TITLE = "<script>alert(1)</script> ВТБ и <b>жирный</b> заголовок"
HOSTILE_TEXT = 'ВТБ ответил <img src=x onerror="alert(2)"> на претензии & обвинения.'


def hostile_article() -> Article:
    """An article whose crawled title, text and link try to inject HTML and script."""
    start = HOSTILE_TEXT.index("ВТБ")
    return Article(
        url="https://evil.example/news/xss",
        source=SourceRef(name="Злой <i>сайт</i>", type="site", weight=0.5, domain="evil.example"),
        title=HOSTILE_TITLE,
        text=HOSTILE_TEXT,
        published_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        mentions=[Mention(brand="vtb", start=start, end=start + 3, text="ВТБ", sentiment="negative", prominence=0.5)],
        brand_tone=[BrandTone(brand="vtb", sentiment="negative", mentions=1)],
        brand_sentiment={"vtb": "negative"},
        cluster="xss",
        lemmas="втб ответить на претензия обвинение",
    )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `rezonans serve` and the settings it was started with."""

    url: str
    settings: Settings
    env: dict[str, str]
    process: subprocess.Popen

    def client(self) -> httpx.Client:
        """An HTTP client with its own cookie jar."""
        return httpx.Client(base_url=self.url, timeout=60, follow_redirects=False)


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a CLI or server process that uses `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REZONANS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        REZONANS_ES_URL=settings.es_url,
        REZONANS_INDEX_PREFIX=settings.index_prefix,
        REZONANS_HOME=str(settings.home),
        REZONANS_CONFIG=str(ROOT / "tests" / "web" / "empty-config.yaml"),
        **extra,
    )
    return env


def start_server(settings: Settings, log: Path, **extra: str) -> Server:
    """Start the server in its own process and wait until it answers."""
    port = free_port()
    env = server_env(settings, **extra)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()}")
        try:
            httpx.get(url + "/login", timeout=2)
            return Server(url, settings, env, proc)
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"server did not answer within 90 s: {log.read_text()}")


def stop(server: Server) -> None:
    """Stop the server process we started."""
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def load_corpus(settings: Settings, extra: list[Article] | None = None) -> Settings:
    """Index the corpus (and extra articles) under `settings`' prefix."""
    with BulkWriter(settings, refresh=True) as writer:
        for article in corpus() + (extra or []):
            writer.add(article)
    return settings


@pytest.fixture(scope="session")
def web_ro(es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over the corpus plus a hostile article; tests must not change its data."""
    settings = load_corpus(
        es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-webro"}), [hostile_article()]
    )
    server = start_server(settings, tmp_path_factory.mktemp("web") / "ro.log")
    yield server
    stop(server)


@pytest.fixture(scope="session")
def web_rw(es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over its own copy of the corpus, for tests that correct tones and save searches."""
    settings = load_corpus(es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-webrw"}))
    server = start_server(settings, tmp_path_factory.mktemp("web") / "rw.log")
    yield server
    stop(server)


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
