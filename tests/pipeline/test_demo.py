"""The demo end to end on a small dev site: the report's figures agree with the index."""

from __future__ import annotations

import pytest

from indexer.client import connect
from indexer.mappings import articles_alias
from pipeline.demo import DEMO_NOW, DEMO_WEEK, run_demo_pipeline
from report.aggs import ReportScope
from report.demo import report_demo
from report.periods import week_period

pytestmark = [pytest.mark.es, pytest.mark.slow]


def test_demo_report_matches_the_index(es_settings, tmp_path):
    data = run_demo_pipeline(
        brand="sberbank",
        articles=90,
        prefix=f"{es_settings.index_prefix}-demo",
        settings=es_settings,
        start_server=False,
    )
    settings = data.settings
    client = connect(settings)
    alias = articles_alias(settings)
    assert data.indexed == data.articles == client.count(index=alias)["count"] > 80
    scope = ReportScope(brand="sberbank", competitors=list(data.card.competitors), own_channels=[data.channel])
    result = report_demo(
        settings,
        scope,
        data.promo_days,
        DEMO_WEEK,
        DEMO_NOW,
        out_html=tmp_path / "r.html",
        out_xlsx=tmp_path / "r.xlsx",
    )
    rep = result.report
    period = week_period("2026-W47")
    rng = {"range": {"published_at": {"gte": period.start.isoformat(), "lt": period.end.isoformat()}}}

    def count(*filters):
        return client.count(index=alias, query={"bool": {"filter": [rng, *filters]}})["count"]

    brand = {"term": {"brands": "sberbank"}}
    assert rep["articles"]["value"] == count(brand) > 0
    assert sum(d["articles"] for d in rep["daily"]) == rep["articles"]["value"] and len(rep["daily"]) == 7
    assert 0 < rep["stories"]["value"] <= rep["articles"]["value"]
    assert rep["reprints"]["value"] == rep["articles"]["value"] - rep["stories"]["value"]
    for sentiment in ("positive", "neutral", "negative"):
        tone = {
            "nested": {
                "path": "brand_tone",
                "query": {
                    "bool": {
                        "filter": [
                            {"term": {"brand_tone.brand": "sberbank"}},
                            {"term": {"brand_tone.sentiment": sentiment}},
                        ]
                    }
                },
            }
        }
        assert rep["tone"][sentiment]["value"] == count(brand, tone)
    for row in rep["share_of_voice"]:
        assert row["articles"]["value"] == count({"term": {"brands": row["brand"]}})
    assert [r["brand"] for r in rep["share_of_voice"]] == ["sberbank", "vtb", "alfabank", "tbank"]
    assert sum(r["share"]["value"] for r in rep["share_of_voice"]) == pytest.approx(100.0)
    # the publicity index recomputed from the stored mentions, one by one
    factors = {"positive": 1.0, "neutral": 0.5, "negative": -1.0}
    hits = client.search(index=alias, query={"bool": {"filter": [rng, brand]}}, size=1000)["hits"]["hits"]
    by_hand = sum(
        h["_source"]["source"]["weight"] * m["prominence"] * factors[m["sentiment"]]
        for h in hits
        for m in h["_source"]["mentions"]
        if m["brand"] == "sberbank"
    )
    assert rep["publicity_index"]["value"] == pytest.approx(by_hand, abs=1e-3)
    assert rep["smm"] is not None and rep["smm"]["posts"]["value"] == count({"term": {"source.type": "telegram"}})
    assert result.redemptions > 0 and rep["outcomes"]["correlations"]
    assert result.markdown.startswith("# Отчёт о публичности: sberbank\n\n16–22 ноября 2026 (неделя 2026-W47)")
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert (tmp_path / "r.xlsx").stat().st_size > 5000
