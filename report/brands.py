"""Brand cards for reports: competitors (share of voice) and, when a card names them, the brand's own channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class BrandCardError(ValueError):
    """The brand-card file cannot be read; the message names the file and the fix."""


def load_cards(path: Path) -> dict[str, dict[str, Any]]:
    """Brand id → {name, competitors, own_channels} read with the NLP stage's validating loader."""
    from nlp.brands import BrandError, load_brands

    try:
        brand_set = load_brands(path)
    except BrandError as exc:
        raise BrandCardError(str(exc)) from exc
    return {
        card.id: {"name": card.name, "competitors": list(card.competitors), "own_channels": list(card.own_channels)}
        for card in brand_set.brands
    }


def default_cards_path() -> Path | None:
    """The brand file the NLP stage uses by default, if any."""
    try:
        from nlp.brands import default_brands_path
    except ImportError:
        return None
    path = default_brands_path()
    return path if path.is_file() else None
