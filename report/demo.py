"""The demo's report: synthetic redemptions that follow promo-code mentions, the weekly report and its files.

The data comes from `pipeline.demo` (the dev site crawled into the demo prefix); `rezonans demo` runs both.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from indexer.client import connect, es_errors
from report.aggs import ReportScope
from report.build import build_report
from report.outcomes import import_file, outcomes_index
from report.periods import week_period
from report.render import to_html, to_markdown, to_pdf, to_xlsx
from rezonans.config import Settings
from rezonans.timeutil import DEFAULT_TZ

log = logging.getLogger(__name__)


@dataclass
class DemoReport:
    """The demo's report and where its files are."""

    redemptions: int = 0
    markdown: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def synthetic_redemptions(report_days: list[date], mentions_by_day: dict[str, Counter[str]], seed: int = 7) -> str:
    """A redemptions CSV that follows promo-code mentions one to two days later (demo data, stated as such)."""
    rng = random.Random(seed)
    lines = ["code,date,amount,channel"]
    for day in report_days:
        for code, count in sorted(mentions_by_day.get(day.isoformat(), Counter()).items()):
            for lag in (1, 2):
                for _ in range(rng.randint(count, 3 * count)):
                    when = day + timedelta(days=lag)
                    lines.append(
                        f"{code},{when.isoformat()},{rng.choice([500, 750, 1000, 1500])},"
                        f"{rng.choice(['app', 'web', 'branch'])}"
                    )
        if rng.random() < 0.5:  # background redemptions without any publicity
            lines.append(f"DEMO_BASELINE,{day.isoformat()},300,web")
    return "\n".join(lines) + "\n"


def report_demo(
    settings: Settings,
    scope: ReportScope,
    promo_days: dict[str, Counter[str]],
    week: str,
    now: datetime,
    out_html: Path | None = None,
    out_xlsx: Path | None = None,
    out_pdf: Path | None = None,
    language: str = "ru",
) -> DemoReport:
    """Import synthetic redemptions for the brand, build the week's report and write its HTML and XLSX files."""
    result = DemoReport()
    period = week_period(week, DEFAULT_TZ)
    client = connect(settings)
    with tempfile.TemporaryDirectory(prefix="rezonans-demo-") as tmp:
        csv_path = Path(tmp) / "demo-redemptions.csv"
        window = [period.start.date() - timedelta(days=14) + timedelta(days=i) for i in range(21)]
        csv_path.write_text(synthetic_redemptions(window, promo_days), encoding="utf-8")
        parsed = import_file(client, settings, csv_path, brand=scope.brand)
    with es_errors("refreshing the outcomes index"):
        client.indices.refresh(index=outcomes_index(settings))
    result.redemptions = len(parsed.rows)
    rep = build_report(client, settings, scope, period, generated_at=now)
    channel = scope.own_channels[0] if scope.own_channels else None
    rep["demo"] = {"channel": channel}  # rendered as the demo-data note in the report's language
    result.report = rep
    result.markdown = to_markdown(rep, language)
    if out_html:
        out_html.parent.mkdir(parents=True, exist_ok=True)
        out_html.write_text(to_html(rep, language), encoding="utf-8")
        result.files.append(str(out_html))
    if out_pdf:
        to_pdf(rep, out_pdf, language)
        result.files.append(str(out_pdf))
    if out_xlsx:
        to_xlsx(rep, out_xlsx, language)
        result.files.append(str(out_xlsx))
    return result
