"""Fixtures for report tests: a private index prefix holding the hand-computable corpus and outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.bulk import BulkWriter
from indexer.client import connect
from report.outcomes import import_file
from rezonans.config import Settings
from tests.report.corpus import REDEMPTIONS_CSV, SURVEY_CSV, corpus


@pytest.fixture(scope="session")
def seeded(es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose prefix holds exactly the corpus of tests/report/corpus.py plus its outcome CSVs."""
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-rep"})
    with BulkWriter(settings, refresh=True) as writer:
        for article in corpus():
            writer.add(article)
    assert writer.stats.indexed == len(corpus())
    folder: Path = tmp_path_factory.mktemp("outcomes")
    client = connect(settings)
    for name, text in (("red.csv", REDEMPTIONS_CSV), ("survey.csv", SURVEY_CSV)):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        import_file(client, settings, path, brand=None)
    client.indices.refresh(index=f"{settings.index_prefix}-*")
    return settings
