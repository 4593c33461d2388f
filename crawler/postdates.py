"""Dates on forum and review pages: ISO `datetime` attributes, Unix timestamps and Russian or English text dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateparser.date import DateDataParser

from crawler.extract import MOSCOW, parse_date

_UNIX = re.compile(r"^\d{9,11}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_SPACES = re.compile(r"[\s\xa0]+")
# Decorations forum engines put around a date: "Добавлено:", "Опубликовано", "Posted", "»", "#1"
_NOISE = re.compile(r"^(добавлено|опубликовано|отправлено|написано|posted|от|»|&raquo;)[:\s]*", re.IGNORECASE)
MIN_YEAR = 1995  # forums older than this did not exist; earlier "dates" are misparsed numbers


_RELATIVE = re.compile(r"сегодня|вчера|позавчера|назад|today|yesterday|ago", re.IGNORECASE)
_NUMBERS = re.compile(r"\d+")


def _parser(now: datetime) -> DateDataParser:
    """A dateparser for Russian and English, day before month, Moscow time, relative dates counted from `now`."""
    return DateDataParser(
        languages=["ru", "en"],
        settings={
            "TIMEZONE": "Europe/Moscow",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
            # read as a naive local time in the TIMEZONE setting
            "RELATIVE_BASE": now.astimezone(MOSCOW).replace(tzinfo=None),
        },
    )


def _plausible(value: datetime | None, now: datetime) -> datetime | None:
    """The date, or None when it is before the first forums or more than a day in the future."""
    if value is None or value.year < MIN_YEAR or (value - now).total_seconds() > 86400:
        return None
    return value


def parse_post_date(value: str | None, now: datetime | None = None) -> datetime | None:
    """«3 декабря 2026, 14:05», «Вчера, 10:00», «03.12.2026», ISO 8601 or a Unix timestamp → an aware datetime.

    Dates without a zone are Moscow time; relative ones («сегодня», «2 часа назад») count from `now`.
    """
    now = now or datetime.now(UTC)
    text = _SPACES.sub(" ", value or "").strip()
    text = _NOISE.sub("", text).strip(" ,")
    if not text or len(text) > 80:
        return None
    if _UNIX.match(text):
        return _plausible(datetime.fromtimestamp(int(text), UTC), now)
    if _ISO.match(text):
        return _plausible(parse_date(text.replace(" ", "T", 1)), now)
    if len(_NUMBERS.findall(text)) < 2 and not _RELATIVE.search(text):
        return None  # "#1", "12": a post number, not a date
    try:
        parsed = _parser(now).get_date_data(text).date_obj
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=MOSCOW)
    return _plausible(parsed, now)
