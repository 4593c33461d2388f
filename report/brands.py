"""Brand cards for reports: competitors (share of voice) and, when a card names them, the brand's own channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rezonans.brands import load_brands


def load_cards(path: Path) -> dict[str, dict[str, Any]]:
    """Brand id → {name, competitors, own_channels} read with the validating loader."""
    brand_set = load_brands(path)
    return {
        card.id: {"name": card.name, "competitors": list(card.competitors), "own_channels": list(card.own_channels)}
        for card in brand_set.brands
    }


def default_cards_path(configured: Path | None = None) -> Path | None:
    """The configured brand file (the `brands` setting), if any: never the shipped example, which only the demo
    uses (a report built on cards the user never chose would show the wrong competitors without a word)."""
    return Path(configured) if configured else None
