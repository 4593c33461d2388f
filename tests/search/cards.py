"""Brand cards for the seeded corpus (tests/report/corpus.py): three banks with display names and aliases."""

from __future__ import annotations

from pathlib import Path

CARDS = """brands:
  - id: sberbank
    name: Сбербанк
    aliases: [Сбер, Sberbank]
    competitors: [vtb, tbank]
    own_channels: [sberbank_official]
  - id: vtb
    name: ВТБ
    aliases: [Банк ВТБ, VTB]
    competitors: [sberbank, tbank]
  - id: tbank
    name: Т-Банк
    aliases: [Тинькофф, T-Bank]
    competitors: [sberbank, vtb]
"""


def write_cards(folder: Path) -> Path:
    """The cards as a YAML file in `folder`."""
    path = folder / "brands.yaml"
    path.write_text(CARDS, encoding="utf-8")
    return path
