"""Detector on synthetic seasonal Poisson series: detection delay, false alarms, causality, resumable state."""

from __future__ import annotations

import json
import math

import pytest

from alerts import stats
from alerts.detector import (
    WEEK,
    CountDetector,
    DetectorSettings,
    ShareDetector,
    from_state,
    run,
    threshold_for,
)
from alerts.synthetic import Injection, detect, detection_delay, false_alarms_per_week, make_series

pytestmark = pytest.mark.unit

HOUR = 3600


def _poisson_sum(y: int, mu: float, upper: bool) -> float:
    """Exact tail by summing the pmf."""
    pmf = [math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1)) for k in range(0, 400)]
    return sum(pmf[y:]) if upper else sum(pmf[: y + 1])


@pytest.mark.parametrize("mu", [0.05, 1.3, 12.0, 80.0])
def test_poisson_tails_match_direct_sums(mu: float) -> None:
    for y in range(0, int(mu * 3) + 6):
        assert stats.count_sf(y, mu, 0.0) == pytest.approx(_poisson_sum(y, mu, True), rel=1e-9, abs=1e-300)
        assert stats.count_cdf(y, mu, 0.0) == pytest.approx(_poisson_sum(y, mu, False), rel=1e-9)


def test_negative_binomial_tail_is_heavier_and_sums_to_one() -> None:
    mu, phi = 10.0, 0.5
    total = sum(stats.count_pmf(k, mu, phi) for k in range(0, 2000))
    assert total == pytest.approx(1.0, rel=1e-9)
    assert stats.count_sf(40, mu, phi) > 100 * stats.count_sf(40, mu, 0.0)
    # sf(y) = 1 - cdf(y - 1)
    assert stats.count_sf(15, mu, phi) == pytest.approx(1 - stats.count_cdf(14, mu, phi), rel=1e-9)


def test_binomial_tails_match_direct_sums() -> None:
    n, p = 30, 0.2
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    for k in range(n + 1):
        assert stats.binom_sf(k, n, p) == pytest.approx(sum(pmf[k:]), rel=1e-9)
        assert stats.binom_cdf(k, n, p) == pytest.approx(sum(pmf[: k + 1]), rel=1e-9)


def test_mid_p_residuals_are_roughly_standard_normal() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    zs = []
    for mu in (0.3, 3.0, 30.0):
        for y in rng.poisson(mu, 3000):
            zs.append(stats.mid_p_z(stats.count_cdf(y, mu, 0), stats.count_sf(y, mu, 0), stats.count_pmf(y, mu, 0)))
    assert abs(float(np.mean(zs))) < 0.05
    assert 0.75 < float(np.std(zs)) < 1.05


@pytest.mark.parametrize("bucket,base", [(HOUR, 10.0), (HOUR, 1.0), (300, 10.0)])
def test_no_alert_storm_on_pure_seasonal_noise(bucket: int, base: float) -> None:
    rates = []
    for seed in range(4):
        series = make_series(seed, bucket=bucket, weeks=5, base=base)
        det = CountDetector(bucket)
        points = run(det, list(zip(series.ts, series.values, strict=False)))
        warm = det.p["warmup"]
        assert all(p.score == 0.0 and not p.alert for p in points[:warm]), "warm-up must be silent"
        rates.append(false_alarms_per_week(points, bucket, warm))
    assert max(rates) <= 1.0, rates
    assert sum(rates) / len(rates) <= 0.5, rates


def _heavy_tailed(seed: int, weeks: int = 6, base: float = 40.0, bucket: int = HOUR) -> tuple[list[int], list[int]]:
    """Mention-like counts: seasonal rate x log-normal day-to-day and heavy-tailed hour-to-hour bursts, Poisson."""
    import numpy as np

    series = make_series(seed, bucket=bucket, weeks=weeks, base=base)
    rng = np.random.default_rng(seed + 500)
    n = len(series.ts)
    day_mood = np.repeat(rng.normal(0.0, 0.15, n // 24 + 1), 24)[:n]
    burst = rng.standard_t(3, n) * 0.15  # heavy tails: Student t with 3 degrees of freedom
    lam = np.asarray(series.rate) * np.exp(day_mood + burst)
    return series.ts, [int(v) for v in rng.poisson(lam)]


def test_quiet_on_heavy_tailed_bursty_noise() -> None:
    """Bursty, heavy-tailed mention counts without events: at most one false alert a week at the default."""
    rates = []
    for seed in range(4):
        ts, values = _heavy_tailed(seed)
        det = CountDetector(HOUR)
        points = run(det, list(zip(ts, values, strict=False)))
        rates.append(false_alarms_per_week(points, HOUR, det.p["warmup"]))
    assert sum(rates) / len(rates) <= 1.0, rates


def test_no_alert_storm_on_zero_inflated_low_counts() -> None:
    for seed in range(3):
        series = make_series(seed, bucket=300, weeks=4, base=0.3, overdispersion=1.0)
        points = detect(series)
        assert false_alarms_per_week(points, 300, 2 * 288) <= 1.0


def test_each_injected_burst_alerts_once_and_reports_its_end() -> None:
    """On bursty series: a six-hour burst x8 alerts once at its start and is declared over soon after it ends."""
    for seed in range(4):
        ts, values = _heavy_tailed(seed + 10)
        start = 4 * 168 + 24 * seed + 12  # a weekday noon in week 5
        for k in range(6):
            values[start + k] *= 8
        det = CountDetector(HOUR)
        points = run(det, list(zip(ts, values, strict=False)))
        alerts = [i for i, p in enumerate(points) if p.alert and start <= i < start + 48]
        assert len(alerts) == 1 and start <= alerts[0] < start + 6, (seed, alerts)  # once, during the burst
        assert points[alerts[0]].kind in ("spike", "level_up")  # a six-hour burst may first show as a run
        ends = [i for i in range(alerts[0] + 1, start + 48) if points[i].ended]
        assert ends and start + 6 <= ends[0] <= start + 6 + 6, (seed, ends)
        assert points[ends[0]].event_start == ts[alerts[0]]
        assert all(points[i].event_start == ts[alerts[0]] for i in range(alerts[0], ends[0]))


@pytest.mark.parametrize(
    "kind,factor,length,max_delay",
    [
        ("spike", 8.0, 1, 0),
        ("drop", 0.0, 12, 4),
        ("shift", 3.0, 0, 24),
    ],
)
def test_injected_anomalies_are_detected_within_a_few_buckets(
    kind: str, factor: float, length: int, max_delay: int
) -> None:
    for seed in range(4):
        start = 4 * 168 + 24 * seed + 12  # a weekday noon in week 5
        inj = Injection(kind, start, length, factor)
        series = make_series(100 + seed, bucket=HOUR, weeks=5, base=10.0, injections=[inj])
        points = detect(series)
        delay = detection_delay(points, inj, window=25)
        assert delay is not None and delay <= max_delay, (seed, delay)
        alert = points[start + delay]
        expected_kind = {"spike": ("spike",), "shift": ("spike", "level_up"), "drop": ("drop", "level_down")}[kind]
        assert alert.kind in expected_kind


def test_small_relative_change_does_not_alert_however_significant() -> None:
    """A 40 % rise on a big, steady count is statistically clear but below min_ratio (1.5): no alert."""
    det = CountDetector(HOUR, DetectorSettings(daily=False, weekly=False, warmup=48))
    points = [det.update(i * HOUR, 1000 + (i % 3)) for i in range(200)]
    points.append(det.update(200 * HOUR, 1400))
    assert not any(p.alert for p in points)
    det2 = CountDetector(HOUR, DetectorSettings(daily=False, weekly=False, warmup=48, min_ratio=1.1))
    points = [det2.update(i * HOUR, 1000 + (i % 3)) for i in range(200)]
    assert det2.update(200 * HOUR, 1400).alert


def test_one_event_is_one_alert() -> None:
    start = 4 * 168 + 12
    inj = Injection("drop", start, 8, 0.0)  # eight silent hours at midday
    series = make_series(7, bucket=HOUR, weeks=5, base=10.0, injections=[inj])
    points = detect(series)
    in_event = [p for p in points[start : start + 8] if p.kind is not None]
    assert len(in_event) >= 3  # several anomalous buckets ...
    assert sum(p.alert for p in points[start : start + 10]) == 1  # ... but a single alert
    assert all(p.event_start == points[start + detection_delay(points, inj)].ts for p in in_event)


def test_level_shift_is_absorbed_not_repeated() -> None:
    start = 4 * 168 + 12
    inj = Injection("shift", start, 0, 3.0)
    series = make_series(3, bucket=HOUR, weeks=6, base=5.0, injections=[inj])
    points = detect(series)
    assert sum(p.alert for p in points[start:]) <= 2  # the new level becomes the baseline


def test_streaming_with_json_state_equals_batch() -> None:
    inj = Injection("spike", 300, 1, 10.0)
    series = make_series(11, bucket=HOUR, weeks=3, base=4.0, injections=[inj])
    settings = DetectorSettings(sensitivity="high", warmup=48)
    batch = run(CountDetector(HOUR, settings), list(zip(series.ts, series.values, strict=False)))
    det = CountDetector(HOUR, settings)
    streamed = []
    for ts, value in zip(series.ts, series.values, strict=False):
        streamed.append(det.update(ts, value))
        det = from_state(json.loads(json.dumps(det.state())))  # as `check` does between runs
    assert [p.as_dict() for p in streamed] == [p.as_dict() for p in batch]
    assert any(p.alert for p in batch)


def test_scores_are_causal() -> None:
    """Changing a future point never changes an earlier score."""
    series = make_series(5, bucket=HOUR, weeks=3, base=6.0)
    rows = list(zip(series.ts, series.values, strict=False))
    a = run(CountDetector(HOUR), rows)
    rows[400] = (rows[400][0], rows[400][1] + 200)
    b = run(CountDetector(HOUR), rows)
    assert [p.score for p in a[:400]] == [p.score for p in b[:400]]
    assert b[400].score > a[400].score and b[400].alert


def test_share_detector_sees_a_jump_in_negative_share() -> None:
    import numpy as np

    rng = np.random.default_rng(2)
    det = ShareDetector(HOUR, DetectorSettings(warmup=48))
    points = []
    for i in range(400):
        total = int(rng.poisson(20))
        share = 0.1 if i < 300 else 0.5
        negative = int(rng.binomial(total, share))
        points.append(det.update(1704067200 + i * HOUR, negative, total))
    assert sum(p.alert for p in points[48:300]) <= 1
    assert any(p.alert for p in points[300:303])
    state = json.loads(json.dumps(det.state()))
    assert from_state(state).share() == pytest.approx(det.share())


def test_sensitivity_and_validation() -> None:
    assert threshold_for("high") < threshold_for("medium") < threshold_for("low")
    assert threshold_for(0.3) == 0.3
    with pytest.raises(ValueError, match="low, medium, high"):
        threshold_for("extreme")
    with pytest.raises(ValueError, match="between 0 and 1"):
        DetectorSettings(sensitivity=1.5)
    det = CountDetector(HOUR)
    det.update(1000 * HOUR, 3)
    with pytest.raises(ValueError, match="increase"):
        det.update(999 * HOUR, 3)
    with pytest.raises(ValueError, match="non-negative"):
        det.update(1001 * HOUR, -1)


def _local_series(zone: str, start: tuple[int, int, int], hours: int, rate, seed: int) -> list[tuple[int, int]]:
    """Hourly Poisson counts whose rate is a function of the local time in `zone`."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import numpy as np

    tz = ZoneInfo(zone)
    rng = np.random.default_rng(seed)
    first = int(datetime(*start, tzinfo=tz).timestamp())
    return [
        (first + i * HOUR, int(rng.poisson(rate(datetime.fromtimestamp(first + i * HOUR, tz))))) for i in range(hours)
    ]


def _moscow_rhythm(local) -> float:
    """Office hours 09–18 and a night digest 00–03, both on Moscow weekdays only; quiet otherwise."""
    if local.weekday() < 5 and 9 <= local.hour < 18:
        return 20.0
    if local.weekday() < 5 and local.hour < 3:
        return 15.0
    return 1.0


def test_daily_and_weekly_rhythm_in_moscow_time_is_learned_in_moscow_buckets() -> None:
    rows = _local_series("Europe/Moscow", (2024, 1, 1), 4 * 168, _moscow_rhythm, seed=0)
    msk = CountDetector(HOUR, DetectorSettings(timezone="Europe/Moscow"))
    utc = CountDetector(HOUR, DetectorSettings())
    msk_points, utc_points = run(msk, rows), run(utc, rows)
    # Hour slots are Moscow hours: busy 09–17 and 00–02, quiet 03–08 and 18–23 (UTC would be 3 hours off).
    busy = set(range(9, 18)) | {0, 1, 2}
    weekday = [msk.expected(rows[-168 + 24 * 2 + h][0] + WEEK)[0] for h in range(24)]  # a Moscow Wednesday
    assert all(weekday[h] > 8 for h in busy)
    assert all(weekday[h] < 3 for h in set(range(24)) - busy)
    # The hour slots are Moscow hours (Moscow 09:00 is 06:00 UTC, so the UTC model has its ramp in slot 6).
    assert msk.hour_factor(9) > 4 * msk.hour_factor(6) and utc.hour_factor(6) > 4 * utc.hour_factor(3)
    # Days are Moscow days: Saturday and Sunday are alike and quiet.
    day = [msk.day_factor(k) for k in range(7)]
    assert max(day[5], day[6]) < 0.5 * min(day[:5]) and day[6] == pytest.approx(day[5], rel=0.5)
    # So the expected count follows Moscow office hours, and the rhythm raises no alert.
    monday_10 = rows[-168 + 10][0] + WEEK  # Monday 10:00 in Moscow, one week after the data
    assert msk.expected(monday_10)[0] > 15
    assert msk.expected(monday_10)[0] > 5 * msk.expected(monday_10 - 2 * 86400)[0]  # Saturday 10:00
    assert msk.expected(monday_10)[0] > 5 * msk.expected(monday_10 - 3 * HOUR)[0]  # Monday 07:00
    # At most the first Monday after the warm-up (its weekday profile then rests on one day) may alert.
    assert sum(p.alert for p in msk_points) <= 1 and len(utc_points) == len(msk_points)


def test_a_fixed_offset_zone_is_utc_with_shifted_timestamps() -> None:
    """Moscow is UTC+3 all year: its detector must score exactly like a UTC one fed the wall-clock times."""
    rows = _local_series("Europe/Moscow", (2024, 1, 1), 3 * 168, _moscow_rhythm, seed=1)
    msk = run(CountDetector(HOUR, DetectorSettings(timezone="Europe/Moscow")), rows)
    shifted = run(CountDetector(HOUR, DetectorSettings()), [(t + 3 * HOUR, v) for t, v in rows])
    assert [(p.score, p.expected, p.alert) for p in msk] == [(p.score, p.expected, p.alert) for p in shifted]
    det = CountDetector(HOUR, DetectorSettings(timezone="Europe/Moscow"))
    assert det.calendar(rows[0][0]) == (0, 0, 19723)  # 2024-01-01 00:00 in Moscow: hour 0, Monday, day 19723


def test_local_zone_follows_daylight_saving_time() -> None:
    """A 09:00 Berlin press digest moves from 08:00 to 07:00 UTC on 31 March: only the UTC model cries wolf."""
    rows = _local_series("Europe/Berlin", (2024, 3, 4), 6 * 168, lambda t: 30.0 if t.hour == 9 else 1.0, seed=3)
    dst = 1711846800  # 2024-03-31 01:00 UTC
    berlin = run(CountDetector(HOUR, DetectorSettings(timezone="Europe/Berlin")), rows)
    utc = run(CountDetector(HOUR, DetectorSettings()), rows)
    assert sum(p.alert for p in berlin) == 0
    assert sum(p.alert for p in utc if p.ts < dst) == 0 and sum(p.alert for p in utc if p.ts >= dst) >= 5
    det = CountDetector(HOUR, DetectorSettings(timezone="Europe/Berlin"))
    state = json.loads(json.dumps(det.state()))
    assert state["settings"]["timezone"] == "Europe/Berlin" and from_state(state).settings.timezone == "Europe/Berlin"


def test_daily_buckets_take_the_local_weekday_of_their_middle() -> None:
    monday_utc = 1704067200  # 2024-01-01 00:00 UTC, a Monday
    assert CountDetector(86400, DetectorSettings(timezone="America/New_York")).calendar(monday_utc)[1] == 0
    assert CountDetector(HOUR, DetectorSettings(timezone="America/New_York")).calendar(monday_utc)[:2] == (19, 6)
    with pytest.raises(ValueError, match="Europe/Moscow"):
        DetectorSettings(timezone="Moscow")


def test_negative_share_rise_alerts_once_with_its_end_and_stays_quiet_on_wandering_tone() -> None:
    """Tone: the share of negative mentions wanders (beta around 15 %) without alerts; tripled for six hours it
    alerts once and the end of the event is reported."""
    from alerts.synthetic import detect_share, make_share_series

    quiet = [false_alarms_per_week(detect_share(make_share_series(s, weeks=6)), HOUR, 48) for s in range(4)]
    assert sum(quiet) / len(quiet) <= 0.5, quiet
    for seed in range(4):
        start = 4 * 168 + 24 * seed + 12
        inj = Injection("spike", start, 6, 3.0)
        points = detect_share(make_share_series(2000 + seed, weeks=5, injections=[inj]))
        alerts = [i for i in range(start, start + 24) if points[i].alert]
        assert len(alerts) == 1 and alerts[0] < start + 6, (seed, alerts)
        ends = [i for i in range(alerts[0] + 1, start + 24) if points[i].ended]
        assert ends and points[ends[0]].event_start == points[alerts[0]].ts, (seed, ends)
