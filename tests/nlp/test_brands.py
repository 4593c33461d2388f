"""Brand cards: validation with line numbers, the shipped example."""

from __future__ import annotations

import pytest

from rezonans.brands import BrandError, default_brands_path, load_brands, parse_brands
from tests.nlp.conftest import ROOT

pytestmark = pytest.mark.unit


def test_example_cards_are_valid_and_cross_reference(brands):
    ids = {c.id for c in brands.brands}
    assert {"sberbank", "vtb", "tbank", "alfabank", "magnit", "pyaterochka", "megafon", "beeline"} <= ids
    for card in brands.brands:
        assert set(card.competitors) <= ids, card.id
    assert "Тинькофф" in brands.get("tbank").names


def test_packaged_copy_matches_example():
    assert (ROOT / "rezonans" / "data" / "brands.yaml").read_text(encoding="utf-8") == (
        ROOT / "examples" / "brands.yaml"
    ).read_text(encoding="utf-8")


def test_errors_name_line_and_fix():
    text = "brands:\n  - id: ok\n    name: Ок\n  - id: Bad Id\n    name: X\n  - id: third\n    aliases: [a]\n    colour: red\n"
    with pytest.raises(BrandError) as exc:
        parse_brands(text, "cards.yaml")
    msg = str(exc.value)
    assert "cards.yaml:4: brands.1.id" in msg and "lower-case" in msg
    assert "cards.yaml:6: brands.2.name: field 'name' is required" in msg
    assert "cards.yaml:8: brands.2.colour: unknown field" in msg


def test_bad_yaml_and_bad_regex_and_duplicates():
    with pytest.raises(BrandError, match=r"c.yaml:3: not valid YAML"):
        parse_brands("brands:\n  - id: x\n   name: [", "c.yaml")
    with pytest.raises(BrandError, match="not a valid regex"):
        parse_brands("brands:\n  - id: x\n    name: X\n    promo_codes: ['A[']\n")
    with pytest.raises(BrandError, match="appears twice"):
        parse_brands("brands:\n  - {id: x, name: X}\n  - {id: x, name: Y}\n")
    with pytest.raises(BrandError, match="does not exist"):
        load_brands(ROOT / "no-such.yaml")


def test_default_path_follows_the_setting(monkeypatch, tmp_path):
    from rezonans.config import load_settings

    monkeypatch.delenv("REZONANS_BRANDS", raising=False)
    assert default_brands_path(load_settings().brands).name == "brands.yaml"
    monkeypatch.setenv("REZONANS_BRANDS", str(tmp_path / "b.yaml"))
    assert default_brands_path(load_settings().brands) == tmp_path / "b.yaml"


def test_own_channels_reach_the_report_scope(tmp_path):
    from report.brands import load_cards
    from report.build import scope_for

    path = tmp_path / "brands.yaml"
    path.write_text(
        "brands:\n  - id: sberbank\n    name: Сбербанк\n    competitors: [vtb]\n"
        "    own_channels: [СберБанк]\n  - id: vtb\n    name: ВТБ\n",
        encoding="utf-8",
    )
    cards = load_cards(path)
    assert cards["sberbank"]["own_channels"] == ["СберБанк"] and cards["vtb"]["own_channels"] == []
    scope = scope_for("sberbank", path)
    assert scope.own_channels == ["СберБанк"] and scope.competitors == ["vtb"]
    assert scope_for("sberbank", path, None, ["Другой"]).own_channels == ["Другой"]
