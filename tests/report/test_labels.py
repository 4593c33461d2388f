"""The report's and the CLI's texts: both languages for every key, only known keys used, Russian number style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.messages import MESSAGES
from report.labels import LABELS, Labels

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_every_text_has_both_languages():
    for table in (LABELS, MESSAGES):
        for key, (ru, en) in table.items():
            assert ru.strip() and en.strip(), key
            assert set(re.findall(r"{(\w+)}", ru)) == set(re.findall(r"{(\w+)}", en)), key


def test_templates_and_renderer_use_known_keys():
    used: set[str] = set()
    for path in [*(ROOT / "report" / "templates").glob("*.j2"), ROOT / "report" / "render.py"]:
        used |= set(re.findall(r"""\bt\(["'](\w+)["'][,)]""", path.read_text(encoding="utf-8")))
    assert used and used <= set(LABELS), used - set(LABELS)


def test_numbers_changes_and_dates_in_russian_and_english():
    ru, en = Labels("ru"), Labels("en")
    fig = {"value": 1234.5, "previous": 1000.0, "change": 234.5, "change_pct": 23.45}
    assert ru.fig(fig, 2) == "1\u00a0234,50 (+234,50, +23\u00a0%)"
    assert en.fig(fig, 2) == "1,234.50 (+234.50, +23\u00a0%)"
    assert ru.fig({"value": 3, "previous": 0, "change": 3, "change_pct": None}) == "3 (+3, новое)"
    assert ru.num(-0.001, 2) == "0,00" and ru.num(-4.45, 2) == "−4,45"
    assert ru.period("2026-W47", "2026-11-16", "2026-11-22") == "16–22 ноября 2026 (неделя 2026-W47)"
    assert ru.span("2026-11-30", "2026-12-06") == "30 ноября – 6 декабря 2026"
    assert ru.window("56 days to 2026-11-22") == "28 сентября – 22 ноября 2026"
    assert ru.tone("negative") == "негатив" and en.tone("negative") == "negative"
