"""The runtime package nlp/ stays free of training code and of environment reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

NLP = Path(__file__).resolve().parents[2] / "nlp"
SOURCES = sorted(NLP.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sources_found():
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_nlp_never_imports_training(path):
    assert not {n for n in _imported(path) if n == "training" or n.startswith("training.")}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_nlp_reads_no_environment(path):
    text = path.read_text(encoding="utf-8")
    assert "os.environ" not in text and "getenv" not in text


def test_training_scripts_use_public_nlp_names():
    training = NLP.parent / "training"
    for path in training.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nlp"):
                assert all(not a.name.startswith("_") for a in node.names), (path.name, node.module)
