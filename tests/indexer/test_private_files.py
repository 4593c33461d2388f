"""Spool, journal, rejected documents and alert state are readable by their owner only (0600 in 0700 folders)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from alerts.check import save_state
from indexer.bulk import BulkWriter
from rezonans.config import Settings
from tests.indexer.test_index import make_article
from tests.ports import dead_url

pytestmark = pytest.mark.unit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_spool_and_journal_are_private(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home, es_url=dead_url(), es_timeout=1.0)
    with BulkWriter(settings, durable=True, max_retries=0, initial_backoff=0.01) as writer:
        for i in range(3):
            writer.add(make_article(i))
    assert writer.stats.spooled == 3  # the server is down: everything went to the spool
    files = sorted(settings.spool_dir.iterdir())
    assert files and {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _mode(settings.spool_dir) == 0o700 and _mode(home) == 0o700


def test_alert_state_is_private(tmp_path):
    path = tmp_path / "home" / "alerts" / "state.json"
    save_state(path, {"version": 1, "rules": {}})
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
