"""kill -9 on the index path: `rezonans crawl` (analyse + durable bulk writer) killed mid-crawl, run again,
leaves every public article of the dev site in Elasticsearch exactly once and no journal or spool file behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from elasticsearch import helpers

from crawler.devsite import DevServer
from indexer.client import connect
from rezonans.config import Settings
from rezonans.model import article_id, canonicalize_url

from .conftest import make_site

ROOT = Path(__file__).resolve().parents[2]
BRANDS = ROOT / "examples" / "brands.yaml"
CHUNK = 500  # BulkWriter's default chunk: the first kill point lies past one flushed chunk


def _cli(sources: Path) -> list[str]:
    """The index path as a user runs it (no --out); the size limit lets the 0.5 MB full-text feed through."""
    return [
        sys.executable,
        "-c",
        "from cli.main import app; app()",
        "crawl",
        "--sources",
        str(sources),
        "--brands",
        str(BRANDS),
        "--fast",
        "--workers",
        "1",
        "--max-size",
        "2000000",
        "--no-progress",
        "--json",
    ]


def _seen_urls(state: Path) -> list[str]:
    """URLs the crawl marked as emitted (read-only look at the live state database)."""
    if not state.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)
        try:
            return [row[0] for row in db.execute("SELECT url FROM seen WHERE content_hash IS NOT NULL")]
        finally:
            db.close()
    except sqlite3.OperationalError:  # schema not created yet
        return []


def _journalled_ids(spool: Path) -> set[str]:
    """Document ids held in journal files (a torn last line is ignored, as replay does)."""
    ids: set[str] = set()
    for path in spool.glob("journal-*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                ids.add(json.loads(line)["_id"])
            except (json.JSONDecodeError, KeyError):
                continue
    return ids


def _indexed_ids(client, prefix: str) -> list[str]:
    """Every document id under the prefix's article alias (after a refresh)."""
    if not client.indices.exists_alias(name=f"{prefix}-articles"):
        return []
    client.indices.refresh(index=f"{prefix}-articles")
    return [
        hit["_id"]
        for hit in helpers.scan(
            client, index=f"{prefix}-articles", query={"query": {"match_all": {}}}, _source=False, size=1000
        )
    ]


def test_kill_dash_nine_on_index_path_then_resume(tmp_path: Path, es_settings: Settings) -> None:
    site = make_site(articles=600, seed=13, slow_seconds=1.5, huge_bytes=3_000_000, telegram_posts=45)
    prefix = f"{es_settings.index_prefix}-kill"
    home = tmp_path / "home"
    env = {
        **os.environ,
        "REZONANS_HOME": str(home),
        "REZONANS_INDEX_PREFIX": prefix,
        "REZONANS_ES_URL": es_settings.es_url,
    }
    state, spool = home / "crawl" / "state.sqlite3", home / "spool"
    client = connect(es_settings)
    with DevServer(site) as server:
        expected = {article_id(canonicalize_url(server.url + a.path)) for a in site.public_articles()}
        expected |= {article_id(f"{server.url}/{site.channel}/{p.id}") for p in site.posts}
        assert len(expected) > CHUNK + 60
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(server.url), encoding="utf-8")
        proc = subprocess.Popen(_cli(sources), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 150
        while True:
            emitted = len(_seen_urls(state))
            if emitted >= CHUNK + 30:
                break
            assert proc.poll() is None, "the crawl finished before it could be killed"
            assert time.monotonic() < deadline, f"only {emitted} articles emitted in 150 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        # What the killed run accepted is in the index or in its journal: nothing marked seen is lost.
        emitted_ids = {article_id(u) for u in _seen_urls(state)} & expected
        indexed_before = set(_indexed_ids(client, prefix))
        journalled = _journalled_ids(spool)
        assert len(indexed_before) >= CHUNK, "no chunk was flushed before the kill"
        assert journalled, "the kill left no journal: it did not hit the unflushed buffer"
        assert emitted_ids <= indexed_before | journalled, f"{len(emitted_ids - indexed_before - journalled)} lost"
        assert len(emitted_ids) < len(expected), "killed too late to prove anything"

        done = subprocess.run(_cli(sources), capture_output=True, env=env, timeout=240)
        assert done.returncode == 0, done.stderr.decode()[-3000:]
    summary = json.loads(done.stdout)
    assert summary["replayed"] >= len(journalled)
    assert summary["index"]["spooled"] == 0 and summary["index"]["rejected"] == 0
    ids = _indexed_ids(client, prefix)
    assert len(ids) == len(set(ids)), "an article is in the index twice"
    names = {article_id(canonicalize_url(server.url + a.path)): a.path for a in site.public_articles()}
    names |= {article_id(f"{server.url}/{site.channel}/{p.id}"): f"tg{p.id}" for p in site.posts}
    assert set(ids) == expected, f"missing: {sorted(names[i] for i in expected - set(ids))[:20]}"
    assert len(ids) == len(expected)
    left = sorted(p.name for p in spool.glob("*")) if spool.exists() else []
    assert left == [], f"files left in the spool: {left}"
