"""`rezonans crawl` without --out through the CLI runner: analysed in this process, indexed into the real server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from crawler.devsite import DevServer
from indexer.client import connect
from rezonans.config import Settings
from rezonans.model import article_id, canonicalize_url

from .conftest import make_site

BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands.yaml"


def test_crawl_into_the_index_in_process(tmp_path: Path, es_settings: Settings, monkeypatch) -> None:
    site = make_site(articles=40, seed=21, slow_seconds=0.5, huge_bytes=3_000_000, telegram_posts=10)
    prefix = f"{es_settings.index_prefix}-cli"
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    with DevServer(site) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(server.url), encoding="utf-8")
        expected = {article_id(canonicalize_url(server.url + a.path)) for a in site.public_articles()}
        expected |= {article_id(f"{server.url}/{site.channel}/{p.id}") for p in site.posts}
        res = CliRunner().invoke(
            app,
            [
                "crawl",
                "--sources",
                str(sources),
                "--brands",
                str(BRANDS),
                "--fast",
                "--analysis-workers",
                "0",
                "--max-size",
                "2000000",
                "--no-progress",
                "--json",
            ],
        )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    assert summary["analysis_workers"] == 0
    assert summary["index"]["indexed"] == len(expected) and summary["index"]["spooled"] == 0
    client = connect(es_settings)
    client.indices.refresh(index=f"{prefix}-articles")
    hits = client.search(index=f"{prefix}-articles", size=200, query={"match_all": {}}, source=["brands", "lemmas"])
    assert {h["_id"] for h in hits["hits"]["hits"]} == expected
    assert any(h["_source"]["brands"] for h in hits["hits"]["hits"])  # analysed on the way
    assert all(h["_source"]["lemmas"] for h in hits["hits"]["hits"])
