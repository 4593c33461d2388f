"""The package layering of docs/architecture.md holds in the code: imports follow the data flow, never up it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

# package → the packages of ours it may import (docs/architecture.md, "who may import whom")
ALLOWED: dict[str, set[str]] = {
    "rezonans": set(),
    "crawler": {"rezonans"},
    "nlp": {"rezonans"},
    "indexer": {"rezonans"},
    "search": {"indexer", "nlp", "rezonans"},
    "pipeline": {"crawler", "nlp", "indexer", "rezonans"},
    "report": {"search", "indexer", "rezonans"},
    "alerts": {"search", "indexer", "rezonans"},
    "web": {"search", "report", "alerts", "pipeline", "indexer", "rezonans"},
    "cli": {"rezonans", "crawler", "nlp", "indexer", "search", "pipeline", "report", "alerts", "web"},
    "training": {"nlp", "rezonans"},
}
OURS = set(ALLOWED)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import of one of our packages in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in OURS]
    return found


def violations() -> list[str]:
    """Every import that runs against the table, as 'file:line: a imports b'."""
    bad = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            for line, target in imports_of(path):
                if target != package and target not in allowed:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {package} imports {target}")
    return bad


def test_imports_follow_the_data_flow():
    assert violations() == []


def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch):
    (tmp_path / "nlp").mkdir()
    (tmp_path / "nlp" / "bad.py").write_text("from indexer.client import connect\nimport rezonans.model\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations() == ["nlp/bad.py:1: nlp imports indexer"]


def test_the_table_matches_the_docs():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package, allowed in ALLOWED.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{package}/`")), None)
        assert row is not None, f"docs/architecture.md has no row for {package}/"
        cell = row.rstrip(" |").rsplit("|", 1)[-1]
        named = {name.strip(" `") for name in cell.split(",") if name.strip(" `")}
        assert named == (allowed or {"third-party libraries only"}), f"{package}: docs say {named}, test says {allowed}"


def test_settings_docs_are_generated_from_the_code():
    from rezonans.config import settings_table

    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert settings_table() in text, "docs/settings.md is stale: run `python -m rezonans.config > docs/settings.md`"
