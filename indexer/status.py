"""Cluster status for `rezonans es status`: version, health and this prefix's indices."""

from __future__ import annotations

from typing import Any

from elasticsearch import NotFoundError

from indexer.client import connect, wait_for_health
from rezonans.config import Settings


def cluster_status(settings: Settings, timeout: float = 5.0) -> dict[str, Any]:
    """Version (from the nodes API: the minimal server has no GET /), health and indices with counts."""
    client = connect(settings)
    health = wait_for_health(client, timeout=timeout)
    nodes = client.nodes.info().get("nodes", {})
    versions = sorted({n.get("version", "?") for n in nodes.values()})
    indices = []
    try:
        rows: list[dict[str, Any]] = client.cat.indices(  # type: ignore[assignment]
            index=f"{settings.index_prefix}-*", format="json", h="index,store.size,health", expand_wildcards="open"
        )
    except NotFoundError:
        rows = []
    for row in sorted(rows, key=lambda r: r["index"]):
        indices.append(
            {
                "index": row["index"],
                "docs": int(client.count(index=row["index"])["count"]),
                "size": row.get("store.size"),
                "health": row.get("health"),
            }
        )
    return {
        "url": settings.es_url,
        "version": ", ".join(versions),
        "health": health.get("status"),
        "nodes": health.get("number_of_nodes"),
        "cluster": health.get("cluster_name"),
        "indices": indices,
    }
