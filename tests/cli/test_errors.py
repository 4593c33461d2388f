"""One error path: every failure is one `error:` line on stderr and exit 2 (user) or 1 (runtime), no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.ports import dead_url

pytestmark = pytest.mark.unit

BRANDS = "brands:\n  - {id: sberbank, name: Сбербанк}\n"


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process (logging set up as a user gets it)."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REZONANS_ES_TIMEOUT": "2", **(env or {})},
    )


def _one_error_line(stderr: str) -> str:
    """The stderr of a failed command: exactly one `error:` line and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "ставки"],
        ["es", "status"],
        ["index", "list"],
        ["report", "--brand", "sberbank", "--week", "2026-W47"],
    ],
)
def test_elasticsearch_down_is_one_line_and_exit_1(args, tmp_path):
    done = _run(args, {"REZONANS_ES_URL": dead_url(), "REZONANS_HOME": str(tmp_path)})
    assert done.returncode == 1, done.stderr
    line = _one_error_line(done.stderr)
    assert "rezonans es start" in line and "REZONANS_ES_URL" in line


def test_alerts_check_with_elasticsearch_down_is_quiet(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: a, brand: sberbank}\n  - {name: b, brand: vtb, metric: negative}\n", encoding="utf-8"
    )
    done = _run(
        ["alerts", "check", "--rules", str(rules)], {"REZONANS_ES_URL": dead_url(), "REZONANS_HOME": str(tmp_path)}
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _one_error_line(done.stderr).startswith("error: every rule failed")
    assert sum("rule a failed" in line or "rule b failed" in line for line in done.stderr.splitlines()) == 2


def test_bad_query_shows_where_and_exits_2():
    res = CliRunner().invoke(app, ["search", "ставки AND (ВТБ"])
    assert res.exit_code == 2
    assert "bad query" in res.stderr and "^" in res.stderr and "Traceback" not in res.stderr


def test_bad_date_and_sort_are_user_errors():
    res = CliRunner().invoke(app, ["search", "ставки", "--from", "32.13.2026"])
    assert res.exit_code == 2 and "DD.MM.YYYY" in res.stderr
    res = CliRunner().invoke(app, ["search", "ставки", "--sort", "popular"])
    assert res.exit_code == 2 and "--sort must be date or relevance" in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "--brands", "{file}"],
        ["alerts", "validate", "--rules", "{file}"],
        ["crawl", "--sources", "{file}", "--out", "{out}"],
        ["alerts", "backtest", "--csv", "{file}"],
    ],
)
def test_binary_input_files_are_one_line_and_exit_2(args, tmp_path):
    binary = tmp_path / "input.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01PK\x03\x04" + bytes(range(256)))
    argv = [a.format(file=binary, out=tmp_path / "out.jsonl") for a in args]
    res = CliRunner().invoke(app, argv, input="")
    assert res.exit_code == 2, res.output
    assert "not UTF-8" in res.stderr and str(binary) in res.stderr and "Traceback" not in res.stderr


def test_missing_files_name_the_path(tmp_path):
    res = CliRunner().invoke(app, ["analyze", "--brands", str(tmp_path / "nope.yaml")], input="")
    assert res.exit_code == 2 and "nope.yaml" in res.stderr and "does not exist" in res.stderr


def test_bad_setting_names_the_field(tmp_path):
    res = CliRunner().invoke(app, ["search", "x"], env={"REZONANS_ES_TIMEOUT": "soon"})
    assert res.exit_code == 2 and "es_timeout" in res.stderr


def test_unusable_home_is_one_line(tmp_path):
    home = tmp_path / "home"
    home.write_text("a file, not a folder")  # every write below it fails, even as root
    src = tmp_path / "in.jsonl"
    src.write_text('{"url": "https://e.ru/1", "title": "t", "text": "x", "source": {"name": "e"}}\n')
    done = _run(["index", "load", str(src)], {"REZONANS_ES_URL": dead_url(), "REZONANS_HOME": str(home)})
    assert done.returncode == 1, done.stderr
    line = _one_error_line(done.stderr)
    assert str(home) in line


def test_help_shows_the_commands():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "search" in res.stdout and "report" in res.stdout
