"""`rezonans alerts backtest|check|watch|validate`: anomaly alerts on mention volume and tone."""

from __future__ import annotations

import json
import sys
from datetime import UTC
from pathlib import Path

import typer

from cli.messages import MESSAGES, say
from rezonans.config import load_settings
from rezonans.errors import ServiceError, UserError

alerts_app = typer.Typer(help="Alerts on sudden changes in mention volume and tone.", no_args_is_help=True)

RULES_HELP = "Rules file (YAML); see examples/alerts.yaml."


def _duration(value: str, option: str) -> int:
    """A duration option in seconds, or a UserError naming the option."""
    from rezonans.timeutil import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UserError(f"{option}: {exc}") from None


@alerts_app.command("backtest")
def backtest_cmd(
    csv_file: Path = typer.Option(..., "--csv", help="CSV with timestamp,value[,total] ('-' for stdin)."),
    bucket: str | None = typer.Option(None, help="Bucket size (5m, 1h, 1d); inferred from the data if not given."),
    sensitivity: str = typer.Option("medium", help="low, medium, high or a score threshold in (0, 1)."),
    warmup: int | None = typer.Option(None, help="Buckets scored 0 while the baseline learns (default: 1 week)."),
    cooldown: int | None = typer.Option(None, help="Quiet buckets that end an event (default: 2 hours' worth)."),
    min_delta: float = typer.Option(3.0, help="Smallest |observed - expected| that may alert."),
    daily: bool = typer.Option(True, help="Model the hour-of-day profile."),
    weekly: bool = typer.Option(True, help="Model the day-of-week profile."),
    gaps: str = typer.Option("zero", help="Missing buckets: zero (as the live check sees them) or skip."),
    rules: Path | None = typer.Option(None, help="Take the detector settings of --rule from this rules file."),
    rule: str | None = typer.Option(None, help="Rule name in --rules."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stderr."),
) -> None:
    """Score a past series exactly as the live check would: CSV on stdout, summary on stderr."""
    from alerts.backtest import backtest, read_series, write_points
    from alerts.detector import DetectorSettings
    from alerts.rules import load_config

    if gaps not in ("zero", "skip"):
        raise UserError("--gaps must be zero or skip")
    if rules is not None:
        config = load_config(rules)
        chosen = next((r for r in config.rules if r.name == rule), None) if rule else config.rules[0]
        if chosen is None:
            known = ", ".join(r.name for r in config.rules)
            raise UserError(f"no rule {rule!r} in {rules}: known rules are {known}")
        det_settings = chosen.detector_settings()
        interval: int | None = chosen.bucket if bucket is None else _duration(bucket, "--bucket")
    else:
        try:
            sens: str | float = sensitivity if sensitivity in ("low", "medium", "high") else float(sensitivity)
            det_settings = DetectorSettings(
                sensitivity=sens, warmup=warmup, cooldown=cooldown, min_delta=min_delta, daily=daily, weekly=weekly
            )
        except ValueError as exc:
            raise UserError(f"--sensitivity: {str(exc).splitlines()[0]}") from None
        interval = _duration(bucket, "--bucket") if bucket else None
    if str(csv_file) == "-":
        series = read_series(sys.stdin, interval, gaps)  # type: ignore[arg-type]
    else:
        if not csv_file.is_file():
            raise UserError(f"{csv_file} does not exist: check the path")
        try:
            with csv_file.open(encoding="utf-8-sig", newline="") as fh:
                series = read_series(fh, interval, gaps)  # type: ignore[arg-type]
        except UnicodeDecodeError:
            raise UserError(f"{csv_file} is not UTF-8 text: save the CSV as UTF-8") from None
    result = backtest(series, det_settings)
    write_points(result, sys.stdout)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps({**summary, "bad_row_details": series.bad_rows[:100]}, ensure_ascii=False), err=True)
        return
    for line in series.bad_rows[:20]:
        typer.echo(f"bad row: {line}", err=True)
    if len(series.bad_rows) > 20:
        typer.echo(f"... and {len(series.bad_rows) - 20} more bad rows", err=True)
    for ts, n in series.gaps[:10]:
        from alerts.backtest import iso

        typer.echo(
            f"gap: {n} bucket(s) missing from {iso(ts)}" + (" (filled with 0)" if gaps == "zero" else " (skipped)"),
            err=True,
        )
    typer.echo(
        f"points: {summary['points']}  interval: {summary['interval']}  warm-up: {summary['warmup_buckets']} buckets  "
        f"threshold: {summary['threshold']}\n"
        f"anomalous points: {summary['anomalous_points']}  alerts: {summary['alerts']}  "
        f"events: {summary['events']}  gaps: {summary['gaps']} ({summary['gap_buckets']} buckets)  "
        f"bad rows: {summary['bad_rows']}",
        err=True,
    )


@alerts_app.command("check")
def check_cmd(
    rules: Path = typer.Option(..., "--rules", "-r", help=RULES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print what happened as JSON."),
    now: str | None = typer.Option(None, help="Check as of this ISO 8601 time instead of now (replays, tests)."),
) -> None:
    """One pass: score the buckets completed since the last check and deliver alerts."""
    from alerts.check import run_check
    from alerts.rules import load_config

    config = load_config(rules)
    settings = load_settings()
    when = None
    if now:
        from datetime import datetime

        try:
            when = datetime.fromisoformat(now)
        except ValueError:
            raise UserError(f"--now {now!r}: write an ISO 8601 time such as 2026-12-03T10:00+03:00") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    result = run_check(settings, config, now=when)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            say(
                "alerts.checked",
                settings.language,
                rules=len(config.rules),
                scored=sum(result.scored.values()),
                alerts=len(result.alerts),
                held=result.held,
                dropped=result.dropped,
            ),
            err=True,
        )
    if result.errors and len(result.errors) == len([r for r in config.rules if r.enabled]):
        raise ServiceError(f"every rule failed ({len(result.errors)}); the reasons are above")
    if any(not d["ok"] for d in result.delivered):  # an alert reached no channel: cron and CI must notice
        raise ServiceError("an alert reached no channel (kept in the outbox; see the log above)")


@alerts_app.command("watch")
def watch_cmd(
    rules: Path = typer.Option(..., "--rules", "-r", help=RULES_HELP),
    check_every: str | None = typer.Option(None, help="Seconds or 5m/1h between checks (default from rules)."),
    crawl_every: str | None = typer.Option(None, help="Start `rezonans crawl` this often (e.g. 30m); 0 = never."),
    max_iterations: int | None = typer.Option(None, help="Stop after this many checks (default: run forever)."),
) -> None:
    """Check in a loop, and run crawls on a schedule in a separate process."""
    from alerts.check import watch
    from alerts.rules import load_config

    config = load_config(rules)
    settings = load_settings()
    every = _duration(check_every, "--check-every") if check_every else None
    crawl = None if crawl_every is None else (0 if crawl_every == "0" else _duration(crawl_every, "--crawl-every"))
    stats = watch(settings, config, max_iterations=max_iterations, check_every=every, crawl_every=crawl)
    typer.echo(
        say(
            "alerts.watched",
            settings.language,
            checks=stats.iterations,
            alerts=stats.alerts,
            crawls=stats.crawls_started,
            failures=stats.crawl_failures,
            errors=stats.errors,
        ),
        err=True,
    )


@alerts_app.command("validate")
def validate_cmd(rules: Path = typer.Option(..., "--rules", "-r", help=RULES_HELP)) -> None:
    """Check a rules file and list its rules."""
    from alerts.rules import load_config

    config = load_config(rules)
    lang = load_settings().language
    for r in config.rules:
        what = r.brand or ""
        what += f" query={r.query!r}" if r.query else (f" saved={r.saved!r}" if r.saved else "")
        what += " es_query" if r.es_query else ""
        typer.echo(
            say(
                "alerts.rule",
                lang,
                name=r.name,
                metric=say(f"alerts.metric.{r.metric}", lang) if f"alerts.metric.{r.metric}" in MESSAGES else r.metric,
                what=what.strip(),
                bucket=r.bucket,
                sensitivity=r.sensitivity,
                channels=", ".join(config.channels_for(r)),
            )
        )


@alerts_app.command("reset")
def reset_cmd(rule: str | None = typer.Option(None, help="Forget only this rule's state.")) -> None:
    """Forget detector state so the next check learns from history again."""
    from alerts.check import state_path

    settings = load_settings()
    path = state_path(settings)
    if not path.exists():
        typer.echo(say("alerts.no_state", settings.language))
        return
    if rule is None:
        path.unlink()
        typer.echo(say("alerts.removed", settings.language, path=path))
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    data.get("rules", {}).pop(rule, None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    typer.echo(say("alerts.forgot", settings.language, rule=rule))


def register(app: typer.Typer) -> None:
    """Add the `alerts` group to the main app."""
    app.add_typer(alerts_app, name="alerts")
