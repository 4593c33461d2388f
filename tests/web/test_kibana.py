"""The Kibana saved objects file is well formed and points at fields the article mapping has (Kibana itself is not
available here: importing it is checked by hand with scripts/kibana-load.sh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.mappings import ARTICLE_PROPERTIES, articles_alias
from rezonans.config import Settings

pytestmark = pytest.mark.unit
FILE = Path(__file__).resolve().parents[2] / "kibana" / "rezonans.ndjson"


def test_saved_objects_reference_each_other_and_real_fields() -> None:
    objects = [json.loads(line) for line in FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, ref
    view = next(o for o in objects if o["type"] == "index-pattern")
    assert view["attributes"]["title"] == articles_alias(Settings(index_prefix="rezonans"))
    assert ARTICLE_PROPERTIES[view["attributes"]["timeFieldName"]]["type"] == "date"
    fields = set()
    for obj in objects:
        if obj["type"] == "visualization":
            state = json.loads(obj["attributes"]["visState"])
            fields |= {a["params"]["field"] for a in state["aggs"] if "field" in a["params"]}
    assert fields == {"published_at", "brands"}
    assert ARTICLE_PROPERTIES["brands"]["type"] == "keyword"
    assert ARTICLE_PROPERTIES["brand_tone"]["type"] == "nested"  # the tone chart's KQL uses nested syntax
    dash = next(o for o in objects if o["type"] == "dashboard")
    assert len(json.loads(dash["attributes"]["panelsJSON"])) == 3
