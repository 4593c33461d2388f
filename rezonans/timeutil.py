"""Time zones, durations and relative times shared by every stage (Moscow time is the default)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Europe/Moscow"
"""Reports, periods and alerts use Moscow time unless told otherwise."""

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d|w)\s*$", re.I)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError says how to fix a bad name or a missing time-zone database."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow or UTC (if the name "
            "is right, this system has no time-zone database: pip install tzdata)"
        ) from None


def moscow() -> ZoneInfo:
    """The default zone, Europe/Moscow."""
    return zone(DEFAULT_TZ)


def parse_duration(value: str | int | float) -> int:
    """'5m', '1h', '1d', '2w' or a number of seconds → seconds; ValueError says how to write one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"duration {value} must be positive")
        return int(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"duration {value!r} is not understood: write e.g. 5m, 1h, 1d or 1w")
    seconds = int(m.group(1)) * _UNITS[m.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds


def format_duration(seconds: int) -> str:
    """Seconds → the shortest of 1w/1d/1h/1m/1s that divides them."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """'2025-03-01', '01.03.2025', an ISO date-time, or a duration back from now ('7d', '12h') → aware datetime.

    Dates without a zone are Moscow time. ValueError says what is accepted.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    if _DURATION.match(text):
        return (now or datetime.now(UTC)) - timedelta(seconds=parse_duration(text))
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%d.%m.%Y")
        except ValueError:
            raise ValueError(
                f"{value!r}: use a date such as 2025-03-01 or 01.03.2025, an ISO date-time, or 7d / 12h"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=moscow())
