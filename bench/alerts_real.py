"""The alert detector on real labelled series (Numenta Anomaly Benchmark, NAB) beside a windowed-Gaussian reference.

    python bench/alerts_real.py DATA_DIR SCORER [--sensitivity medium] [--categories realKnownCause ...]

DATA_DIR is NAB's folder (data/<category>/*.csv and combined_windows.json, e.g. ../shared/data/anomaly-nab) and
SCORER the NAB scoring script (e.g. ../shared/tools/nab_score.py). Not run by the tests. For each category it
prints the NAB score (standard and reward_low_FP_rate profiles) of the detector's alerts (1 on the first bucket of an
event, 0 elsewhere; scored at threshold 0.5), of a windowed Gaussian (z-score over the trailing 6400 points, its
anomaly score swept for the best threshold per category, as NAB reports it) and, with --gaussian-alerts, of the
same Gaussian alerting at |z| >= 4 once per event. Beside them: labelled windows caught, false alerts per week
(alerts outside every labelled window) and the delay from the window's centre (NAB's label) to the first alert.
Throughput is min and median of several runs of the detector over all the series.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# This folder holds alerts.py: keep it off the path so that `alerts` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from alerts.detector import WEEK, CountDetector, DetectorSettings  # noqa: E402
from alerts.synthetic import (  # noqa: E402
    Injection,
    detect_share,
    detection_delay,
    false_alarms_per_week,
    make_share_series,
)

log = logging.getLogger("alerts_real")

#: The count-like categories closest to mention volume (the default), and what else NAB has.
DEFAULT_CATEGORIES = ["realKnownCause", "realAdExchange", "realTraffic"]
#: Series that are counts of events (a Poisson floor on the noise makes sense); the others are rates or sizes.
COUNT_SERIES = {"nyc_taxi.csv", "elb_request_count_8c0756.csv"}
GAUSS_WINDOW = 6400
#: Detector settings given on the command line (--set key=value).
OVERRIDES: dict[str, object] = {}


@dataclass
class Labelled:
    """One NAB series with its labelled windows (epoch seconds)."""

    category: str
    name: str
    stamps: list[str]
    ts: list[int]
    values: list[float]
    windows: list[tuple[int, int]]


def _epoch(text: str) -> int:
    """NAB's zone-less timestamp (UTC) → epoch seconds."""
    return int(datetime.fromisoformat(text.split(".")[0]).replace(tzinfo=UTC).timestamp())


def load(data_dir: Path, selection: list[str]) -> list[Labelled]:
    """The chosen series: whole categories or category/file.csv."""
    windows = json.loads((data_dir / "combined_windows.json").read_text())
    out = []
    for item in selection:
        files = (
            [data_dir / "data" / item] if item.endswith(".csv") else sorted((data_dir / "data" / item).glob("*.csv"))
        )
        for path in files:
            cat = path.parent.name
            with path.open() as fh:
                rows = list(csv.DictReader(fh))
            stamps = [r["timestamp"] for r in rows]
            out.append(
                Labelled(
                    cat,
                    path.name,
                    stamps,
                    [_epoch(s) for s in stamps],
                    [float(r["value"]) for r in rows],
                    [(_epoch(a), _epoch(b)) for a, b in windows[f"{cat}/{path.name}"]],
                )
            )
    return out


def bucket_of(ts: list[int]) -> int:
    """The most common step (NAB's traffic series are irregular)."""
    diffs = np.diff(np.asarray(ts))
    vals, counts = np.unique(diffs[diffs > 0], return_counts=True)
    return int(vals[np.argmax(counts)])


def run_detector(s: Labelled, sensitivity: str) -> tuple[list[float], list[float]]:
    """(alert 0/1, score) per row from a fresh detector, causal, with the rows as they come."""
    counts = s.name in COUNT_SERIES
    extra = {"counts": counts, "min_delta": 3.0 if counts else 0.0} if "counts" in DetectorSettings.model_fields else {}
    sens: str | float = sensitivity if sensitivity in ("low", "medium", "high") else float(sensitivity)
    settings = DetectorSettings(sensitivity=sens, **{**extra, **OVERRIDES})
    det = CountDetector(bucket_of(s.ts), settings)
    alerts, scores = [], []
    last = None
    for ts, v in zip(s.ts, s.values, strict=True):
        if last is not None and ts <= last:  # a repeated timestamp (a few NAB files have them): not scored
            alerts.append(0.0)
            scores.append(0.0)
            continue
        last = ts
        p = det.update(ts, max(0.0, v))
        alerts.append(1.0 if p.alert else 0.0)
        scores.append(p.score)
    return alerts, scores


def windowed_gaussian(values: list[float], window: int = GAUSS_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(score, z) per row: z of each value against the mean and sd of up to `window` values before it."""
    x = np.asarray(values, dtype=float)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    i = np.arange(len(x))
    lo = np.maximum(0, i - window)
    n = i - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c1[i] - c1[lo]) / n
        var = (c2[i] - c2[lo]) / n - mean * mean
        z = (x - mean) / np.sqrt(np.maximum(var, 1e-12))
    z[n < 2] = 0.0
    z = np.nan_to_num(z)
    tail = np.array([0.5 * math.erfc(abs(v) / math.sqrt(2)) for v in z])
    return 1.0 - tail, z


def once_per_event(z: np.ndarray, limit: float, cooldown: int) -> list[float]:
    """0/1 alerts: first row of each run of |z| >= limit (runs separated by `cooldown` quiet rows)."""
    out, quiet, active = [], cooldown, False
    for v in z:
        hit = abs(v) >= limit
        if hit:
            out.append(0.0 if active else 1.0)
            active, quiet = True, 0
        else:
            out.append(0.0)
            quiet += 1
            if quiet >= cooldown:
                active = False
    return out


def write(dirname: Path, s: Labelled, scores: list[float]) -> None:
    """One scores CSV in the scorer's layout."""
    path = dirname / s.category / s.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "anomaly_score"])
        w.writerows(zip(s.stamps, (f"{v:.6f}" for v in scores), strict=True))


def nab(scorer: Path, data_dir: Path, scores_dir: Path, category: str, threshold: float | None) -> dict[str, float]:
    """Run the NAB scorer on one category: {profile: score}."""
    cmd = [sys.executable, str(scorer), str(scores_dir), "--nab", str(data_dir), "--category", category]
    if threshold is not None:
        cmd += ["--threshold", str(threshold)]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {k: v["score"] for k, v in out.items()}


def alert_figures(series: list[Labelled], flags: dict[str, list[float]]) -> dict[str, object]:
    """Windows caught, false alerts per week and delays (hours from the window's centre) over some series."""
    caught = total = false = 0
    weeks = 0.0
    delays = []
    for s in series:
        f = flags[s.name]
        probation = min(int(0.15 * len(s.ts)), 750)  # NAB does not score the first 15 %
        weeks += (s.ts[-1] - s.ts[probation]) / WEEK
        hits = [s.ts[i] for i in range(probation, len(f)) if f[i]]
        for a, b in s.windows:
            total += 1
            inside = [t for t in hits if a <= t <= b]
            if inside:
                caught += 1
                delays.append((inside[0] - (a + b) / 2) / 3600)
        false += sum(1 for t in hits if not any(a <= t <= b for a, b in s.windows))
    return {
        "caught": f"{caught}/{total}",
        "false_per_week": round(false / weeks, 2) if weeks else 0.0,
        "delay_h_median": round(statistics.median(delays), 1) if delays else None,
    }


def throughput(series: list[Labelled], sensitivity: str, runs: int = 3) -> tuple[float, float]:
    """(min, median) points per second of the detector over all the series."""
    n = sum(len(s.ts) for s in series)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for s in series:
            run_detector(s, sensitivity)
        rates.append(n / (time.perf_counter() - start))
    return min(rates), statistics.median(rates)


def tone(seeds: int, sensitivity: str) -> list[dict[str, object]]:
    """Negative-share alerts on synthetic tone series (hourly; the share wanders as a beta around 15 %):
    false alerts per week without events, and rises of the share for six hours found within six hours."""
    settings = DetectorSettings(sensitivity=sensitivity)
    rows = []
    for base in (20.0, 5.0):
        fa = []
        for seed in range(seeds):
            points = detect_share(make_share_series(seed, base=base, weeks=6), settings)
            fa.append(false_alarms_per_week(points, 3600, 48))
        row: dict[str, object] = {
            "mentions_per_hour": base,
            "sensitivity": sensitivity,
            "false_per_week": round(statistics.mean(fa), 2),
        }
        for factor in (1.5, 2.0, 3.0):
            delays = []
            for seed in range(seeds):
                inj = Injection("spike", 4 * 168 + 24 * (seed % 5) + 12, 6, factor)
                series = make_share_series(1000 + seed, base=base, weeks=5, injections=[inj])
                delays.append(detection_delay(detect_share(series, settings), inj, window=6))
            found = [d for d in delays if d is not None]
            row[f"share x{factor:g} for 6 h"] = (
                f"{len(found)}/{seeds}, median delay {statistics.median(found):g} h" if found else f"0/{seeds}"
            )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="NAB folder (data/ and combined_windows.json)")
    parser.add_argument("scorer", type=Path, help="NAB scoring script (nab_score.py)")
    parser.add_argument("--sensitivity", default="medium")
    parser.add_argument("--categories", nargs="*", default=DEFAULT_CATEGORIES)
    parser.add_argument("--gaussian-alerts", type=float, default=4.0, help="|z| of the 0/1 Gaussian reference")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs")
    parser.add_argument("--tone-seeds", type=int, default=10, help="seeds of the synthetic tone series (0: skip)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    series = load(args.data_dir, args.categories)
    categories = sorted({s.category for s in series})
    with tempfile.TemporaryDirectory(prefix="nab-") as tmp:
        root = Path(tmp)
        ours: dict[str, list[float]] = {}
        gauss01: dict[str, list[float]] = {}
        for s in series:
            flags, _ = run_detector(s, args.sensitivity)
            ours[s.name] = flags
            gscore, z = windowed_gaussian(s.values)
            gauss01[s.name] = once_per_event(z, args.gaussian_alerts, max(3, 3600 // bucket_of(s.ts)))
            write(root / "ours", s, flags)
            write(root / "gauss", s, list(gscore))
            write(root / "gauss01", s, gauss01[s.name])
        rows: list[dict[str, object]] = []
        for cat in categories:
            sub = [s for s in series if s.category == cat]
            rows.append(
                {
                    "category": cat + (f" ({len(sub)} series)" if len(sub) > 1 else f" ({sub[0].name})"),
                    "ours": nab(args.scorer, args.data_dir, root / "ours", cat, 0.5),
                    "ours_alerts": alert_figures(sub, ours),
                    "gaussian_swept": nab(args.scorer, args.data_dir, root / "gauss", cat, None),
                    f"gaussian_z{args.gaussian_alerts:g}": nab(args.scorer, args.data_dir, root / "gauss01", cat, 0.5),
                    "gaussian_alerts": alert_figures(sub, gauss01),
                }
            )
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    for s in series:  # the count series, closest to mention volume, on their own
        if s.name in COUNT_SERIES:
            figures: dict[str, object] = {
                "ours": alert_figures([s], ours),
                "gaussian_alerts": alert_figures([s], gauss01),
            }
            print(json.dumps({"series": f"{s.category}/{s.name}", **figures}, ensure_ascii=False))
    if args.tone_seeds:
        for tone_row in tone(args.tone_seeds, args.sensitivity):
            print(json.dumps(tone_row, ensure_ascii=False))
    lo, med = throughput(series, args.sensitivity, args.runs)
    print(
        f"detector throughput: min {lo:,.0f}, median {med:,.0f} points/s over {sum(len(s.ts) for s in series)} points"
    )


if __name__ == "__main__":
    main()
