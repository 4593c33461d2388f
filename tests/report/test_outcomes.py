"""Outcome CSVs: detection by header, validation with line numbers, idempotent import, the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.client import connect
from report.metrics import lagged_correlations
from report.outcomes import OutcomesError, import_file, outcomes_index, parse_csv
from tests.report.corpus import REDEMPTIONS_CSV, SURVEY_CSV


@pytest.mark.unit
def test_redemptions_detected_and_bad_rows_listed():
    parsed = parse_csv(REDEMPTIONS_CSV)
    assert parsed.kind == "redemptions" and len(parsed.rows) == 5
    assert [(b.line, b.reason.split(":")[0]) for b in parsed.bad] == [
        (7, "bad date 'not-a-date'"),
        (8, "empty code"),
        (9, "negative amount '-5'"),
    ]
    assert parsed.rows[2]["amount"] == 500.0 and parsed.rows[2]["day"] == "2026-11-18"
    # The two identical rows get different, stable ids.
    assert parsed.rows[0]["_id"] != parsed.rows[1]["_id"]
    assert [r["_id"] for r in parse_csv(REDEMPTIONS_CSV).rows] == [r["_id"] for r in parsed.rows]


@pytest.mark.unit
def test_surveys_semicolons_decimal_comma():
    parsed = parse_csv(SURVEY_CSV, brand="Sberbank")
    assert parsed.kind == "surveys"
    assert [(r["metric"], r["value"], r["brand"]) for r in parsed.rows] == [
        ("awareness", 41.5, "sberbank"),
        ("awareness", 40.0, "sberbank"),
    ]
    assert [b.line for b in parsed.bad] == [4]


@pytest.mark.unit
def test_unknown_header_explains_both_formats():
    with pytest.raises(OutcomesError, match="code,date.*date,metric,value"):
        parse_csv("foo,bar\n1,2\n")


@pytest.mark.unit
def test_lagged_correlation_finds_the_lag():
    from datetime import date, timedelta

    days = [date(2026, 10, 1) + timedelta(days=i) for i in range(30)]
    x = {d: float((i * 7) % 5) for i, d in enumerate(days)}
    y = {d + timedelta(days=2): 10 + 3 * v for d, v in x.items()}
    rows = lagged_correlations(x, y, max_lag=7)
    assert rows[2]["r"] == pytest.approx(1.0) and rows[2]["n"] == 30
    assert max(rows, key=lambda r: abs(r["r"] or 0))["lag"] == 2
    few = lagged_correlations({d: x[d] for d in days[:5]}, y)
    assert all(r["r"] is None and r["note"].startswith("not enough data") for r in few)


@pytest.mark.es
def test_import_is_idempotent_and_cli_reports_lines(es_settings, tmp_path, monkeypatch):
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-out"})
    path = tmp_path / "red.csv"
    path.write_text(REDEMPTIONS_CSV, encoding="utf-8")
    client = connect(settings)
    import_file(client, settings, path, brand="sberbank")
    import_file(client, settings, path, brand="sberbank")
    client.indices.refresh(index=outcomes_index(settings))
    assert client.count(index=outcomes_index(settings))["count"] == 5
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)
    res = CliRunner().invoke(app, ["outcomes", "import", str(path), "--brand", "sberbank"])
    assert res.exit_code == 0
    # Russian by default (this line pinned the English text before).
    assert "погашения промокодов, импортировано строк: 5" in res.output and "строка 7: bad date" in res.output
    res = CliRunner().invoke(app, ["outcomes", "import", str(path), "-b", "sberbank"], env={"REZONANS_LANGUAGE": "en"})
    assert "5 rows imported" in res.output and "line 7: bad date" in res.output
    from tests.search.cards import write_cards

    cards = {"REZONANS_BRANDS": str(write_cards(tmp_path))}
    res = CliRunner().invoke(app, ["outcomes", "import", str(path), "--brand", "sber"], env=cards)
    assert res.exit_code == 2 and "unknown brand 'sber'" in res.output  # a typo is refused, not filed away
    res = CliRunner().invoke(app, ["outcomes", "import", str(path), "--brand", "Сбер", "--json"], env=cards)
    assert res.exit_code == 0 and json.loads(res.stdout)["imported"] == 5  # an alias names the brand
    assert client.count(index=outcomes_index(settings))["count"] == 5  # same rows, same brand: nothing new
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["outcomes", "import", str(bad)])
    assert res.exit_code == 2 and "unknown CSV header" in res.output
