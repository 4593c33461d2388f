"""`rezonans crawl` of the loopback forums and review sites through the CLI into the real Elasticsearch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.client import connect
from rezonans.config import Settings

from .boards import ENGINES, Boards, BoardServer

BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands.yaml"


def _crawl(sources: Path) -> dict:
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
            "400000",
            "--no-progress",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout[res.stdout.index("{") :])


@pytest.mark.es
@pytest.mark.slow
def test_forum_and_review_crawl_into_the_index(tmp_path: Path, es_settings: Settings, monkeypatch) -> None:
    prefix = f"{es_settings.index_prefix}-boards"
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    boards = Boards()
    posts = sum(len(t.posts) for engine in ENGINES for t in boards.forums[engine]) + 1  # + the broken page's post
    reviews = sum(len(r) for r in boards.reviews.values())
    with BoardServer(boards) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(boards.sources_yaml(server.url), encoding="utf-8")
        first = _crawl(sources)
        assert first["index"]["indexed"] == posts + reviews and first["index"]["spooled"] == 0
        assert _crawl(sources)["index"]["indexed"] == 0  # a rerun adds nothing
    client = connect(es_settings)
    index = f"{prefix}-articles"
    client.indices.refresh(index=index)
    counts = client.search(
        index=index, size=0, aggs={"types": {"terms": {"field": "source.type"}}}, query={"match_all": {}}
    )
    by_type = {b["key"]: b["doc_count"] for b in counts["aggregations"]["types"]["buckets"]}
    assert by_type == {"forum": posts, "reviews": reviews}
    # a review keeps its product and rating (searchable by the normalised score), and is analysed
    low = client.search(
        index=index,
        size=50,
        query={"bool": {"filter": [{"term": {"source.type": "reviews"}}, {"range": {"rating.score": {"lte": 2}}}]}},
    )
    want_low = [r for site in boards.reviews.values() for r in site if (r.rating - 1) / (r.best - 1) <= 0.25]
    assert len(low["hits"]["hits"]) == len(want_low)
    source = low["hits"]["hits"][0]["_source"]
    assert source["product"] in {"Дебетовая карта Сбербанка", "Кредитная карта Т-Банка"}
    assert source["author"] is None
    # forum posts are found by brand, with their thread title and permalink
    sber = client.search(
        index=index,
        size=100,
        query={"bool": {"filter": [{"term": {"source.type": "forum"}}, {"term": {"brands": "sberbank"}}]}},
    )
    hits = [h["_source"] for h in sber["hits"]["hits"]]
    assert hits and all(h["title"].startswith("Банки и сервис") for h in hits)
    assert all("#" not in h["canonical_url"] and h["published_at"] for h in hits)
