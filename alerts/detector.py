"""Causal anomaly detectors for bucketed counts and shares: seasonal EWMA baseline, count-model tails, CUSUM.

Each point is scored using only the points before it, so a backtest over history is the live behaviour.
The whole state is a JSON-able dict: `Detector.from_state(d.state())` continues exactly where `d` stopped.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts import stats

DAY = 86400
WEEK = 7 * DAY

#: Named sensitivities and the score threshold each stands for.
SENSITIVITIES: dict[str, float] = {"low": 0.6, "medium": 0.5, "high": 0.4}
#: Surprise (-log10 p of one bucket) that scores 0.5.
SPIKE_HALF = 6.0
#: CUSUM statistic (in standard deviations, reference k = 0.5) that scores 0.5.
CUSUM_HALF = 8.0
CUSUM_K = 0.5
#: Residuals are clipped before the CUSUM so that one spike alone cannot look like a level shift.
CUSUM_CLIP = 4.0
#: Observations beyond this many standard deviations are clipped before they teach the baseline.
LEARN_CLIP = 4.0
MU_FLOOR = 0.01
#: date(1970, 1, 1).toordinal(): local dates become day numbers on the same scale as ts // DAY.
_EPOCH_ORDINAL = 719163

Kind = Literal["spike", "drop", "level_up", "level_down"]


def threshold_for(sensitivity: str | float) -> float:
    """Score threshold for a named sensitivity or a number in (0, 1)."""
    if isinstance(sensitivity, str):
        try:
            return SENSITIVITIES[sensitivity]
        except KeyError:
            raise ValueError(
                f"sensitivity {sensitivity!r} is unknown: use low, medium, high or a number "
                "between 0 and 1 (lower alerts more)"
            ) from None
    value = float(sensitivity)
    if not 0.0 < value < 1.0:
        raise ValueError(f"sensitivity {value} must be between 0 and 1 (exclusive); medium is 0.5")
    return value


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


def is_utc(name: str) -> bool:
    """Whether a zone name is plain UTC (the fast, integer-only calendar)."""
    return name in ("UTC", "Etc/UTC")


class DetectorSettings(BaseModel):
    """Tuning of one detector; None means a default derived from the bucket size."""

    model_config = ConfigDict(extra="forbid")

    sensitivity: str | float = "medium"
    warmup: int | None = Field(None, ge=0, description="buckets scored 0 while the baseline learns")
    cooldown: int | None = Field(None, ge=1, description="quiet buckets that end an event")
    min_delta: float = Field(3.0, ge=0, description="smallest |observed - expected| worth an alert")
    daily: bool = True
    weekly: bool = True
    level_halflife: float | None = Field(None, gt=0, description="buckets; EWMA half-life of the level")
    timezone: str = Field("UTC", description="IANA zone of the hour-of-day and day-of-week profiles")

    @field_validator("sensitivity")
    @classmethod
    def _sensitivity(cls, value: str | float) -> str | float:
        """Accept low/medium/high or a number in (0, 1)."""
        threshold_for(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        """An IANA zone name the system knows."""
        zone(value)
        return value

    def resolved(self, bucket: int) -> dict[str, Any]:
        """Concrete parameters for a bucket size in seconds."""
        weekly = self.weekly and bucket <= DAY
        if bucket < DAY:
            warmup, level_hl = math.ceil((7 if weekly else 2) * DAY / bucket), 3 * DAY / bucket
        elif bucket < WEEK:
            warmup, level_hl = math.ceil((21 if weekly else 7) * DAY / bucket), 7.0
        else:
            warmup, level_hl = 6, 4.0
        return {
            "threshold": threshold_for(self.sensitivity),
            "warmup": self.warmup if self.warmup is not None else max(warmup, 6),
            "cooldown": self.cooldown if self.cooldown is not None else max(3, math.ceil(3600 / bucket)),
            "min_delta": self.min_delta,
            "daily": self.daily and bucket < DAY,
            "weekly": self.weekly and bucket <= DAY,
            "level_halflife": self.level_halflife or level_hl,
        }


@dataclass
class Point:
    """The verdict on one bucket."""

    ts: int
    value: float
    expected: float
    score: float
    alert: bool
    kind: str | None = None
    p_value: float = 1.0
    event_start: int | None = None
    total: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def _alpha(halflife: float) -> float:
    """EWMA weight for a half-life in updates."""
    return 1.0 - 0.5 ** (1.0 / max(halflife, 1e-9))


class _Base:
    """Shared scoring, CUSUM and event grouping; subclasses supply the model."""

    kind_name = "base"

    def __init__(
        self, bucket: int, settings: DetectorSettings | None = None, state: dict[str, Any] | None = None
    ) -> None:
        if bucket <= 0:
            raise ValueError("bucket must be a positive number of seconds")
        self.bucket = int(bucket)
        self.settings = settings or DetectorSettings()
        self.p = self.settings.resolved(self.bucket)
        self.s: dict[str, Any] = state if state is not None else self._initial()

    def _initial(self) -> dict[str, Any]:
        """Fresh state."""
        return {
            "n": 0,
            "last_ts": None,
            "cusum_up": 0.0,
            "cusum_down": 0.0,
            "run_sum": 0.0,
            "run_n": 0,
            "run_excess": 0.0,
            "in_event": False,
            "event_dir": 0,
            "event_start": None,
            "quiet": 0,
            "events": 0,
            "pre_level": None,
            "pre_dir": 0,
            "pre_ts": None,
        }

    # --- persistence -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-able state (with the settings and bucket, so a detector can be rebuilt from it alone)."""
        return {
            "type": self.kind_name,
            "bucket": self.bucket,
            "settings": self.settings.model_dump(mode="json"),
            "state": _copy(self.s),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> _Base:
        """Rebuild a detector from `state()`."""
        kind = data.get("type")
        klass = {"count": CountDetector, "share": ShareDetector}.get(kind or "")
        if klass is None:
            raise ValueError(f"unknown detector state type {kind!r}")
        return klass(int(data["bucket"]), DetectorSettings(**data.get("settings", {})), _copy(data["state"]))

    # --- scoring and grouping ----------------------------------------------------------------------------------
    def _score(
        self,
        ts: int,
        value: float,
        expected: float,
        lower: float,
        upper: float,
        pmf: float,
        weight: float,
        excess: float,
        total: float | None = None,
        pre_p: float | None = None,
    ) -> Point:
        """Combine the one-bucket tail and the CUSUM into a score, then group alerts into events."""
        s, p = self.s, self.p
        warm = s["n"] >= p["warmup"]
        z = stats.mid_p_z(lower, upper, pmf)
        zc = max(-CUSUM_CLIP, min(CUSUM_CLIP, z))
        up = max(0.0, s["cusum_up"] + zc - CUSUM_K)
        down = max(0.0, s["cusum_down"] - zc - CUSUM_K)
        if up == 0.0 and down == 0.0:
            s["run_sum"], s["run_n"], s["run_excess"] = 0.0, 0.0, 0.0
        else:  # sums since the change began: the new level is their ratio (the Poisson/binomial MLE)
            s["run_sum"] += value if total is None else value * total
            s["run_n"] += weight
            s["run_excess"] += excess
        s["cusum_up"], s["cusum_down"] = up, down
        if not warm:
            s["cusum_up"] = s["cusum_down"] = 0.0
            s["run_sum"], s["run_n"], s["run_excess"] = 0.0, 0, 0.0
            return Point(ts, value, expected, 0.0, False, None, 1.0, None, total)
        u_hi, u_lo = stats.surprise(upper), stats.surprise(lower)
        spike_ok = abs(excess) >= p["min_delta"]
        level_ok = abs(s["run_excess"]) >= p["min_delta"]
        candidates = [
            (u_hi / (u_hi + SPIKE_HALF), "spike", spike_ok and excess > 0),
            (u_lo / (u_lo + SPIKE_HALF), "drop", spike_ok and excess < 0),
            (up / (up + CUSUM_HALF), "level_up", level_ok and s["run_excess"] > 0),
            (down / (down + CUSUM_HALF), "level_down", level_ok and s["run_excess"] < 0),
        ]
        eligible = [(c[0], c[1]) for c in candidates if c[2]]
        score, kind = max(eligible) if eligible else (0.0, None)
        p_value = min(upper, lower)
        anomalous = kind is not None and score >= p["threshold"]
        direction = 1 if kind in ("spike", "level_up") else -1
        if s.get("pre_ts") is not None and ts - s["pre_ts"] > WEEK:
            s["pre_level"], s["pre_dir"], s["pre_ts"] = None, 0, None  # a week at the new level: it is the norm
        if anomalous and s.get("pre_level") is not None and direction == -s["pre_dir"] and (pre_p or 0) > 0.01:
            # Back to the level before the last accepted shift: a recovery, not news.
            self._rebase(s["pre_level"])
            s["pre_level"], s["pre_dir"], s["pre_ts"] = None, 0, None
            s["cusum_up"] = s["cusum_down"] = 0.0
            s["run_sum"], s["run_n"], s["run_excess"] = 0.0, 0.0, 0.0
            s["in_event"], s["event_dir"], s["event_start"], s["quiet"] = False, 0, None, 0
            return Point(ts, value, expected, round(score, 6), False, "recovery", p_value, None, total)
        if any(c[2] and c[1].startswith("level") and c[0] >= p["threshold"] for c in candidates):
            if s.get("pre_level") is None:
                s["pre_level"], s["pre_dir"], s["pre_ts"] = self._current_level(), direction, ts
            self._accept_level_shift()
        alert = False
        if anomalous:
            s["quiet"] = 0
            if not (s["in_event"] and s["event_dir"] == direction):
                s["in_event"], s["event_dir"], s["event_start"] = True, direction, ts
                s["events"] += 1
                alert = True
        elif s["in_event"]:
            s["quiet"] += 1
            if s["quiet"] >= p["cooldown"]:
                s["in_event"], s["event_dir"], s["event_start"] = False, 0, None
        return Point(
            ts,
            value,
            expected,
            round(score, 6),
            alert,
            kind if anomalous else None,
            p_value,
            s["event_start"] if anomalous else None,
            total,
        )

    def _accept_level_shift(self) -> None:
        """After a CUSUM signal the new level (mean since the change began) becomes the baseline."""
        s = self.s
        if s["run_n"] > 0:
            self._rebase(s["run_sum"] / s["run_n"])
        s["cusum_up"] = s["cusum_down"] = 0.0
        s["run_sum"], s["run_n"], s["run_excess"] = 0.0, 0, 0.0

    def _rebase(self, level: float) -> None:
        """Set the baseline level (subclass)."""
        raise NotImplementedError

    def _current_level(self) -> float:
        """The baseline level now (subclass)."""
        raise NotImplementedError

    def _check_ts(self, ts: int) -> None:
        """Points must come in time order."""
        last = self.s["last_ts"]
        if last is not None and ts <= last:
            raise ValueError(f"timestamps must increase: {ts} after {last}")
        self.s["last_ts"] = ts


class CountDetector(_Base):
    """Counts per bucket (volume, negative mentions): seasonal baseline × negative-binomial tails + CUSUM."""

    kind_name = "count"

    def _initial(self) -> dict[str, Any]:
        """Fresh state: level, hour-of-day and day-of-week profiles (ratio to moving average), dispersion."""
        s = super()._initial()
        s.update(
            {
                "level_y": 0.0,
                "level_w": 0.0,
                "level_n": 0,
                "h_num": [0.0] * 24,
                "h_w": [0.0] * 24,
                "h_n": [0] * 24,
                "h_den": 0.0,
                "h_wden": 0.0,
                "h_all": 0,
                "d_num": [0.0] * 7,
                "d_n": [0] * 7,
                "d_den": 0.0,
                "d_all": 0,
                "day": None,
                "day_sum": 0.0,
                "day_n": 0,
                "disp_a": 0.0,
                "disp_b": 0.0,
                "disp_n": 0,
            }
        )
        return s

    @staticmethod
    def _factor(num: float, den: float, seen: int) -> float:
        """Seasonal factor (slot mean / overall mean) shrunk towards 1 for slots with little evidence."""
        if seen == 0:
            return 1.0
        prior = 0.05 * max(den, 0.1)
        return min(50.0, max(0.02, (num + prior) / (den + prior)))

    @property
    def level(self) -> float:
        """Deseasonalised level: ratio of the EWMAs of counts and of seasonal factors (the Poisson MLE)."""
        s = self.s
        return s["level_y"] / s["level_w"] if s["level_w"] > 0 else 0.0

    def _hour_factor(self, hour: int) -> float:
        """Hour-of-day factor: weekday-adjusted slot mean over the weekday-adjusted overall mean."""
        s = self.s
        if s["h_n"][hour] == 0 or s["h_wden"] <= 0 or s["h_w"][hour] <= 0:
            return 1.0
        return self._factor(s["h_num"][hour] / s["h_w"][hour], s["h_den"] / s["h_wden"], 1)

    def calendar(self, ts: int) -> tuple[int, int, int]:
        """(hour of day, weekday with Monday = 0, day number since 1970-01-01) of a bucket in the detector's zone.

        Sub-daily buckets are placed by their start, daily ones by their middle, so a UTC-aligned day still falls
        on the local weekday it mostly covers.
        """
        name = self.settings.timezone
        if is_utc(name):
            day = int(ts // DAY)
            return int((ts % DAY) // 3600), (day + 3) % 7, day  # 1970-01-01 was a Thursday
        local = datetime.fromtimestamp(ts + (self.bucket // 2 if self.bucket >= DAY else 0), zone(name))
        return local.hour, local.weekday(), local.toordinal() - _EPOCH_ORDINAL

    def expected(self, ts: int) -> tuple[float, float, float, int, int]:
        """Expected count at ts from the state so far: (mu, hour factor, weekday factor, hour, weekday)."""
        s, p = self.s, self.p
        hour, dow, _ = self.calendar(ts)
        hf = self._hour_factor(hour) if p["daily"] else 1.0
        df = self._factor(s["d_num"][dow], s["d_den"], s["d_n"][dow]) if p["weekly"] else 1.0
        return max(MU_FLOOR, self.level * hf * df), hf, df, hour, dow

    @property
    def dispersion(self) -> float:
        """Over-dispersion phi (variance = mu + phi mu^2), estimated by moments after half the warm-up."""
        s = self.s
        if s["disp_b"] <= 0:
            return 0.0
        return min(2.0, max(0.0, s["disp_a"] / s["disp_b"]))

    def update(self, ts: int, value: float) -> Point:
        """Score one bucket (start time ts, epoch seconds) and then learn from it."""
        ts = int(ts)
        self._check_ts(ts)
        y = float(value)
        if y < 0 or math.isnan(y):
            raise ValueError(f"count at {ts} must be a non-negative number, got {value!r}")
        s, p = self.s, self.p
        mu, hf, df, hour, dow = self.expected(ts)
        phi = self.dispersion
        lower, upper = stats.count_cdf(y, mu, phi), stats.count_sf(y, mu, phi)
        pmf = stats.count_pmf(y, mu, phi)
        pre_p = None
        if s.get("pre_level") is not None:
            pre_mu = max(MU_FLOOR, s["pre_level"] * hf * df)
            pre_p = 2 * min(stats.count_cdf(y, pre_mu, phi), stats.count_sf(y, pre_mu, phi))
        point = self._score(ts, y, mu, lower, upper, pmf, hf * df, y - mu, None, pre_p)
        # Learn: clip after warm-up so that anomalies do not teach the baseline.
        sd = math.sqrt(mu + phi * mu * mu)
        warm = s["n"] >= p["warmup"]
        yc = min(max(y, mu - LEARN_CLIP * sd), mu + LEARN_CLIP * sd) if warm else y
        if s["n"] >= p["warmup"] // 2:
            a = max(_alpha(p["level_halflife"] * 7), 1.0 / (s["disp_n"] + 1))
            s["disp_a"] += a * ((yc - mu) ** 2 - mu - s["disp_a"])
            s["disp_b"] += a * (mu * mu - s["disp_b"])
            s["disp_n"] += 1
        if p["weekly"]:
            self._learn_weekday(self.calendar(ts)[2], yc)
        if p["daily"]:
            # Hour profile: weekday-adjusted mean in this hour slot over the overall one (ratios of EWMAs),
            # both over the same ~4 weeks.
            per_day = DAY / self.bucket
            g = max(_alpha(28 * max(1.0, per_day / 24)), 1.0 / (s["h_n"][hour] + 1))
            s["h_num"][hour] += g * (yc - s["h_num"][hour])
            s["h_w"][hour] += g * (df - s["h_w"][hour])
            s["h_n"][hour] += 1
            g = max(_alpha(28 * per_day), 1.0 / (s["h_all"] + 1))
            s["h_den"] += g * (yc - s["h_den"])
            s["h_wden"] += g * (df - s["h_wden"])
            s["h_all"] += 1
        a = max(_alpha(p["level_halflife"]), 1.0 / (s["level_n"] + 1))
        s["level_y"] += a * (yc - s["level_y"])
        s["level_w"] += a * (hf * df - s["level_w"])
        s["level_n"] += 1
        s["n"] += 1
        return point

    def _learn_weekday(self, day: int, value: float) -> None:
        """Weekday profile from whole-day means of raw counts (free of the hour profile) over the mean day."""
        s = self.s
        if s["day"] is not None and day != s["day"]:
            per_day = max(1.0, DAY / self.bucket)
            if s["day_n"] >= 0.5 * per_day:  # a day with too many gaps teaches nothing
                mean = s["day_sum"] / s["day_n"]
                dow = int((s["day"] + 3) % 7)
                g = max(_alpha(8), 1.0 / (s["d_n"][dow] + 1))
                s["d_num"][dow] += g * (mean - s["d_num"][dow])
                s["d_n"][dow] += 1
                g = max(_alpha(56), 1.0 / (s["d_all"] + 1))
                s["d_den"] += g * (mean - s["d_den"])
                s["d_all"] += 1
                if s["d_all"] == 1:
                    s["level_n"] = 0  # the level restarts once the first day's profile is known
            s["day_sum"], s["day_n"] = 0.0, 0
        s["day"] = day
        s["day_sum"] += value
        s["day_n"] += 1

    def _rebase(self, level: float) -> None:
        """Jump the level to the post-change estimate."""
        self.s["level_y"] = max(0.0, level) * self.s["level_w"]

    def _current_level(self) -> float:
        """Deseasonalised level now."""
        return self.level


class ShareDetector(_Base):
    """Share of negative mentions per bucket: binomial with over-dispersion + CUSUM (no seasonality)."""

    kind_name = "share"

    def _initial(self) -> dict[str, Any]:
        """Fresh state with EWMAs of negatives, totals and dispersion."""
        s = super()._initial()
        s.update({"k": 0.0, "tot": 0.0, "disp": 1.0, "upd": 0})
        return s

    def share(self) -> float:
        """Expected share from the state so far (weak prior towards 0)."""
        s = self.s
        return min(0.999, (s["k"] + 0.05) / (s["tot"] + 0.5))

    def update(self, ts: int, negative: float, total: float) -> Point:
        """Score one bucket with `negative` of `total` mentions negative, then learn from it."""
        ts = int(ts)
        self._check_ts(ts)
        k, n = float(negative), float(total)
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"bucket {ts}: negative ({negative}) must be between 0 and total ({total})")
        s, p = self.s, self.p
        pi = self.share()
        if n == 0:
            s["n"] += 1  # an empty bucket tells nothing about the share
            return Point(ts, 0.0, pi, 0.0, False, None, 1.0, None, n)
        d = s["disp"]
        ke, ne = k / d, n / d
        lower, upper = stats.binom_cdf(ke, ne, pi), stats.binom_sf(ke, ne, pi)
        pmf = stats.binom_pmf(ke, ne, pi)
        pre_p = None
        if s.get("pre_level") is not None:
            pre = min(0.999, max(1e-6, s["pre_level"]))
            pre_p = 2 * min(stats.binom_cdf(ke, ne, pre), stats.binom_sf(ke, ne, pre))
        point = self._score(ts, k / n, pi, lower, upper, pmf, n, k - n * pi, n, pre_p)
        kc = k
        if s["n"] >= p["warmup"]:
            sd = math.sqrt(n * pi * (1 - pi) * d)
            kc = min(max(k, n * pi - LEARN_CLIP * sd), n * pi + LEARN_CLIP * sd)
        a = max(_alpha(p["level_halflife"]), 1.0 / (s["upd"] + 1))
        s["k"] += a * (kc - s["k"])
        s["tot"] += a * (n - s["tot"])
        if s["upd"] > 0 and 0 < pi < 1:
            ratio = (kc - n * pi) ** 2 / (n * pi * (1 - pi))
            s["disp"] = min(20.0, max(1.0, s["disp"] + _alpha(p["level_halflife"] * 7) * (ratio - s["disp"])))
        s["upd"] += 1
        s["n"] += 1
        return point

    def _rebase(self, level: float) -> None:
        """Jump the expected share to the post-change mean share."""
        s = self.s
        s["k"] = max(0.0, min(1.0, level)) * s["tot"]

    def _current_level(self) -> float:
        """Expected share now."""
        return self.share()


Detector = CountDetector | ShareDetector


def from_state(data: dict[str, Any]) -> CountDetector | ShareDetector:
    """Rebuild any detector from its `state()`."""
    return _Base.from_state(data)  # type: ignore[return-value]


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """Deep copy of a JSON-like state (lists copied)."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}


def run(
    detector: CountDetector | ShareDetector, rows: list[tuple[int, float]] | list[tuple[int, float, float]]
) -> list[Point]:
    """Batch run: exactly the streaming updates, one after the other."""
    out = []
    for row in rows:
        if isinstance(detector, ShareDetector):
            out.append(detector.update(row[0], row[1], row[2]))  # type: ignore[misc]
        else:
            out.append(detector.update(row[0], row[1]))
    return out
