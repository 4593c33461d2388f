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
