"""Causal anomaly detectors for bucketed counts and shares: seasonal EWMA baseline, count-model tails, CUSUM.

Each point is scored using only the points before it, so a backtest over history is the live behaviour.
The whole state is a JSON-able dict: `Detector.from_state(d.state())` continues exactly where `d` stopped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts import stats
from rezonans.timeutil import zone

DAY = 86400
WEEK = 7 * DAY

#: Named sensitivities and the score threshold each stands for (false alerts per week measured in docs/alerts.md).
SENSITIVITIES: dict[str, float] = {"low": 0.65, "medium": 0.55, "high": 0.45}
#: The same names for the negative-share detector (binomial surprise; unchanged).
SHARE_SENSITIVITIES: dict[str, float] = {"low": 0.6, "medium": 0.5, "high": 0.4}
#: Surprise (-log10 p of one bucket) that scores 0.5.
SPIKE_HALF = 6.0
#: CUSUM statistic (in standard deviations, reference k = 0.5) that scores 0.5.
CUSUM_HALF = 8.0
#: Count detector: CUSUM statistic that scores 0.5 (bursty series push the CUSUM far more than model noise).
COUNT_CUSUM_HALF = 8.0
CUSUM_K = 0.5
#: Residuals are clipped before the CUSUM so that one spike alone cannot look like a level shift.
CUSUM_CLIP = 4.0
#: Observations beyond this many standard deviations are clipped before they teach the baseline.
LEARN_CLIP = 4.0
#: Count detector: |z| (log residual over its learnt spread) that scores 0.5.
Z_HALF = 5.0
#: Count detector: |z| of the negative-binomial tail (rises at low counts) that scores 0.5: a calibrated count model
#: needs less margin than the log residual, whose tails real bursts make heavier.
Z_HALF_COUNT = 4.5
#: Count detector: log residuals are clipped at this many spreads before they teach the baseline (Huber).
CLIP = 2.5
#: Count detector: an event is calm again once |z| falls below this.
END_Z = 2.0
#: Count detector: the count-model tail is computed only when the quick log-space |z| exceeds this.
PRESCREEN = 1.5
#: Count detector: a lasting change too small to report moves the level silently.
SILENT_REBASE = True
#: Count detector: the hour and weekday profiles do not learn during an event.
SKIP_RHYTHM_IN_EVENT = True
#: Count detector: ... except during events found by the CUSUM (lasting changes).
SHIFTS_TEACH_RHYTHM = True
#: Count detector: a profile entry seen on n days (weekday: n weeks) counts n / (n + SHRINK).
SHRINK_HOUR = 2.0
SHRINK_DAY = 1.0
SHRINK_WEEK = 2.0
#: Count detector: the hour-of-week correction starts as a running mean (then shrunk by SHRINK_WEEK).
WEEK_RUNNING = False
#: Count detector: shrink CUSUM steps by the residuals' lag-1 autocorrelation.
AUTOCORR = True
#: Count detector: the autocorrelation is learnt from pairs of buckets with |z| below this.
AC_Z = 1.5
#: Count detector: half-life of the level for sub-daily buckets, in days.
LEVEL_HL_DAYS = 7.0
#: Count detector: Box-Cox power of the transform (0 = log).
POWER = 0.0
#: Count detector: half-life of the learnt spread, in level half-lives.
VAR_HL = 2.0
#: Count detector: the spread starts as a mean over the last 1/VAR_START of the buckets seen (early misfit fades).
VAR_START = 2.0
#: Count detector: half-lives (days) of the hour-of-day offsets and (weeks) of the hour-of-week offsets.
HOUR_HL = 14.0
WEEK_HL = 3.0


def _fwd(y: float, c: float) -> float:
    """Box-Cox transform of y + c."""
    if POWER == 0.0:
        return math.log(y + c) if y + c > 0 else -30.0
    return ((y + c) ** POWER - 1.0) / POWER


def _inv(x: float, c: float) -> float:
    """Inverse of `_fwd` (never below 0)."""
    if POWER == 0.0:
        return max(0.0, math.exp(min(x, 700.0)) - c)
    return max(0.0, max(0.0, 1.0 + POWER * x) ** (1.0 / POWER) - c)


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
    min_ratio: float = Field(
        1.5, ge=1.0, description="smallest observed/expected (a rise) or expected/observed (a fall) worth an alert"
    )
    adapt: int | None = Field(None, ge=1, description="buckets after which a lasting change is the new normal")
    counts: bool = Field(True, description="values are counts of events (Poisson noise at low counts)")
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
            warmup, level_hl = math.ceil(2 * DAY / bucket), LEVEL_HL_DAYS * DAY / bucket
        elif bucket < WEEK:
            warmup, level_hl = math.ceil((21 if weekly else 7) * DAY / bucket), 7.0
        else:
            warmup, level_hl = 6, 4.0
        per_day = max(1.0, DAY / bucket)
        return {
            "threshold": threshold_for(self.sensitivity),
            "warmup": self.warmup if self.warmup is not None else max(warmup, 6),
            "cooldown": self.cooldown if self.cooldown is not None else max(3, math.ceil(3600 / bucket)),
            "adapt": self.adapt if self.adapt is not None else max(6, math.ceil(DAY / bucket)),
            "min_delta": self.min_delta,
            "min_ratio": self.min_ratio,
            "level_alpha": _alpha(level_hl),
            "var_alpha": _alpha(level_hl * VAR_HL / (24 if bucket < DAY else 1)),
            "var_alpha_all": _alpha(level_hl * VAR_HL),
            "hour_alpha": _alpha(HOUR_HL * per_day / 24),
            "day_alpha": _alpha(21 * per_day),
            "week_alpha": _alpha(WEEK_HL * per_day / 24),
            "dow_alpha": _alpha(8),
            "dow_all_alpha": _alpha(56),
            "slot_alpha": _alpha(28 * max(1.0, per_day / 24)),
            "slot_all_alpha": _alpha(28 * per_day),
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
    ended: bool = False

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
        ratio = (value + 1e-12) / (expected + 1e-12)
        spike_ok = abs(excess) >= p["min_delta"] and max(ratio, 1.0 / ratio) >= p["min_ratio"]
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
                start = s["event_start"]
                s["in_event"], s["event_dir"], s["event_start"] = False, 0, None
                return Point(ts, value, expected, round(score, 6), False, None, p_value, start, total, ended=True)
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
    """Counts per bucket: a robust seasonal baseline in log space whose spread is learnt from the series itself.

    x = log(y + c) (c = 1 for counts); expected x = level + hour-of-day offset + day-of-week offset, each an EWMA
    fed with residuals clipped at CLIP sd (a Huber-type update, so bursts barely move it). The spread is the learnt
    excess variance of the residuals (clipped squares, not updated on anomalous buckets) plus, for counts, the
    Poisson variance of log(y + 1) at the expected count. z = residual / spread; a bucket is anomalous when |z|
    passes the sensitivity and the change is at least `min_delta` in size and `min_ratio` as a ratio.
    """

    kind_name = "count"

    def _initial(self) -> dict[str, Any]:
        """Fresh state: log-space level and profiles, learnt excess variance, event bookkeeping."""
        s = super()._initial()
        s.update(
            {
                "c": 1.0 if self.settings.counts else 0.0,
                "c_sum": 0.0,
                "level": 0.0,
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
                "day_dow": 0,
                "w": [0.0] * 168,
                "w_n": [0] * 168,
                "var": [0.0] * 24,
                "var_n": [0] * 24,
                "var_all": 0.0,
                "phi_a": 0.0,
                "phi_b": 0.0,
                "var_n_all": 0,
                "ev_n": 0,
                "ev_sum": 0.0,
                "ev_peak": 0.0,
                "ev_shift": False,
                "ac_xy": 0.0,
                "ac_xx": 0.0,
                "ac_n": 0,
                "z_prev": 0.0,
            }
        )
        return s

    def hour_factor(self, hour: int) -> float:
        """Learnt hour-of-day multiplier (exp of the log offset)."""
        return math.exp(self._hour(hour)) if self.p["daily"] else 1.0

    def day_factor(self, dow: int) -> float:
        """Learnt day-of-week multiplier (exp of the log offset)."""
        return math.exp(self._day(dow)) if self.p["weekly"] else 1.0

    def _day(self, dow: int) -> float:
        """Weekday offset in log units (cached: it changes only when a day ends)."""
        cache = self.__dict__.get("_day_cache")
        if cache is None:
            cache = self.__dict__["_day_cache"] = [self._day_offset(k) for k in range(7)]
        return cache[dow]

    def _day_offset(self, dow: int) -> float:
        """Weekday offset in log units, from whole-day means (ratio to the mean day, as in classical decomposition):
        it does not depend on the level or the hour profile, so their learning cannot drag it."""
        s = self.s
        if s["d_n"][dow] == 0 or s["d_all"] == 0:
            return 0.0
        if self.settings.counts:
            prior = 0.05 * max(s["d_den"], 0.1)
            return math.log(min(50.0, max(0.02, (s["d_num"][dow] + prior) / (s["d_den"] + prior))))
        return s["d_num"][dow] - s["d_den"]

    def _hour(self, hour: int) -> float:
        """Hour-of-day offset in log units: weekday-adjusted slot mean over the weekday-adjusted overall mean."""
        s = self.s
        if s["h_n"][hour] == 0 or s["h_all"] == 0:
            return 0.0
        if self.settings.counts:
            if s["h_w"][hour] <= 0 or s["h_wden"] <= 0:
                return 0.0
            num, den = s["h_num"][hour] / s["h_w"][hour], s["h_den"] / s["h_wden"]
            prior = 0.05 * max(den, 0.1)
            return math.log(min(50.0, max(0.02, (num + prior) / (den + prior))))
        return s["h_num"][hour] - s["h_den"]

    def _learn_rhythm(
        self, day: int, y: float, x: float, mu: float, sd: float, hour: int, dow: int, warm: bool, phi: float
    ) -> None:
        """Update the weekday (from whole days) and hour-of-day profiles with a clipped value."""
        s, p = self.s, self.p
        counts = self.settings.counts
        if counts:
            lim = CLIP * math.sqrt(mu + phi * mu * mu) + 1.0
            v = min(max(y, mu - lim), mu + lim) if warm else y
        else:
            v = (
                min(
                    max(x, self._base(hour, dow, dow * 24 + hour) - CLIP * sd),
                    self._base(hour, dow, dow * 24 + hour) + CLIP * sd,
                )
                if warm
                else x
            )
        if p["weekly"]:
            if s["day"] is not None and day != s["day"]:
                per_day = max(1.0, DAY / self.bucket)
                if s["day_n"] >= 0.5 * per_day:  # a day with too many gaps teaches nothing
                    mean = s["day_sum"] / s["day_n"]
                    k = int((s["day"] + 3) % 7) if is_utc(self.settings.timezone) else s["day_dow"]
                    g = max(p["dow_alpha"], 1.0 / (s["d_n"][k] + 1))
                    s["d_num"][k] += g * (mean - s["d_num"][k])
                    s["d_n"][k] += 1
                    g = max(p["dow_all_alpha"], 1.0 / (s["d_all"] + 1))
                    s["d_den"] += g * (mean - s["d_den"])
                    s["d_all"] += 1
                    self.__dict__["_day_cache"] = None
                s["day_sum"], s["day_n"] = 0.0, 0
            s["day"], s["day_dow"] = day, dow
            s["day_sum"] += v
            s["day_n"] += 1
        if p["daily"]:
            per_day = DAY / self.bucket
            d = self._day(dow) if p["weekly"] else 0.0
            wf, wv = (math.exp(d), v) if counts else (1.0, v - d)
            g = max(p["slot_alpha"], 1.0 / (s["h_n"][hour] + 1))
            s["h_num"][hour] += g * (wv - s["h_num"][hour])
            s["h_w"][hour] += g * (wf - s["h_w"][hour])
            s["h_n"][hour] += 1
            g = max(p["slot_all_alpha"], 1.0 / (s["h_all"] + 1))
            s["h_den"] += g * (wv - s["h_den"])
            s["h_wden"] += g * (wf - s["h_wden"])
            s["h_all"] += 1

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

    def _base(self, hour: int, dow: int, how: int) -> float:
        """Expected log value in this slot (level + weekday + hour + hour-of-week offsets)."""
        s, p = self.s, self.p
        x = s["level"]
        # Profiles count in proportion to their evidence, so a young detector leans on the level alone.
        if p["weekly"]:
            n = s["d_n"][dow]
            x += self._day(dow) * n / (n + SHRINK_DAY)
        if p["daily"]:
            days = s["h_n"][hour] * self.bucket / 3600.0
            x += self._hour(hour) * days / (days + SHRINK_HOUR)
            if p["weekly"]:
                weeks = s["w_n"][how] * self.bucket / 3600.0
                x += s["w"][how] * (weeks / (weeks + SHRINK_WEEK) if WEEK_RUNNING else 1.0)
        return x

    def expected(self, ts: int) -> tuple[float, float, float, int, int]:
        """Expected value at ts from the state so far: (mu, hour factor, weekday factor, hour, weekday)."""
        hour, dow, _ = self.calendar(ts)
        mu = self._mean(self._base(hour, dow, dow * 24 + hour), hour)
        return mu, self.hour_factor(hour), self.day_factor(dow), hour, dow

    def _mean(self, base: float, hour: int) -> float:
        """Expected value from the baseline (counts: exp of the log-rate; other series: inverse of the transform)."""
        if self.settings.counts:
            return math.exp(min(base, 700.0))  # counts: the baseline is the log of the rate itself
        return _inv(base, self.s["c"])

    def _var(self, hour: int) -> float:
        """Learnt excess variance of this hour of day, shrunk halfway towards that of all hours."""
        s = self.s
        if self.settings.counts:  # negative-binomial dispersion by moments: Var log Y ~ 1/mu + phi
            # A weak prior (phi 0.02 with the weight of one bucket at mu = 1) keeps tiny counts from inflating it.
            return min(4.0, max(0.0, (s["phi_a"] + 0.02) / (s["phi_b"] + 1.0)))
        return 0.5 * (s["var"][hour] + s["var_all"])

    def _spread(self, mu: float, hour: int) -> float:
        """Standard deviation of the log residual: learnt excess (per hour of day) plus, for counts, Poisson noise."""
        var = self._var(hour)
        if self.settings.counts:
            var += mu * (mu + 1.0) ** (2.0 * POWER - 2.0) + 0.002
        return math.sqrt(max(var, 1e-6))

    def update(self, ts: int, value: float) -> Point:
        """Score one bucket (start time ts, epoch seconds) and then learn from it."""
        ts = int(ts)
        self._check_ts(ts)
        y = float(value)
        if y < 0 or math.isnan(y):
            raise ValueError(f"count at {ts} must be a non-negative number, got {value!r}")
        s, p = self.s, self.p
        counts = self.settings.counts
        if not counts and s["n"] < p["warmup"]:  # offset for non-counts: 5 % of the early mean
            s["c_sum"] += y
            s["c"] = max(1e-9, 0.05 * s["c_sum"] / (s["n"] + 1))
        if counts and s["n"] == 0:
            s["level"] = math.log(max(y, 0.5))  # the log-rate starts at the first count
        c = s["c"]
        hour, dow, day = self.calendar(ts)
        how = dow * 24 + hour
        base = self._base(hour, dow, how)
        phi = self._var(hour)
        mu = math.exp(min(base, 700.0)) if counts else _inv(base, c)
        if counts:
            # Log residual of y + 1 against mu + 1 (for the spread and high counts), and the level residual.
            x = math.log(y + 1.0)
            r_log = x - math.log(mu + 1.0)
            r = math.log((y + 0.5) / (mu + 0.5))
        else:
            x = _fwd(y, c)
            r_log = r = x - base
        sd = math.sqrt(max(phi + mu * (mu + 1.0) ** -2.0 + 0.002 if counts else phi, 1e-6))
        z = r_log / sd
        if counts and abs(z) > PRESCREEN and mu > 0:
            # The tail of a negative binomial with the learnt dispersion: exact at low counts, where the log
            # residual is too coarse; at high counts the log residual (a heavier, log-normal tail) is the more
            # cautious of the two and is kept when smaller.
            zc = stats.mid_p_z(stats.count_cdf(y, mu, phi), stats.count_sf(y, mu, phi), stats.count_pmf(y, mu, phi))
            z = zc * Z_HALF / Z_HALF_COUNT if mu < 30 else (min(z, zc) if z > 0 else max(z, zc))
        warm = s["n"] >= p["warmup"]
        point = self._judge(ts, y, mu, z, r, warm)
        # Learn the spread (not from anomalous buckets; Huber-clipped once warm).
        rl = max(-CLIP * sd, min(CLIP * sd, r_log)) if warm else r_log
        if s["n"] >= p["warmup"] // 2 and not (warm and point.kind is not None and point.kind != "new_level"):
            if counts:
                lim_y = CLIP * math.sqrt(mu + phi * mu * mu) if warm else 1e12
                e = min(abs(y - mu), lim_y)
                g = max(p["var_alpha_all"], VAR_START / (s["var_n_all"] + VAR_START))
                s["phi_a"] += g * (e * e - mu - s["phi_a"])
                s["phi_b"] += g * (mu * mu - s["phi_b"])
            vh = s["var"][hour]
            excess = rl * rl - (sd * sd - vh)
            g = max(p["var_alpha"], VAR_START / (s["var_n"][hour] + VAR_START))
            s["var"][hour] = max(0.0, vh + g * (excess - vh))
            s["var_n"][hour] += 1
            g = max(p["var_alpha_all"], VAR_START / (s["var_n_all"] + VAR_START))
            s["var_all"] = max(0.0, s["var_all"] + g * (rl * rl - (sd * sd - self._var(hour)) - s["var_all"]))
            s["var_n_all"] += 1
        # Backfitting: each part learns what the parts before it left (level, weekday, hour, hour of week).
        g = max(p["level_alpha"], 1.0 / (s["level_n"] + 1))
        phi = self._var(hour)  # after the spread has learnt
        step = g * self._residual(y, x, base, hour, warm, phi)
        s["level"] += step
        s["level_n"] += 1
        if SKIP_RHYTHM_IN_EVENT and warm and s["in_event"] and not (SHIFTS_TEACH_RHYTHM and s["ev_shift"]):
            # The rhythm does not learn from a burst; a "shift" that comes back every week is the rhythm itself.
            s["n"] += 1
            return point
        self._learn_rhythm(day, y, x, mu, sd, hour, dow, warm, phi)
        if p["daily"]:
            if p["weekly"]:
                g = max(p["week_alpha"], 1.0 / (s["w_n"][how] + 2)) if WEEK_RUNNING else p["week_alpha"]
                # What the level and the profiles leave, approximated by the level's step alone (the profiles
                # move far more slowly): one baseline evaluation per bucket instead of two.
                s["w"][how] += g * self._residual(y, x, base + step, hour, warm, phi)
                s["w_n"][how] += 1
        s["n"] += 1
        return point

    def _residual(self, y: float, x: float, base: float, hour: int, warm: bool, phi: float) -> float:
        """What the baseline learns from one bucket, in its own (log) units, clipped once warm.

        Counts: the Fisher-scoring step of a Poisson log-linear model, (y - mu) / mu, with y - mu clipped at CLIP
        standard deviations of the negative binomial and the step at +-1: unbiased for the mean even at low
        counts, where log(y + 1) is not (its average sits far below log(mu + 1) when mu is about 1).
        Other series: the log residual, clipped at CLIP spreads.
        """
        if self.settings.counts:
            mu = math.exp(min(base, 700.0))
            e = y - mu
            if warm:
                lim = CLIP * math.sqrt(mu + phi * mu * mu)
                e = max(-lim, min(lim, e))
            return max(-1.0, min(1.0, e / max(mu, 0.5)))
        r = x - base
        if warm:
            lim = CLIP * self._spread(_inv(base, self.s["c"]), hour)
            r = max(-lim, min(lim, r))
        return r

    def _judge(self, ts: int, y: float, mu: float, z: float, r: float, warm: bool) -> Point:
        """Score a bucket and group anomalous buckets into events (one alert at the start, the end reported)."""
        s, p = self.s, self.p
        if not warm:
            return Point(ts, y, mu, 0.0, False)
        zc = max(-CUSUM_CLIP, min(CUSUM_CLIP, z))
        if AUTOCORR:
            # Bursty series have runs of same-sign residuals: the CUSUM steps are shrunk by the learnt lag-1
            # autocorrelation (a sum of AR(1) steps has (1 + rho) / (1 - rho) times the variance).
            # Learnt from ordinary buckets only: the run of a real shift must not teach it.
            prev = s["z_prev"]
            if abs(zc) < AC_Z and abs(prev) < AC_Z:
                g = max(p["var_alpha_all"], 1.0 / (s["ac_n"] + 1))
                s["ac_xy"] += g * (zc * prev - s["ac_xy"])
                s["ac_xx"] += g * (zc * zc - s["ac_xx"])
                s["ac_n"] += 1
            s["z_prev"] = zc
            rho = min(0.95, max(0.0, s["ac_xy"] / s["ac_xx"])) if s["ac_xx"] > 0 else 0.0
            zc *= math.sqrt((1.0 - rho) / (1.0 + rho))
        s["cusum_up"] = max(0.0, s["cusum_up"] + zc - CUSUM_K)
        s["cusum_down"] = max(0.0, s["cusum_down"] - zc - CUSUM_K)
        score = abs(z) / (abs(z) + Z_HALF)
        direction = 1 if z > 0 else -1
        if s["cusum_up"] == 0.0 and s["cusum_down"] == 0.0:
            s["run_sum"], s["run_n"] = 0.0, 0
        else:  # residuals since the CUSUM left zero: their mean is the size of a change
            s["run_sum"] += r
            s["run_n"] += 1
        level = s["cusum_up"] if direction > 0 else s["cusum_down"]
        level_score = level / (level + COUNT_CUSUM_HALF)
        shift = score < p["threshold"] <= level_score  # a spike when one bucket alone is enough
        score = max(score, level_score)
        ratio = (y + 1e-12) / (mu + 1e-12) if direction > 0 else (mu + 1e-12) / (y + 1e-12)
        big = abs(y - mu) >= p["min_delta"] and ratio >= p["min_ratio"]
        anomalous = big and score >= p["threshold"]
        if SILENT_REBASE and not big and not s["in_event"] and level_score >= p["threshold"] and s["run_n"] > 0:
            # A lasting change too small to report (a new brand's first mentions): the level follows it silently.
            s["level"] += s["run_sum"] / s["run_n"]
            s["cusum_up"] = s["cusum_down"] = 0.0
            s["run_sum"], s["run_n"] = 0.0, 0
        if s["in_event"]:
            same = direction == s["event_dir"]
            if s["ev_shift"]:  # a shift is over when the values stop pushing the CUSUM (quiet night hours do not)
                calm = not same or z * direction < CUSUM_K
            else:  # a spike is over when the values are back in the normal range
                calm = not same or abs(z) < END_Z or abs(y - mu) < p["min_delta"]
            s["ev_n"] += 1
            s["ev_sum"] += r
            if not calm:
                s["quiet"] = 0
                if same:
                    s["ev_peak"] = max(s["ev_peak"], abs(z))
                if s["ev_n"] >= p["adapt"] and same:
                    # A change that lasts this long is the new normal: take it into the baseline and say so.
                    s["level"] += s["ev_sum"] / s["ev_n"]
                    start = s["event_start"]
                    self._end_event()
                    return Point(ts, y, mu, round(score, 6), False, "new_level", 1.0, start, ended=True)
                return Point(ts, y, mu, round(score, 6), False, self._kind(direction), 1.0, s["event_start"])
            s["quiet"] += 1
            if s["quiet"] >= p["cooldown"]:
                start = s["event_start"]
                self._end_event()
                return Point(ts, y, mu, round(score, 6), False, None, 1.0, start, ended=True)
            if not anomalous or same:
                return Point(ts, y, mu, round(score, 6), False, None, 1.0, s["event_start"])
            self._end_event()  # an opposite anomaly starts an event of its own
        if not anomalous:
            return Point(ts, y, mu, round(score, 6), False)
        s["in_event"], s["event_dir"], s["event_start"], s["quiet"] = True, direction, ts, 0
        s["ev_n"], s["ev_sum"], s["ev_peak"], s["ev_shift"] = 1, r, abs(z), shift
        s["events"] += 1
        kind = ("level_up" if direction > 0 else "level_down") if shift else self._kind(direction)
        return Point(ts, y, mu, round(score, 6), True, kind, 1.0, ts)

    @staticmethod
    def _kind(direction: int) -> str:
        """spike or drop."""
        return "spike" if direction > 0 else "drop"

    def _end_event(self) -> None:
        """Close the current event."""
        s = self.s
        s["cusum_up"] = s["cusum_down"] = 0.0
        s["in_event"], s["event_dir"], s["event_start"], s["quiet"] = False, 0, None, 0
        s["ev_n"], s["ev_sum"], s["ev_peak"] = 0, 0.0, 0.0

    def _rebase(self, level: float) -> None:
        """Set the log level so that the deseasonalised expectation is `level`."""
        self.s["level"] = math.log(max(level, 0.0) + self.s["c"]) if level + self.s["c"] > 0 else self.s["level"]

    def _current_level(self) -> float:
        """Deseasonalised level now."""
        return max(0.0, math.exp(self.s["level"]) - self.s["c"])


class ShareDetector(_Base):
    """Share of negative mentions per bucket: binomial with over-dispersion + CUSUM (no seasonality)."""

    kind_name = "share"

    def __init__(
        self, bucket: int, settings: DetectorSettings | None = None, state: dict[str, Any] | None = None
    ) -> None:
        super().__init__(bucket, settings, state)
        if isinstance(self.settings.sensitivity, str):
            self.p["threshold"] = SHARE_SENSITIVITIES[self.settings.sensitivity]

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
    detector: CountDetector | ShareDetector,
    rows: Sequence[tuple[int, float]] | Sequence[tuple[int, float, float]],
) -> list[Point]:
    """Batch run: exactly the streaming updates, one after the other."""
    out = []
    for row in rows:
        if isinstance(detector, ShareDetector):
            out.append(detector.update(row[0], row[1], row[2]))  # type: ignore[misc]
        else:
            out.append(detector.update(row[0], row[1]))
    return out
