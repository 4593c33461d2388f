"""`rezonans crawl` when every source fails: exit 1 with the causes per source; progress lines off a terminal."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.unit


def _dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_all_sources_failing_exits_1_with_causes_and_progress_lines(tmp_path):
    port = _dead_port()
    sources = tmp_path / "s.yaml"
    sources.write_text(
        "sources:\n"
        f"  - {{name: Лента А, type: rss, url: 'http://127.0.0.1:{port}/a.xml'}}\n"
        f"  - {{name: Карта Б, type: sitemap, url: 'http://127.0.0.1:{port}/sitemap.xml'}}\n",
        encoding="utf-8",
    )
    args = ["crawl", "--sources", str(sources), "--out", str(tmp_path / "o.jsonl"), "--state", str(tmp_path / "st")]
    res = CliRunner().invoke(app, [*args, "--fast", "--timeout", "2", "--progress-every", "0"])
    assert res.exit_code == 1, res.output
    error = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "every source failed (2)" in error[0]
    assert "Лента А:" in error[0] and "Карта Б:" in error[0] and "×" in error[0]
    # Not a terminal: one-line progress logs instead of a live table; the summary is in Russian.
    assert "обход: источников" in res.stderr and "новых статей" in res.stderr
