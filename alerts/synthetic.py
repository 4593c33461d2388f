"""Synthetic mention-count series with daily/weekly seasonality, Poisson noise and injected anomalies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from alerts.detector import DAY, WEEK, CountDetector, DetectorSettings, Point, ShareDetector, run

#: Monday 2024-01-01 00:00 UTC: series start on a week boundary.
EPOCH_START = 1704067200


@dataclass
class Injection:
    """One injected anomaly: kind spike|shift|drop, start bucket, length in buckets and multiplier."""

    kind: str
    start: int
    length: int
    factor: float


@dataclass
class Series:
    """A generated series with its ground truth."""

    bucket: int
    ts: list[int]
    values: list[int]
    rate: list[float]
    injections: list[Injection] = field(default_factory=list)


def seasonal_rate(ts: np.ndarray, base: float, daily_amp: float = 0.8, weekend: float = 0.5) -> np.ndarray:
    """Expected count per bucket: business-hours daily cycle (peak ~13:00 UTC) and quieter weekends."""
    hour = (ts % DAY) / 3600.0
    dow = ((ts // DAY) + 3) % 7
    daily = 1.0 + daily_amp * np.sin(2 * math.pi * (hour - 7.0) / 24.0)
    weekly = np.where(dow >= 5, weekend, 1.0)
    return base * daily * weekly


def make_series(
    seed: int,
    bucket: int = 3600,
    weeks: float = 6,
    base: float = 10.0,
    injections: list[Injection] | None = None,
    overdispersion: float = 0.0,
) -> Series:
    """Poisson (or gamma-Poisson) counts around the seasonal rate, with the injections applied to the rate."""
    rng = np.random.default_rng(seed)
    n = int(weeks * WEEK / bucket)
    ts = EPOCH_START + bucket * np.arange(n, dtype=np.int64)
    rate = seasonal_rate(ts, base * bucket / 3600.0)
    for inj in injections or []:
        end = n if inj.kind == "shift" else min(n, inj.start + inj.length)
        rate[inj.start : end] *= inj.factor
    lam = rate
    if overdispersion > 0:
        lam = rng.gamma(1.0 / overdispersion, overdispersion * rate)
    values = rng.poisson(lam)
    return Series(
        bucket, [int(t) for t in ts], [int(v) for v in values], [float(r) for r in rate], list(injections or [])
    )


def detect(series: Series, settings: DetectorSettings | None = None) -> list[Point]:
    """Run a fresh count detector over the series."""
    det = CountDetector(series.bucket, settings)
    return run(det, list(zip(series.ts, series.values, strict=False)))


def false_alarms_per_week(points: list[Point], bucket: int, skip: int) -> float:
    """Alerts per week after the first `skip` buckets (use on series without injections)."""
    scored = points[skip:]
    weeks = len(scored) * bucket / WEEK
    return sum(p.alert for p in scored) / weeks if weeks else 0.0


def detection_delay(points: list[Point], inj: Injection, window: int = 24) -> int | None:
    """Buckets from the injection start to the first alert within `window` buckets (None if missed)."""
    for i in range(inj.start, min(len(points), inj.start + window)):
        if points[i].alert:
            return i - inj.start
    return None


@dataclass
class ShareSeries:
    """Generated negative and total mention counts per bucket, with the injected rises of the negative share."""

    bucket: int
    ts: list[int]
    negative: list[int]
    total: list[int]
    share: list[float]
    injections: list[Injection] = field(default_factory=list)


def make_share_series(
    seed: int,
    bucket: int = 3600,
    weeks: float = 6,
    base: float = 20.0,
    share: float = 0.15,
    concentration: float = 40.0,
    injections: list[Injection] | None = None,
) -> ShareSeries:
    """Tone series: seasonal Poisson totals; each bucket's negative share drawn from a beta around `share` (so the
    share wanders more than a binomial would: `concentration` is its a + b); injections multiply the share."""
    rng = np.random.default_rng(seed)
    n = int(weeks * WEEK / bucket)
    ts = EPOCH_START + bucket * np.arange(n, dtype=np.int64)
    total = rng.poisson(seasonal_rate(ts, base * bucket / 3600.0))
    mean = np.full(n, share)
    for inj in injections or []:
        mean[inj.start : min(n, inj.start + inj.length)] = np.minimum(
            0.95, mean[inj.start : inj.start + inj.length] * inj.factor
        )
    p = rng.beta(mean * concentration, (1 - mean) * concentration)
    negative = rng.binomial(total, p)
    return ShareSeries(
        bucket,
        [int(t) for t in ts],
        [int(k) for k in negative],
        [int(t) for t in total],
        [float(m) for m in mean],
        list(injections or []),
    )


def detect_share(series: ShareSeries, settings: DetectorSettings | None = None) -> list[Point]:
    """Run a fresh negative-share detector over the series."""
    det = ShareDetector(series.bucket, settings)
    return run(det, list(zip(series.ts, series.negative, series.total, strict=True)))
