"""One meaning per short option, and on/off flags shown as flags in --help (the commands of issue 18)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.unit
COMMANDS = [["search"], ["report"], ["crawl"], ["analyze"], ["reanalyze"], ["demo"], ["outcomes", "import"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_flags_show_as_flags_and_b_is_a_brand(command):
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    typed_flags = [line for line in lines if "<bool>" in line and "--help" not in line]
    assert typed_flags == [], typed_flags
    for line in lines:
        if " -b " in line:
            assert "--brand " in line and "--brands" not in line, line


def test_alert_rules_are_listed_in_russian_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path))
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "rules:\n  - {name: сбер-негатив, brand: sberbank, metric: negative_share, bucket: 1h, sensitivity: low}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["alerts", "validate", "--rules", str(rules)])
    assert res.exit_code == 0, res.output
    assert "сбер-негатив: доля негатива по sberbank за интервал 3600 с, чувствительность low" in res.stdout
