"""Every report figure against the seeded corpus with answers worked out by hand (see corpus.py)."""

from __future__ import annotations

import json
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
    # Ranked by the brand's publicity in the story (Σ weight × prominence): c3 2×0.6=1.2, c7 1×0.6, c4 0.5×0.8.
    assert [s["cluster"] for s in top[2:]] == ["c3", "c7", "c4"]
    assert [s["exposure"] for s in top] == pytest.approx([4.25, 3.25, 1.2, 0.6, 0.4])
    assert top[1]["publicity"] == pytest.approx(-3.25)


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
    # Russian by default (this test pinned the English labels before): «9 (+6, +200 %)», Russian dates.
    assert "| Статьи, включая перепечатки | 9 (+6, +200\u00a0%) |" in res.stdout
    assert "Индекс публичности PI-1" in res.stdout and "| SBER500 | 3 (+3, новое) |" in res.stdout
    assert "16–22 ноября 2026 (неделя 2026-W47)" in res.stdout
    assert "карточки брендов не заданы" in res.stderr  # no --brands, no REZONANS_BRANDS: said, not the example
    html = tmp_path / "r.html"
    res = runner.invoke(app, base + ["--format", "html", "--out", str(html)])
    assert res.exit_code == 0 and f"записан в {html}" in res.stderr
    page = html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "https://rbc.ru/news/a4" in page
    xlsx = tmp_path / "r.xlsx"
    assert runner.invoke(app, base + ["--format", "xlsx", "--out", str(xlsx)]).exit_code == 0
    wb = load_workbook(xlsx)
    summary = {row[0]: row[1:] for row in wb["Сводка"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Статьи, включая перепечатки"][:2] == (9, 3)
    assert [r[0] for r in wb["Доля голоса"].iter_rows(min_row=2, values_only=True)] == ["sberbank", "vtb", "tbank"]
    res = runner.invoke(app, base, env={"REZONANS_LANGUAGE": "en"})
    assert "| Articles, reprints included | 9 (+6, +200\u00a0%) |" in res.stdout
    res = runner.invoke(app, ["report", "--brand", "sberbank", "--week", "2026-W54"])
    assert res.exit_code == 2 and "has no week 54" in res.output
    missing = tmp_path / "no" / "such" / "r.html"  # a typo in -o is said, not silently created
    res = runner.invoke(app, base + ["--format", "html", "--out", str(missing)])
    assert res.exit_code == 2 and "does not exist" in res.stderr and not missing.parent.exists()


def test_cli_report_names_typos_and_channels(seeded, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from tests.search.cards import write_cards

    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    monkeypatch.setenv("REZONANS_BRANDS", str(write_cards(tmp_path)))
    runner = CliRunner()
    week = ["--week", "2026-W47", "--format", "json"]
    res = runner.invoke(app, ["report", "--brand", "ВТБ", *week])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["brand"] == "vtb" and rep["brand_name"] == "ВТБ"  # JSON keeps machine keys beside the names
    assert [(r["brand"], r["name"]) for r in rep["share_of_voice"]] == [
        ("vtb", "ВТБ"),
        ("sberbank", "Сбербанк"),
        ("tbank", "Т-Банк"),
    ]
    assert f"карточки брендов: {tmp_path / 'brands.yaml'}" in res.stderr
    # VTB is a side note in the two-article story c2 (prominence 0.2) and the subject of c5 (one RBC article):
    # ranked by VTB's publicity in each story, c5 (3 × 1.0) comes before the bigger c2 (3 × 0.2 + 0.5 × 0.2).
    assert [(s["cluster"], s["articles"]) for s in rep["top_stories"]] == [("c5", 1), ("c2", 2)]
    assert [s["exposure"] for s in rep["top_stories"]] == pytest.approx([3.0, 0.7])
    # The card's own channel is found case-insensitively; a typo in a competitor or a channel is an error.
    rep = json.loads(runner.invoke(app, ["report", "-b", "сбер", *week]).stdout)
    assert rep["smm"]["posts"]["value"] == 2 and rep["smm"]["channels"] == ["sberbank_official"]
    res = runner.invoke(app, ["report", "-b", "sberbank", "-c", "sber", *week])
    assert res.exit_code == 2 and "unknown competitor 'sber' (did you mean 'sberbank'?)" in res.stderr
    res = runner.invoke(app, ["report", "-b", "sberbank", "--own-channel", "Finpulse", *week])
    assert res.exit_code == 2 and "matches no Telegram source" in res.stderr and "sberbank_official" in res.stderr
    res = runner.invoke(app, ["report", "-b", "sberbank", "--own-channel", "SBERBANK_OFFICIAL", *week])
    assert json.loads(res.stdout)["smm"]["posts"]["value"] == 2
    res = runner.invoke(app, ["report", "-b", "sber", *week])
    assert res.exit_code == 2 and "unknown brand 'sber'" in res.stderr
    md = runner.invoke(app, ["report", "-b", "sberbank", "--week", "2026-W47"]).stdout
    assert "| **Сбербанк** | 9 (+6, +200\u00a0%) |" in md and "| ВТБ | 3 (+2, +200\u00a0%) |" in md


def test_cli_report_pdf_a4_with_charts(seeded, tmp_path, monkeypatch):
    import shutil
    import subprocess

    from typer.testing import CliRunner

    from cli.main import app
    from tests.search.cards import write_cards

    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    monkeypatch.setenv("REZONANS_BRANDS", str(write_cards(tmp_path)))
    pdf = tmp_path / "r.pdf"
    res = CliRunner().invoke(app, ["report", "-b", "sberbank", "--week", "2026-W47", "-f", "pdf", "-o", str(pdf)])
    assert res.exit_code == 0, res.output
    assert f"записан в {pdf}" in res.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    if not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils (pdfinfo, pdftotext, pdftoppm) not installed: scripts/setup.sh installs them")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Отчёт о публичности: Сбербанк" in text and "Главные сюжеты" in text and "Доля голоса" in text
    # Page 1 rasterised: the charts make it far from blank.
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    from PIL import Image

    pixels = list(Image.open(png).convert("L").getdata())
    assert sum(1 for v in pixels if v < 200) > len(pixels) * 0.03


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


def test_cli_report_xlsx_formats_links_dates_and_charts(seeded, tmp_path, monkeypatch):
    from datetime import date as day_type

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from cli.main import app
    from tests.search.cards import write_cards

    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    monkeypatch.setenv("REZONANS_BRANDS", str(write_cards(tmp_path)))
    xlsx = tmp_path / "r.xlsx"
    res = CliRunner().invoke(app, ["report", "-b", "sberbank", "--week", "2026-W47", "-f", "xlsx", "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(xlsx)
    summary = wb["Сводка"]
    assert summary.freeze_panes == "B2" and summary["B10"].number_format == "#,##0.00"  # the publicity index
    assert summary["E2"].value == 2.0 and summary["E2"].number_format == "0.0%"  # +200 % as a fraction
    daily = wb["По дням"]
    assert daily["A2"].value.date() == day_type(2026, 11, 16) and daily["A2"].number_format == "DD.MM.YYYY"
    sources = wb["Источники"]
    weights = {row[0].value: row[1] for row in sources.iter_rows(min_row=2)}
    assert weights["Региональные вести"].value == 0.5 and weights["Региональные вести"].number_format == "#,##0.0"
    stories = wb["Сюжеты"]
    assert stories["H2"].hyperlink.target == "https://rbc.ru/news/a1" and stories["C2"].is_date
    sov = wb["Доля голоса"]
    assert [r[0] for r in sov.iter_rows(min_row=2, values_only=True)] == ["Сбербанк", "ВТБ", "Т-Банк"]
    assert sov["D2"].value == pytest.approx(9 / 13) and sov["D2"].number_format == "0.0%"
    assert wb["Негатив"]["E2"].hyperlink.target == "https://rbc.ru/news/a4"
    charts = {ws.title: len(ws._charts) for ws in wb.worksheets}
    assert charts["Сводка"] == 1 and charts["По дням"] == 1 and charts["Доля голоса"] == 1


@pytest.mark.unit
def test_markdown_keeps_crawled_html_as_text():
    from report.render import md_text, md_url

    assert md_text("<script>alert(1)</script> | [x](y)") == "&lt;script&gt;alert(1)&lt;/script&gt; / (x)(y)"
    assert md_url("javascript:alert(1)") == "#" and md_url("https://e.ru/a b)") == "https://e.ru/a%20b%29"
