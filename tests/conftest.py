"""Shared fixtures: a real local Elasticsearch (started or reused) with a private index prefix per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.bulk import BulkWriter
from indexer.client import connect, wait_for_health
from indexer.server import LocalServer, ServerError
from report.outcomes import import_file
from rezonans.config import Settings
from tests.report.corpus import REDEMPTIONS_CSV, SURVEY_CSV, corpus


@pytest.fixture(scope="session")
def es_server() -> Settings:
    """A reachable Elasticsearch: the one at REZONANS_ES_URL, else the local server (installed and started)."""
    settings = Settings()
    client = connect(settings)
    try:
        wait_for_health(client, timeout=3)
        return settings
    except Exception:
        pass
    if os.environ.get("REZONANS_ES_URL"):
        pytest.fail(f"REZONANS_ES_URL={settings.es_url} does not answer: start that server or unset the variable")
    try:
        LocalServer(settings).start()
    except ServerError as exc:
        pytest.fail(f"could not start the local Elasticsearch: {exc}")
    wait_for_health(client, timeout=60)
    return settings


@pytest.fixture(scope="session")
def es_settings(es_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings with a random index prefix and a private home folder; the prefix's indices are deleted at the end."""
    prefix = f"rztest-{uuid.uuid4().hex[:8]}"
    home = tmp_path_factory.mktemp("rezonans-home")
    settings = es_server.model_copy(update={"index_prefix": prefix, "home": home})
    yield settings
    client = connect(settings)
    try:
        names = list(client.indices.get(index=f"{prefix}-*", expand_wildcards="all").keys())
        if names:
            client.indices.delete(index=",".join(names))
        templates = client.indices.get_index_template(name=f"{prefix}-*").get("index_templates", [])
        for tpl in templates:
            client.indices.delete_index_template(name=tpl["name"])
    except Exception:  # cleanup must never mask a test result
        pass


@pytest.fixture(scope="session")
def es(es_settings: Settings):
    """A client for the session's server."""
    return connect(es_settings)


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
