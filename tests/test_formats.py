"""Russian-first numbers and dates (Babel): what a Russian PR analyst expects to read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rezonans import formats

pytestmark = pytest.mark.unit

NBSP = "\u00a0"


def test_numbers_group_with_a_space_and_use_a_decimal_comma():
    assert formats.number(1234.5) == f"1{NBSP}234,5"
    assert formats.number(1234) == f"1{NBSP}234"
    assert formats.number(0.800000011920929, 2) == "0,8"
    assert formats.number(1234.5, language="en") == "1,234.5"
    assert formats.number(None) == "—"


def test_percent_and_signed_changes():
    assert formats.percent(12.5).startswith("12,5")
    assert formats.signed(-3.5) == "−3,5" and formats.signed(12) == "+12" and formats.signed(0) == "0"


def test_dates_in_words_and_moscow_time():
    assert formats.day(date(2026, 12, 3)) == "3 декабря 2026"
    assert formats.day(date(2026, 12, 3), language="en") == "3 December 2026"
    # 22:30 UTC on 2 December is already 3 December in Moscow
    assert formats.day(datetime(2026, 12, 2, 22, 30, tzinfo=UTC)) == "3 декабря 2026"
    assert formats.moment(datetime(2026, 12, 3, 11, 5, tzinfo=UTC)) == "3 декабря 2026, 14:05 (МСК)"


@pytest.mark.parametrize(
    ("n", "word"), [(1, "статья"), (2, "статьи"), (5, "статей"), (11, "статей"), (21, "статья"), (104, "статьи")]
)
def test_russian_plurals(n, word):
    assert formats.plural(n, "статья", "статьи", "статей") == word
