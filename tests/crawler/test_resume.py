"""A crawl killed with SIGKILL and started again loses no article and emits none twice (real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from crawler.devsite import DevServer
from rezonans.model import canonicalize_url

from .conftest import make_site


def _cli(sources, out, state):
    """The crawl command as a user would run it (polite-ish: sequential with a small delay, so it can be killed midway)."""
    return [
        sys.executable,
        "-c",
        "from cli.main import app; app()",
        "crawl",
        "--sources",
        str(sources),
        "--out",
        str(out),
        "--state",
        str(state),
        "--delay",
        "0.02",
        "--concurrency",
        "2",
        "--timeout",
        "1",
        "--workers",
        "1",
        "--max-size",
        "400000",
        "--no-progress",
    ]


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_kill_dash_nine_then_resume(tmp_path):
    site = make_site(articles=60, seed=11, slow_seconds=1.5, huge_bytes=500_000)
    with DevServer(site) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(server.url), encoding="utf-8")
        out, state = tmp_path / "out.jsonl", tmp_path / "state.sqlite3"
        proc = subprocess.Popen(
            _cli(sources, out, state),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "REZONANS_HOME": str(tmp_path / "home")},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and len(out.read_text(encoding="utf-8").splitlines()) >= 25:
                break
            assert proc.poll() is None, "the crawl finished before it could be killed: slow it down"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = len(_lines(out))
        total = len(site.public_articles()) + len(site.posts)
        assert 25 <= first < total, "killed too late to prove anything"
        done = subprocess.run(
            _cli(sources, out, state),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "REZONANS_HOME": str(tmp_path / "home")},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    urls = [canonicalize_url(item["canonical_url"]) for item in _lines(out)]
    assert len(urls) == len(set(urls)), "an article was emitted twice"
    wanted = {canonicalize_url(server.url + a.path) for a in site.public_articles()}
    wanted |= {canonicalize_url(f"{server.url}/{site.channel}/{p.id}") for p in site.posts}
    assert set(urls) == wanted
