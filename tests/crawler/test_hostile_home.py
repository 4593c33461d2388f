"""Crawls that share a home: one lock, private files, and a forged canonical link that must not overwrite the index."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from crawler.options import CrawlOptions
from crawler.run import CrawlRunning, crawl
from crawler.sources import Source
from crawler.state import default_state_path
from indexer.client import connect
from rezonans.config import Settings
from rezonans.model import article_id

from .hostile import ARTICLE_TEXT, HTML, XML, Site, article_html, rss, wait_for

BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands.yaml"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _slow_site() -> Site:
    """A feed whose one article takes 3 s to answer, so a crawl of it stays busy."""

    def slow(_: str):
        time.sleep(3)
        return 200, HTML, article_html("Медленная новость", ARTICLE_TEXT)

    site = Site({"/a/slow.html": slow})
    site.routes["/rss.xml"] = (200, XML, rss([("Медленная новость", f"{site.url}/a/slow.html")]))
    return site


def test_second_crawl_on_the_same_home_is_refused_and_files_are_private(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("REZONANS_HOME", str(home))
    with _slow_site() as site:
        source = Source(name="Slow", type="rss", url=f"{site.url}/rss.xml")
        first: dict = {}

        def crawl_first() -> None:
            first["stats"] = crawl([source], lambda a: None, CrawlOptions.fast(extract_workers=1), home=home)

        thread = threading.Thread(target=crawl_first)
        thread.start()
        assert wait_for(lambda: site.hits["/a/slow.html"] > 0)
        with pytest.raises(CrawlRunning, match="another crawl is running"):
            crawl([source], lambda a: None, CrawlOptions.fast(extract_workers=1), home=home)
        sources = tmp_path / "s.yaml"
        sources.write_text(f"sources:\n  - {{name: Slow, type: rss, url: '{site.url}/rss.xml'}}\n", encoding="utf-8")
        res = CliRunner().invoke(
            app, ["crawl", "--sources", str(sources), "--out", str(tmp_path / "o.jsonl"), "--fast", "--no-progress"]
        )
        thread.join(30)
    assert res.exit_code != 0 and "another crawl is running" in res.output, res.output
    assert first["stats"].articles == 1 and site.hits["/a/slow.html"] == 1  # the refused crawls fetched nothing
    state = default_state_path(home)
    assert _mode(home) == 0o700 and _mode(state.parent) == 0o700
    files = [state, Path(f"{state}.lock"), *[p for p in state.parent.iterdir() if p.name.startswith(state.name)]]
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    # the lock is released with its crawl: a third crawl runs
    again = crawl([], lambda a: None, CrawlOptions.fast(extract_workers=1), home=home)
    assert again.returncode == 0


def test_forged_canonical_does_not_overwrite_another_outlets_document(tmp_path, es_settings: Settings, monkeypatch):
    prefix = f"{es_settings.index_prefix}-canon"
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    with Site() as a, Site() as b:
        original = f"{a.url}/a/sber.html"
        a.routes["/a/sber.html"] = (
            200,
            HTML,
            article_html("Сбербанк снизил ставки", "Сбербанк снизил ставки. " + ARTICLE_TEXT),
        )
        a.routes["/rss.xml"] = (200, XML, rss([("Сбербанк снизил ставки", original)]))
        forged = "Сбербанк обвинили в мошенничестве. Это подделка чужой статьи. " + ARTICLE_TEXT
        b.routes["/a/forged.html"] = (200, HTML, article_html("Сбербанк обвинили", forged, canonical=original))
        b.routes["/rss.xml"] = (200, XML, rss([("Сбербанк обвинили", f"{b.url}/a/forged.html")]))
        sources = tmp_path / "s.yaml"
        sources.write_text(
            "sources:\n"
            f"  - {{name: Outlet A, type: rss, url: '{a.url}/rss.xml'}}\n"
            f"  - {{name: Outlet B, type: rss, url: '{b.url}/rss.xml'}}\n",
            encoding="utf-8",
        )
        res = CliRunner().invoke(
            app,
            ["crawl", "--sources", str(sources), "--brands", str(BRANDS), "--fast", "--analysis-workers", "0"]
            + ["--no-progress", "--json"],
        )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    assert summary["sources"]["Outlet B"]["foreign_canonical"] == 1
    client = connect(es_settings)
    client.indices.refresh(index=f"{prefix}-articles")
    hits = client.search(index=f"{prefix}-articles", size=10, query={"match_all": {}}, source=["url", "title", "links"])
    docs = {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}
    assert set(docs) == {article_id(original), article_id(f"{b.url}/a/forged.html")}
    assert docs[article_id(original)]["title"] == "Сбербанк снизил ставки"  # site A's article is intact
    assert docs[article_id(f"{b.url}/a/forged.html")]["url"] == f"{b.url}/a/forged.html"


def test_crawl_process_never_imports_code_from_the_working_folder(tmp_path, monkeypatch):
    planted = tmp_path / "crawler"
    planted.mkdir()
    marker = tmp_path / "planted-code-ran"
    (planted / "__init__.py").write_text("", encoding="utf-8")
    (planted / "child.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    stats = crawl([], lambda a: None, CrawlOptions.fast(extract_workers=1), state_path=tmp_path / "state.sqlite3")
    assert stats.returncode == 0 and not marker.exists()
