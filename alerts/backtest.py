"""Backtest a detector on a CSV of past counts exactly as the live check would score it."""

from __future__ import annotations

import csv
import io
import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Literal

from alerts.detector import CountDetector, DetectorSettings, Point, ShareDetector
from rezonans.errors import UserError
from rezonans.timeutil import format_duration

log = logging.getLogger(__name__)


class BacktestError(UserError):
    """The CSV cannot be backtested; the message says how to fix it."""


@dataclass
class Series:
    """Parsed CSV: rows on a regular grid, with what was wrong with the input."""

    rows: list[tuple[int, float, float | None]]
    interval: int
    bad_rows: list[str] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (first missing ts, number of missing buckets)
    filled: int = 0
    share: bool = False


def parse_ts(text: str) -> int:
    """ISO 8601 (zone-less means UTC) or epoch seconds → epoch seconds."""
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text and "T" not in text else text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def iso(ts: int) -> str:
    """Epoch seconds → ISO 8601 UTC."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_series(handle: IO[str], interval: int | None = None, gaps: Literal["zero", "skip"] = "zero") -> Series:
    """Read `timestamp,value[,total]`; infer the interval; report bad rows and gaps (filled with 0 or skipped)."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise BacktestError("the CSV is empty: expected a header timestamp,value[,total] and rows")
    cols = [h.strip().lower() for h in header]
    if "timestamp" not in cols or "value" not in cols:
        raise BacktestError(
            f"the CSV header is {header!r}: it must name the columns timestamp and value "
            "(and total for a share such as negative/total)"
        )
    it, iv = cols.index("timestamp"), cols.index("value")
    itot = cols.index("total") if "total" in cols else None
    bad: list[str] = []
    parsed: list[tuple[int, float, float | None]] = []
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            ts = parse_ts(row[it])
            value = float(row[iv])
            total = float(row[itot]) if itot is not None else None
        except (ValueError, IndexError) as exc:
            bad.append(f"line {lineno}: {exc} ({','.join(row)[:80]})")
            continue
        if value != value or value < 0 or (total is not None and not 0 <= value <= total):
            bad.append(
                f"line {lineno}: value must be a count >= 0"
                + (" and <= total" if total is not None else "")
                + f" ({','.join(row)[:80]})"
            )
            continue
        if value != int(value):
            bad.append(f"line {lineno}: value {value} is not a whole count; rounded")
            value = float(round(value))
        parsed.append((ts, value, total))
    if len(parsed) < 2:
        raise BacktestError("the CSV has fewer than two good rows: nothing to backtest")
    parsed.sort(key=lambda r: r[0])
    diffs = [b[0] - a[0] for a, b in zip(parsed, parsed[1:], strict=False) if b[0] > a[0]]
    if interval is None:
        if not diffs:
            raise BacktestError("all timestamps are equal: cannot infer the interval; pass --bucket")
        interval = Counter(diffs).most_common(1)[0][0]
        interval = interval if interval > 0 else int(statistics.median(diffs))
    rows: list[tuple[int, float, float | None]] = []
    series_gaps: list[tuple[int, int]] = []
    filled = 0
    for ts, value, total in parsed:
        if rows:
            prev = rows[-1][0]
            if ts == prev:
                bad.append(f"{iso(ts)}: duplicate timestamp; the first row is kept")
                continue
            step = ts - prev
            if step % interval:
                bad.append(
                    f"{iso(ts)}: not on the {format_duration(interval)} grid started at {iso(rows[0][0])}; skipped"
                )
                continue
            missing = step // interval - 1
            if missing:
                series_gaps.append((prev + interval, missing))
                if gaps == "zero":
                    for k in range(1, missing + 1):
                        rows.append((prev + k * interval, 0.0, 0.0 if total is not None else None))
                    filled += missing
        rows.append((ts, value, total))
    return Series(rows, interval, bad, series_gaps, filled, itot is not None)


@dataclass
class Result:
    """Scored points and a summary."""

    points: list[Point]
    series: Series
    warmup: int
    cooldown: int
    threshold: float

    @property
    def alerts(self) -> int:
        """Alerts emitted (one per event)."""
        return sum(p.alert for p in self.points)

    @property
    def ended(self) -> int:
        """Events whose end was reported."""
        return sum(p.ended for p in self.points)

    @property
    def anomalous(self) -> int:
        """Points at or above the threshold."""
        return sum(p.kind is not None for p in self.points)

    def summary(self) -> dict[str, object]:
        """Numbers for stderr / --json."""
        s = self.series
        return {
            "points": len(self.points),
            "interval": format_duration(s.interval),
            "first": iso(s.rows[0][0]),
            "last": iso(s.rows[-1][0]),
            "warmup_buckets": self.warmup,
            "cooldown_buckets": self.cooldown,
            "threshold": self.threshold,
            "anomalous_points": self.anomalous,
            "alerts": self.alerts,
            "events": self.alerts,
            "events_ended": self.ended,
            "gaps": len(s.gaps),
            "gap_buckets": sum(n for _, n in s.gaps),
            "filled_with_zero": s.filled,
            "bad_rows": len(s.bad_rows),
            "metric": "share" if s.share else "count",
        }


def backtest(series: Series, settings: DetectorSettings | None = None) -> Result:
    """Run a fresh detector through the series point by point (the same `update` as the live check)."""
    settings = settings or DetectorSettings()
    det: CountDetector | ShareDetector
    det = ShareDetector(series.interval, settings) if series.share else CountDetector(series.interval, settings)
    points = []
    for ts, value, total in series.rows:
        if isinstance(det, ShareDetector):
            points.append(det.update(ts, value, total or 0.0))
        else:
            points.append(det.update(ts, value))
    return Result(points, series, det.p["warmup"], det.p["cooldown"], det.p["threshold"])


def write_points(result: Result, out: IO[str]) -> None:
    """CSV: timestamp,value,anomaly_score,alert (+ expected, kind and event_end, 1 where an event is over)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score", "alert", "expected", "kind", "event_end"])
    for p in result.points:
        value = p.value if result.series.share else int(p.value)
        row = [iso(p.ts), value, f"{p.score:.6f}", int(p.alert), f"{p.expected:.4f}", p.kind or "", int(p.ended)]
        writer.writerow(row)


def to_csv(result: Result) -> str:
    """The output CSV as a string."""
    buf = io.StringIO()
    write_points(result, buf)
    return buf.getvalue()
