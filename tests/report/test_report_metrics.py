"""Every report figure against the seeded corpus with answers worked out by hand (see corpus.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy
import pytest

from indexer.client import connect
from report.aggs import ReportScope
from report.build import build_report
from report.periods import week_period

pytestmark = pytest.mark.es

SCOPE = ReportScope(brand="sberbank", competitors=["vtb", "tbank"], own_channels=["sberbank_official"])


@pytest.fixture(scope="module")
def rep(seeded):
    return build_report(
        connect(seeded), seeded, SCOPE, week_period("2026-W47"), generated_at=datetime(2026, 11, 23, 9, tzinfo=UTC)
    )


def test_volume_stories_and_reprints(rep):
    # a1 a2 a3 a4 a5 a6 a7 a10 a12 mention sberbank in the Moscow week; "late" is Monday 23 in Moscow.
    assert rep["period"] == "2026-W47" and rep["previous_period"] == "2026-W46"
    assert rep["articles"] == {"value": 9, "previous": 3, "change": 6, "change_pct": 200.0}
    assert rep["mentions"]["value"] == 10 and rep["mentions"]["previous"] == 3  # a6 has two mentions
    # clusters c1 c2 c3 c4 c7 + a12 without a cluster; previous: c8 c9
    assert rep["stories"]["value"] == 6 and rep["stories"]["previous"] == 2
    assert rep["reprints"]["value"] == 3 and rep["reprints"]["previous"] == 1


def test_daily_volume_in_local_days(rep):
    days = {d["day"]: d for d in rep["daily"]}
    assert list(days) == [f"2026-11-{d}" for d in range(16, 23)]
    assert [days[d]["articles"] for d in days] == [3, 2, 2, 1, 0, 1, 0]
    assert [days[d]["stories"] for d in days] == [2, 2, 1, 1, 0, 1, 0]  # Monday: c1 (a1, a2) + a12
    assert days["2026-11-18"]["publicity"] == pytest.approx(-3.25)


def test_tone_and_net_tone(rep):
    assert {s: f["value"] for s, f in rep["tone"].items()} == {"positive": 5, "neutral": 2, "negative": 2}
    assert {s: f["previous"] for s, f in rep["tone"].items()} == {"positive": 0, "neutral": 2, "negative": 1}
    assert rep["net_tone"]["value"] == pytest.approx(100 * 3 / 9)
    assert rep["net_tone"]["previous"] == pytest.approx(-100 / 3)


def test_publicity_index_formula(rep):
    # 3·1·1 + .5·.5·1 + 2·.5·1 − 3·1 − .5·.5 + 2·.4·.5 + 2·.2·.5 + .5·.8 + 1·.6 + .5·.3·.5
    assert rep["publicity_index"]["value"] == pytest.approx(2.675, abs=1e-4)
    # 3·1·.5 + .5·.5·.5 − 2·.6
    assert rep["publicity_index"]["previous"] == pytest.approx(0.425, abs=1e-4)
    comp = rep["publicity_components"]
    assert comp["positive"]["value"] == pytest.approx(5.25, abs=1e-4)
    assert comp["neutral"]["value"] == pytest.approx(0.675, abs=1e-4)
    assert comp["negative"]["value"] == pytest.approx(-3.25, abs=1e-4)
    assert rep["formula"]["version"] == "PI-1" and "neutral +0.5" in rep["formula"]["text"]


def test_top_sources(rep):
    rows = [
        (s["name"], s["articles"]["value"], s["articles"]["previous"], round(s["publicity"], 4))
        for s in rep["top_sources"]
    ]
    assert rows == [
        ("Региональные вести", 4, 1, 0.475),
        ("Коммерсантъ", 2, 1, 1.6),
        ("РБК", 2, 1, 0.0),
        ("sberbank_official", 1, 0, 0.6),
    ]
    assert rep["top_sources"][0]["weight"] == 0.5


def test_top_stories(rep):
    top = rep["top_stories"]
    assert (top[0]["cluster"], top[0]["articles"], top[0]["reprints"], top[0]["outlets"]) == ("c1", 3, 2, 3)
    assert top[0]["url"] == "https://rbc.ru/news/a1" and top[0]["source"] == "РБК" and top[0]["tone"] == "positive"
    assert (top[1]["cluster"], top[1]["articles"], top[1]["tone"]) == ("c2", 2, "negative")
    assert sorted(s["cluster"] for s in top[2:]) == ["c3", "c4", "c7"]


def test_share_of_voice(rep):
    sov = {r["brand"]: r for r in rep["share_of_voice"]}
    assert [r["brand"] for r in rep["share_of_voice"]] == ["sberbank", "vtb", "tbank"]
    assert sov["sberbank"]["articles"]["value"] == 9 and sov["vtb"]["articles"]["value"] == 3
    assert sov["tbank"]["articles"]["value"] == 1
    assert sov["sberbank"]["share"]["value"] == pytest.approx(100 * 9 / 13)
    assert sov["sberbank"]["share"]["previous"] == pytest.approx(75.0)
    assert sov["tbank"]["share"]["previous"] == 0.0
    assert sov["sberbank"]["mentions"]["value"] == 10 and sov["vtb"]["mentions"]["value"] == 3
    assert sov["sberbank"]["mention_share"]["value"] == pytest.approx(100 * 10 / 14)


def test_negative_mentions(rep):
    neg = rep["negatives"]
    assert [n["url"] for n in neg] == ["https://rbc.ru/news/a4", "https://regvesti.ru/news/a5"]
    assert "оштрафован" in neg[0]["snippet"] and neg[0]["weight"] == 3.0


def test_promo_codes_beside_redemptions(rep):
    promo = {p["code"]: p for p in rep["promo_codes"]}
    assert promo["SBER500"]["mentions"]["value"] == 3 and promo["SBER500"]["articles"]["value"] == 3
    assert promo["VESNA"]["mentions"]["value"] == 1
    # 3 good SBER500 rows in week 47 (500 + 500 + "500,00"); one in week 46; bad rows were refused.
    assert promo["SBER500"]["redemptions"] == {"value": 3, "previous": 1, "change": 2, "change_pct": 200.0}
    assert promo["SBER500"]["amount"]["value"] == 1500.0 and promo["SBER500"]["amount"]["previous"] == 250.0
    assert promo["VESNA"]["redemptions"]["value"] == 1 and promo["VESNA"]["amount"]["value"] == 300.0


def test_own_channel_smm(rep):
    smm = rep["smm"]
    assert smm["posts"] == {"value": 2, "previous": 1, "change": 1, "change_pct": 100.0}
    assert smm["views"]["value"] == 1500 and smm["views"]["previous"] == 800
    assert smm["forwards"]["value"] == 15 and smm["avg_views"]["value"] == 750.0


def test_outcomes_and_correlation(rep):
    out = rep["outcomes"]
    assert out["redemptions"]["value"] == 4 and out["redemptions"]["previous"] == 1
    assert out["amount"]["value"] == 1800.0
    surveys = {s["metric"]: s["value"] for s in out["surveys"]}
    assert surveys["awareness"]["value"] == 41.5 and surveys["awareness"]["previous"] == 40.0
    assert "consideration" not in surveys  # its only row was refused
    red = next(c for c in out["correlations"] if c["outcome"] == "redemptions per day")
    # Redemption days run 11..21 November (11 days, zeros in between); publicity covers the 56 days before.
    assert [r["n"] for r in red["lags"]] == [11] * 8
    # Daily publicity 11..21 Nov by hand (Moscow days) and redemptions per day.
    pub = [0.125, -1.2, 0, 0, 0, 3.325, 1.6, -3.25, 0.6, 0, 0.4]
    pub_before = [0.0] * 6 + [1.5]  # 4..10 Nov: only p1 (РБК, neutral, 3·1·0.5) on the 10th
    red_days = [1, 0, 0, 0, 0, 0, 2, 1, 0, 0, 1]
    series = pub_before + pub
    for lag in (0, 1, 3):
        xs = series[7 - lag : 7 - lag + 11]
        assert red["lags"][lag]["r"] == pytest.approx(float(numpy.corrcoef(xs, red_days)[0, 1]), abs=1e-6)
    survey = next(c for c in out["correlations"] if c["outcome"] == "survey: awareness")
    assert survey["lags"][0]["n"] == 2 and survey["lags"][0]["r"] is None
    assert survey["lags"][0]["note"] == "not enough data (n=2 < 10)"


def test_cli_report_formats(seeded, tmp_path, monkeypatch):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    runner = CliRunner()
    base = [
        "report",
        "--brand",
        "sberbank",
        "--week",
        "2026-W47",
        "-c",
        "vtb",
        "-c",
        "tbank",
        "--own-channel",
        "sberbank_official",
    ]
    res = runner.invoke(app, base)
    assert res.exit_code == 0, res.output
    assert "| Articles, reprints included | 9 (+6, +200%) |" in res.stdout
    assert "Publicity index PI-1" in res.stdout and "| SBER500 | 3 (+3, new) |" in res.stdout
    html = tmp_path / "r.html"
    assert runner.invoke(app, base + ["--format", "html", "--out", str(html)]).exit_code == 0
    page = html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "https://rbc.ru/news/a4" in page
    xlsx = tmp_path / "r.xlsx"
    assert runner.invoke(app, base + ["--format", "xlsx", "--out", str(xlsx)]).exit_code == 0
    wb = load_workbook(xlsx)
    summary = {row[0]: row[1:] for row in wb["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Articles (incl. reprints)"][:2] == (9, 3)
    assert [r[0] for r in wb["Share of voice"].iter_rows(min_row=2, values_only=True)] == ["sberbank", "vtb", "tbank"]
    res = runner.invoke(app, ["report", "--brand", "sberbank", "--week", "2026-W54"])
    assert res.exit_code == 2 and "has no week 54" in res.output


@pytest.mark.unit
def test_periods():
    from report.periods import month_period, resolve

    w = week_period("2026-W01")
    assert w.start.isoformat() == "2025-12-29T00:00:00+03:00" and w.previous().label == "2025-W52"
    m = month_period("2026-03")
    assert len(m.days) == 31 and m.previous().label == "2026-02" and len(m.previous().days) == 28
    r = resolve(date_from="2026-11-01", date_to="2026-11-10")
    assert len(r.days) == 10 and r.previous().end == r.start and len(r.previous().days) == 10
    assert resolve(now=datetime(2026, 11, 25, tzinfo=UTC)).label == "2026-W47"
