"""Shared fixtures: a real local Elasticsearch (started or reused) with a private index prefix per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from indexer.client import connect, wait_for_health
from indexer.server import LocalServer, ServerError
from rezonans.config import Settings


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
