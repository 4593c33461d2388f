"""Shared fixtures for the NLP tests: the shipped brand cards and one analyzer per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.analyzer import Analyzer
from rezonans.brands import BrandSet, load_brands

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def brands() -> BrandSet:
    return load_brands(ROOT / "examples" / "brands.yaml")


@pytest.fixture(scope="session")
def analyzer(brands: BrandSet) -> Analyzer:
    return Analyzer(brands)
