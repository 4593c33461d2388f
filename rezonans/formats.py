"""Numbers, dates and times as a Russian reader expects them («1 234,5», «3 декабря 2026», Moscow time), via Babel.

English is a setting away (`language: en`); every face (reports, alerts, CLI, web) formats through here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal, format_percent

from rezonans.timeutil import DEFAULT_TZ, zone

Language = Literal["ru", "en"]
_LOCALES = {"ru": "ru_RU", "en": "en_GB"}


def locale_of(language: str) -> str:
    """The Babel locale for a language setting (ru → ru_RU, en → en_GB)."""
    return _LOCALES.get(language, "ru_RU")


def number(value: float | int | None, digits: int = 1, language: str = "ru", fixed: bool = False) -> str:
    """«1 234,5» (ru) or «1,234.5» (en); whole numbers without decimals; None as «—».
    With `fixed`, always `digits` decimals («0,80») for columns of figures."""
    if value is None:
        return "—"
    if fixed and digits > 0:
        pattern = "#,##0." + "0" * digits
    elif float(value).is_integer():
        pattern = "#,##0"
    else:
        pattern = "#,##0." + "#" * max(1, digits)
    return format_decimal(value, format=pattern, locale=locale_of(language))


def percent(value: float | None, digits: int = 1, language: str = "ru") -> str:
    """A share given in percent points (12.5 → «12,5 %»); None as «—»."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "") + " %"
    return format_percent(value / 100.0, format=pattern, locale=locale_of(language))


def signed(value: float | int | None, digits: int = 1, language: str = "ru") -> str:
    """A change with its sign: «+12», «−3,5» (a true minus sign), «0»."""
    if value is None:
        return "—"
    text = number(abs(value), digits, language)
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def day(value: date | datetime, language: str = "ru", tz: str = DEFAULT_TZ) -> str:
    """«3 декабря 2026» (ru) or «3 December 2026» (en); an aware datetime is first put in `tz`."""
    if isinstance(value, datetime):
        value = value.astimezone(zone(tz)).date() if value.tzinfo else value.date()
    return _format_date(value, format="d MMMM y", locale=locale_of(language))


def short_day(value: date | datetime, language: str = "ru", tz: str = DEFAULT_TZ) -> str:
    """«3 дек.» / «3 Dec» for chart axes."""
    if isinstance(value, datetime):
        value = value.astimezone(zone(tz)).date() if value.tzinfo else value.date()
    return _format_date(value, format="d MMM", locale=locale_of(language))


def moment(value: datetime, language: str = "ru", tz: str = DEFAULT_TZ) -> str:
    """«3 декабря 2026, 14:05 (МСК)»: a time in the reader's zone (Moscow by default)."""
    local = value.astimezone(zone(tz)) if value.tzinfo else value.replace(tzinfo=zone(tz))
    text = _format_datetime(local, format="d MMMM y, HH:mm", locale=locale_of(language))
    label = "МСК" if tz == DEFAULT_TZ and language == "ru" else ("MSK" if tz == DEFAULT_TZ else tz)
    return f"{text} ({label})"


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for n: (1) статья, (2) статьи, (5) статей."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
