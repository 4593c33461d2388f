"""Benchmark of the alerts: detector throughput, detection delay and false alarms on synthetic series, and the
delay from an article indexed to its alert delivered by `watch` against the real Elasticsearch.

    python bench/alerts.py                 # everything (needs the local server for the last part)
    python bench/alerts.py --no-es         # detector figures only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# This file is named alerts.py: keep its folder off the path so that `alerts` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from alerts.detector import WEEK, CountDetector, DetectorSettings, run  # noqa: E402
from alerts.synthetic import Injection, detect, detection_delay, false_alarms_per_week, make_series  # noqa: E402

SCENARIOS = [  # (label, bucket seconds, mean articles per hour)
    ("1h buckets, 10/h", 3600, 10.0),
    ("1h buckets, 2/h", 3600, 2.0),
    ("5m buckets, 10/h", 300, 10.0),
    ("5m buckets, 60/h", 300, 60.0),
]
INJECTIONS = [
    ("spike x4 (1 bucket)", "spike", 4.0, 1),
    ("level x2", "shift", 2.0, 0),
    ("level x1.5", "shift", 1.5, 0),
    ("drop x0.2 (12 h)", "drop", 0.2, -12),
]


def throughput(seconds: float = 3.0) -> float:
    """Points per second through CountDetector.update on a 5-minute seasonal series."""
    series = make_series(0, bucket=300, weeks=8, base=30.0)
    rows = list(zip(series.ts, series.values, strict=False))
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run(CountDetector(300), rows)
        done += len(rows)
    return done / (time.perf_counter() - start)


def synthetic(seeds: int, sensitivity: str) -> list[dict[str, object]]:
    """False alarms per week on pure noise and detection delay (buckets) of injected anomalies, across seeds."""
    settings = DetectorSettings(sensitivity=sensitivity)
    table = []
    for label, bucket, base in SCENARIOS:
        per_week = WEEK // bucket
        fa = []
        for seed in range(seeds):
            pts = detect(make_series(seed, bucket=bucket, weeks=6, base=base), settings)
            fa.append(false_alarms_per_week(pts, bucket, per_week))
        row: dict[str, object] = {
            "scenario": label,
            "sensitivity": sensitivity,
            "false_alarms_per_week_mean": round(statistics.mean(fa), 3),
            "false_alarms_per_week_max": round(max(fa), 3),
        }
        for name, kind, factor, length in INJECTIONS:
            delays = []
            for seed in range(seeds):
                start = (4 * WEEK + 86400 * (seed % 5) + 12 * 3600) // bucket  # weekday noon, week 5
                n = length if length >= 0 else int(-length * 3600 / bucket)
                inj = Injection(kind, start, n, factor)
                pts = detect(make_series(1000 + seed, bucket=bucket, weeks=5, base=base, injections=[inj]), settings)
                delays.append(detection_delay(pts, inj, window=6 if kind == "spike" else max(24, 86400 // bucket)))
            found = [d for d in delays if d is not None]
            row[name] = (
                f"{len(found)}/{seeds} found, median {statistics.median(found):g} buckets"
                if found
                else f"0/{seeds} found"
            )
        table.append(row)
    return table


def es_latency(burst: int = 20) -> dict[str, float]:
    """Index a burst during `watch` (1-minute buckets, 1 s checks) and time the webhook receipts."""
    from alerts.check import watch
    from alerts.rules import parse_config
    from indexer.bulk import BulkWriter
    from indexer.client import connect, wait_for_health
    from rezonans.config import Settings
    from rezonans.model import Article, Mention, SourceRef

    received: dict[str, float] = {}
    done = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            received.setdefault(body["rule"], time.time())
            self.send_response(200)
            self.end_headers()
            if {"volume", "story"} <= received.keys():
                done.set()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import tempfile

    home = tempfile.mkdtemp(prefix="rezonans-bench-")
    settings = Settings(index_prefix=f"rzbench-{uuid.uuid4().hex[:8]}", home=home)
    client = connect(settings)
    wait_for_health(client, timeout=30)
    brand = "benchco"

    def article(i: int, when: datetime, cluster: str | None = None) -> Article:
        return Article(
            url=f"http://bench{i % 4}.test/{i}",
            source=SourceRef(name=f"src{i % 4}"),
            title=f"Story {i}",
            text=f"Benchco news {i}",
            published_at=when,
            cluster=cluster,
            mentions=[Mention(brand=brand, start=0, end=7, text="Benchco")],
        )

    now = datetime.now(UTC)
    with BulkWriter(settings, refresh=True) as w:  # an hour of background: one article every 2 minutes
        for i in range(30):
            w.add(article(i, now - timedelta(minutes=60 - 2 * i)))
    config = parse_config(
        {
            "history": "1h",
            "channels": {"hook": {"type": "webhook", "url": f"http://127.0.0.1:{server.server_address[1]}/"}},
            "rules": [
                {
                    "name": "volume",
                    "brand": brand,
                    "bucket": "1m",
                    "warmup": 20,
                    "daily": False,
                    "weekly": False,
                    "channels": ["hook"],
                },
                {
                    "name": "story",
                    "brand": brand,
                    "metric": "new_story",
                    "bucket": "10m",
                    "min_articles": 5,
                    "min_sources": 3,
                    "channels": ["hook"],
                },
            ],
        }
    )
    thread = threading.Thread(
        target=watch,
        kwargs=dict(settings=settings, config=config, max_iterations=150, check_every=1, sleep=lambda s: done.wait(s)),
        daemon=True,
    )
    thread.start()
    time.sleep(3)  # let the first checks learn the history
    indexed_at = time.time()
    burst_time = datetime.now(UTC)
    with BulkWriter(settings, refresh=True) as w:
        for i in range(burst):
            w.add(article(1000 + i, burst_time, cluster="bench-story" if i < 8 else None))
    refreshed_at = time.time()
    done.wait(120)
    thread.join(timeout=30)
    bucket_end = (int(burst_time.timestamp()) // 60 + 1) * 60
    out = {"index_seconds": refreshed_at - indexed_at}
    if "volume" in received:
        out["volume_alert_after_indexing_s"] = received["volume"] - indexed_at
        out["volume_alert_after_bucket_end_s"] = received["volume"] - bucket_end
    if "story" in received:
        out["story_alert_after_indexing_s"] = received["story"] - indexed_at
    server.shutdown()
    names = list(client.indices.get(index=f"{settings.index_prefix}-*").keys())
    if names:
        client.indices.delete(index=",".join(names))
    for tpl in client.indices.get_index_template(name=f"{settings.index_prefix}-*").get("index_templates", []):
        client.indices.delete_index_template(name=tpl["name"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--no-es", action="store_true", help="skip the watch-mode latency against Elasticsearch")
    args = parser.parse_args()
    print(f"detector throughput: {throughput():,.0f} points/s (one core, pure Python)")
    for sens in ("medium", "high"):
        print(
            f"\nsynthetic benchmark, sensitivity {sens}, {args.seeds} seeds "
            "(daily + weekly seasonality, Poisson noise; false alarms counted after the 1-week warm-up):"
        )
        for row in synthetic(args.seeds, sens):
            print("  " + json.dumps(row, ensure_ascii=False))
    if not args.no_es:
        try:
            figures = es_latency()
        except Exception as exc:  # the benchmark reports, it does not crash, when ES is missing
            print(f"\nwatch latency: skipped ({exc})", file=sys.stderr)
            return
        print("\nwatch latency against Elasticsearch (1-minute buckets, checks every 1 s):")
        for k, v in figures.items():
            print(f"  {k}: {v:.2f}")


if __name__ == "__main__":
    main()
