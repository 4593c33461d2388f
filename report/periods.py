"""Report periods: ISO week, calendar month or explicit dates, in a time zone, with the previous period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rezonans.errors import UserError
from rezonans.timeutil import DEFAULT_TZ, zone

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_RU_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$")


class PeriodError(UserError):
    """A period option that cannot be understood; the message shows the expected form."""


@dataclass(frozen=True)
class Period:
    """Half-open interval [start, end) of local days in `tz`; `label` is how people name it."""

    start: datetime
    end: datetime
    label: str
    tz: str = DEFAULT_TZ

    @property
    def days(self) -> list[date]:
        """Local calendar days of the period."""
        first = self.start.date()
        return [first + timedelta(days=i) for i in range((self.end - self.start).days)]

    def previous(self) -> Period:
        """The period of the same length just before this one (the previous calendar month for months)."""
        if self.label.count("-") == 1 and _MONTH.match(self.label):
            prev_last = self.start.date() - timedelta(days=1)
            return month_period(f"{prev_last:%Y-%m}", self.tz)
        length = self.end - self.start
        start = _local(self.start.date() - timedelta(days=length.days), self.tz)
        label = f"{start.date():%Y-%m-%d}..{(self.start.date() - timedelta(days=1)):%Y-%m-%d}"
        if _WEEK.match(self.label):
            iso = start.date().isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        return Period(start, self.start, label, self.tz)

    def extended_back(self, days: int) -> Period:
        """A window of `days` local days ending where this period ends (for correlations)."""
        start = _local(self.end.date() - timedelta(days=days), self.tz)
        return Period(start, self.end, f"{days} days to {self.end.date() - timedelta(days=1)}", self.tz)


def _zone(tz: str) -> ZoneInfo:
    """A ZoneInfo or a PeriodError with the fix."""
    try:
        return zone(tz)
    except ValueError as exc:
        raise PeriodError(str(exc)) from None


def _local(day: date, tz: str) -> datetime:
    """Local midnight of a day."""
    return datetime.combine(day, time(0), tzinfo=_zone(tz))


def week_period(week: str, tz: str = DEFAULT_TZ) -> Period:
    """ISO week such as 2026-W47 (Monday to Sunday)."""
    m = _WEEK.match(week.strip())
    if not m:
        raise PeriodError(f"bad week {week!r}: write it as YYYY-Www, e.g. 2026-W47")
    year, num = int(m.group(1)), int(m.group(2))
    try:
        monday = date.fromisocalendar(year, num, 1)
    except ValueError as exc:
        raise PeriodError(f"bad week {week!r}: {year} has no week {num}") from exc
    return Period(_local(monday, tz), _local(monday + timedelta(days=7), tz), f"{year}-W{num:02d}", tz)


def month_period(month: str, tz: str = DEFAULT_TZ) -> Period:
    """Calendar month such as 2026-11."""
    m = _MONTH.match(month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"bad month {month!r}: write it as YYYY-MM, e.g. 2026-11")
    year, mon = int(m.group(1)), int(m.group(2))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return Period(_local(first, tz), _local(nxt, tz), f"{year}-{mon:02d}", tz)


def parse_day(value: str, what: str) -> date:
    """A YYYY-MM-DD or DD.MM.YYYY date, or a PeriodError naming the option."""
    text = value.strip()
    try:
        if _RU_DATE.match(text):
            return datetime.strptime(text, "%d.%m.%Y").date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise PeriodError(f"bad {what} date {value!r}: write it as YYYY-MM-DD or DD.MM.YYYY") from None


def day_bound(value: str | None, what: str, end: bool = False, tz: str = DEFAULT_TZ) -> datetime | None:
    """A --from/--to option as an aware datetime: the start of that day, or of the next day for an inclusive end."""
    if not value:
        return None
    day = parse_day(value, what) + (timedelta(days=1) if end else timedelta())
    return _local(day, tz)


def range_period(date_from: str, date_to: str, tz: str = DEFAULT_TZ) -> Period:
    """Explicit days, both inclusive."""
    first, last = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    return Period(_local(first, tz), _local(last + timedelta(days=1), tz), f"{first}..{last}", tz)


def resolve(
    week: str | None = None,
    month: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    tz: str = DEFAULT_TZ,
    now: datetime | None = None,
) -> Period:
    """The period the options name; with none, the last full ISO week before `now`."""
    given = [x for x in (week, month, date_from or date_to) if x]
    if len(given) > 1:
        raise PeriodError("give only one of --week, --month or --from/--to")
    if week:
        return week_period(week, tz)
    if month:
        return month_period(month, tz)
    if date_from or date_to:
        if not (date_from and date_to):
            raise PeriodError("--from and --to go together (both YYYY-MM-DD, inclusive)")
        return range_period(date_from, date_to, tz)
    today = (now or datetime.now(_zone(tz))).astimezone(_zone(tz)).date()
    last_week = today - timedelta(days=7)
    iso = last_week.isocalendar()
    return week_period(f"{iso.year}-W{iso.week:02d}", tz)
