"""Brand cards for reports: competitors (share of voice) and, when a card names them, the brand's own channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rezonans.brands import BrandError, default_brands_path, load_brands

BrandCardError = BrandError  # the cards' own error: a user error naming the file, the line and the fix


def load_cards(path: Path) -> dict[str, dict[str, Any]]:
    """Brand id → {name, competitors, own_channels} read with the validating loader."""
    brand_set = load_brands(path)
    return {
        card.id: {"name": card.name, "competitors": list(card.competitors), "own_channels": list(card.own_channels)}
        for card in brand_set.brands
    }


def default_cards_path(configured: Path | None = None) -> Path | None:
    """The brand file in use by default (the `brands` setting, else the example), if it exists."""
    path = default_brands_path(configured)
    return path if path.is_file() else None
