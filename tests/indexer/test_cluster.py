"""A real two-node cluster on loopback ports: replicas from settings, writes go on and reads answer when a node stops."""

from __future__ import annotations

import uuid

import pytest

from indexer.bulk import BulkWriter, replay
from indexer.client import connect, wait_for_health
from indexer.mappings import articles_alias
from indexer.server import LocalCluster
from report.aggs import ReportScope
from report.build import build_report
from report.periods import month_period
from search.engine import SearchRequest, search
from tests.indexer.test_index import make_article
from tests.ports import free_node_ports

pytestmark = [pytest.mark.es, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(es_server):
    """Two local nodes started for this module (the first master-eligible), removed afterwards."""
    nodes = LocalCluster(
        es_server,
        nodes=2,
        name=f"t{uuid.uuid4().hex[:6]}",
        port=free_node_ports(9261, 9290, 2, "a test cluster"),
        heap="256m",
    )
    try:
        nodes.start(wait=240)
        yield nodes
    finally:
        nodes.remove()


def test_replicas_follow_the_settings_and_a_node_can_stop(cluster, es_settings, tmp_path):
    settings = es_settings.model_copy(
        update={
            "es_url": ",".join(cluster.urls),
            "es_replicas": 1,
            "index_prefix": f"{es_settings.index_prefix}-cl",
            "home": tmp_path,
            "es_timeout": 5.0,
        }
    )
    client = connect(settings)
    health = wait_for_health(client, timeout=60, status="green")
    assert health["number_of_nodes"] == 2

    articles = [make_article(i) for i in range(300)]
    for a in articles:
        a.url = a.url.replace("/economy/", f"/economy/{uuid.uuid4().hex[:4]}-")  # distinct ids
    with BulkWriter(settings, chunk_size=50) as writer:
        for a in articles[:150]:
            writer.add(a)
        writer.flush()
        settings_index = client.indices.get_settings(index=articles_alias(settings))
        assert {v["settings"]["index"]["number_of_replicas"] for v in settings_index.values()} == {"1"}
        # each shard gets its replica on the other node
        assert wait_for_health(client, timeout=60, status="green")["active_shards"] >= 2

        assert cluster.members()[1].stop()  # the data-only node goes away mid-run
        for a in articles[150:]:
            writer.add(a)
    if writer.stats.spooled:  # any batch caught mid-failover waits in the spool: replay sends it
        replay(settings)
    client.indices.refresh(index=articles_alias(settings))
    assert client.count(index=articles_alias(settings))["count"] == 300  # nothing lost, nothing doubled
    assert client.cluster.health()["number_of_nodes"] == 1

    page = search(client, settings, SearchRequest(query="сбербанк отделение"), size=5)
    assert page.total == 300
    rep = build_report(client, settings, ReportScope(brand="sberbank"), month_period("2026-11"))
    assert rep["articles"]["value"] == 300
