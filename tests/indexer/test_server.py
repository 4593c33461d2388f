"""The local server manager: version choice, clear errors, and the authenticated path on a secured node."""

from __future__ import annotations

import shutil
import socket

import pytest

from indexer.bulk import BulkWriter
from indexer.client import ESUnavailable, connect, wait_for_health
from indexer.mappings import articles_alias
from indexer.server import LocalServer, ServerError, fetch_distribution, find_java_home, version_spec
from rezonans.config import ConfigError, Settings, load_settings
from tests.indexer.test_index import make_article
from tests.ports import free_node_ports


@pytest.mark.unit
def test_version_spec():
    assert version_spec("8.19") == "[8.19.0,8.20.0)"
    assert version_spec("8.19.21") == "8.19.21"
    with pytest.raises(ServerError, match="must look like"):
        version_spec("latest")


@pytest.mark.unit
def test_no_mvn_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="no `mvn` found"):
        fetch_distribution("8.19", tmp_path / "cache")


@pytest.mark.unit
def test_no_java_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("ES_JAVA_HOME", raising=False)
    with pytest.raises(ServerError, match="no Java found"):
        find_java_home()


@pytest.mark.unit
def test_port_taken_by_another_program(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        server = LocalServer(Settings(home=tmp_path), name="taken", port=port)
        with pytest.raises(ServerError, match=f"port {port} .* taken"):
            server.start(wait=5)


@pytest.mark.unit
def test_bad_config_file_names_the_field(tmp_path):
    cfg = tmp_path / "rezonans.yaml"
    cfg.write_text("index_prefix: Bad Prefix\nes_port: nine\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "index_prefix" in str(info.value) and "es_port" in str(info.value) and str(cfg) in str(info.value)
    cfg.write_text("es_url: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(cfg)


@pytest.mark.es
@pytest.mark.slow
def test_authenticated_path_on_a_secured_server(es_server, tmp_path):
    """A second local node with security on: the password works, a wrong one is refused with a hint."""
    port = free_node_ports(9251, 9299, 1, "a second server")
    secured = LocalServer(
        es_server,
        name=f"secured-{port}",  # its own folder: parallel test sessions on one machine never share an instance
        port=port,
        security=True,
        user="rezonans_admin",
        password="s3cret-pass",
        heap="256m",
    )
    secured.start()
    try:
        good = es_server.model_copy(
            update={
                "es_url": secured.url,
                "es_user": "rezonans_admin",
                "es_password": "s3cret-pass",
                "index_prefix": "rzauth",
                "home": tmp_path,
            }
        )
        client = connect(good)
        assert wait_for_health(client)["status"] in ("green", "yellow")
        with BulkWriter(good, refresh=True) as writer:
            for i in range(5):
                writer.add(make_article(i))
        assert writer.stats.indexed == 5
        assert client.count(index=articles_alias(good))["count"] == 5
        bad = good.model_copy(update={"es_password": "wrong"})
        with pytest.raises(ESUnavailable, match="credentials"):
            wait_for_health(connect(bad), timeout=3)
        anonymous = good.model_copy(update={"es_user": None, "es_password": None})
        with pytest.raises(ESUnavailable, match="credentials"):
            wait_for_health(connect(anonymous), timeout=3)
    finally:
        assert secured.stop()
        shutil.rmtree(secured.folder, ignore_errors=True)
