"""`check`: score the buckets completed since the last run for every rule and deliver alerts; `watch`: loop it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from alerts import source
from alerts.channels import deliver
from alerts.detector import CountDetector, ShareDetector, from_state
from alerts.message import Alert
from alerts.rules import AlertsConfig, Rule, utcnow
from indexer.client import connect
from rezonans.config import Settings
from rezonans.files import private_dir, private_file
from rezonans.timeutil import format_duration

log = logging.getLogger(__name__)

STATE_VERSION = 1
#: A story cluster that alerted once stays quiet this long.
STORY_MEMORY = 7 * 86400


def state_path(settings: Settings) -> Path:
    """Where detector state lives between runs (one file per index prefix)."""
    return settings.home / "alerts" / f"state-{settings.index_prefix}.json"


def _fresh_state() -> dict[str, Any]:
    """An empty state: per-rule detectors, alerts held in quiet hours, alerts not yet delivered."""
    return {"version": STATE_VERSION, "rules": {}, "held": [], "outbox": []}


def load_state(path: Path) -> dict[str, Any]:
    """Read the state file; a missing or unreadable file starts afresh (the broken one is kept aside)."""
    if not path.is_file():
        return _fresh_state()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"state version {data.get('version')}")
        data.setdefault("rules", {})
        data.setdefault("held", [])
        data.setdefault("outbox", [])  # state files written before the outbox existed
        return data
    except (json.JSONDecodeError, ValueError, AttributeError) as exc:
        aside = path.with_suffix(f".broken-{int(time.time())}")
        path.rename(aside)
        log.error("alert state %s was unreadable (%s); kept as %s, starting afresh", path, exc, aside)
        return _fresh_state()


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write atomically (temp file + rename), readable by its owner only (it may name webhook targets)."""
    private_dir(path.parent)
    tmp = private_file(path.with_suffix(".tmp"))
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class CheckResult:
    """What one check did."""

    alerts: list[Alert] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    dropped: int = 0
    scored: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    undelivered: int = 0
    given_up: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For --json."""
        return {
            "alerts": [a.as_dict() for a in self.alerts],
            "delivered": self.delivered,
            "held": self.held,
            "dropped": self.dropped,
            "scored": self.scored,
            "errors": self.errors,
            "undelivered": self.undelivered,
            "given_up": self.given_up,
        }


def _subject(rule: Rule) -> str:
    """Human name of what a rule watches."""
    if rule.brand and rule.query:
        return f"{rule.brand} / {rule.query}"
    return rule.brand or rule.query or rule.name


def _check_series(
    client: Elasticsearch, settings: Settings, config: AlertsConfig, rule: Rule, rstate: dict[str, Any], now: int
) -> tuple[list[Alert], int]:
    """Feed the rule's detector every bucket completed since it last ran; return new alerts and points scored."""
    b = rule.bucket
    end = ((now - rule.settle) // b) * b  # buckets before `end` are complete
    det: CountDetector | ShareDetector
    first_run = "detector" not in rstate
    if first_run:
        settings_ = rule.detector_settings()
        det = ShareDetector(b, settings_) if rule.metric == "negative_share" else CountDetector(b, settings_)
        history = max(2 * det.p["warmup"], config.history // b)
        start = end - min(history, 20000) * b
    else:
        det = from_state(rstate["detector"])
        start = int(rstate["next"])
    if start >= end:
        return [], 0
    buckets = source.bucket_counts(client, settings, rule, start, end)
    alerts: list[Alert] = []
    for bk in buckets:
        if isinstance(det, ShareDetector):
            point = det.update(bk.ts, bk.negative, bk.total)
        else:
            point = det.update(bk.ts, bk.negative if rule.metric == "negative" else bk.total)
        extra = {"brand": rule.brand, "display": rule.display or rule.brand or _subject(rule)}
        # The "all clear" of an event that was announced (not of one that started in the backfilled past).
        if point.ended and point.event_start is not None and rstate.get("open_event") == point.event_start:
            rstate.pop("open_event", None)
            alerts.append(
                Alert(
                    rule.name,
                    rule.metric,
                    "all_clear",
                    _subject(rule),
                    bk.ts,
                    bk.ts + b,
                    point.event_start,
                    point.value,
                    point.expected,
                    point.score,
                    1.0,
                    b,
                    [],
                    extra=extra,
                    language=config.language,
                )
            )
        # On the first run only the newest bucket may alert: the backfilled past is history, not news.
        if point.alert and (not first_run or bk.ts == end - b):
            event_start = point.event_start or bk.ts
            rstate["open_event"] = event_start
            stories = source.top_stories(
                client,
                settings,
                rule,
                event_start,
                bk.ts + b,
                config.top_stories,
                negative_only=rule.metric != "volume",
            )
            alerts.append(
                Alert(
                    rule.name,
                    rule.metric,
                    point.kind or "spike",
                    _subject(rule),
                    bk.ts,
                    bk.ts + b,
                    event_start,
                    point.value,
                    point.expected,
                    point.score,
                    point.p_value,
                    b,
                    stories,
                    extra=extra,
                    language=config.language,
                )
            )
    rstate["detector"] = det.state()
    rstate["next"] = end
    return alerts, len(buckets)


def _check_stories(
    client: Elasticsearch, settings: Settings, rule: Rule, rstate: dict[str, Any], now: int
) -> list[Alert]:
    """Alert once per reprint cluster that reached the rule's size within the last bucket-long window."""
    seen: dict[str, int] = rstate.setdefault("stories", {})
    for key in [k for k, t in seen.items() if t < now - STORY_MEMORY]:
        del seen[key]
    start = now - rule.bucket
    alerts = []
    for c in source.growing_clusters(client, settings, rule, start, now, rule.min_articles, rule.min_sources):
        if c["cluster"] in seen:
            continue
        seen[c["cluster"]] = now
        stories = [
            {
                "title": c["title"],
                "url": c["url"],
                "source": c["source"],
                "published_at": c["published_at"],
                "cluster": c["cluster"],
            }
        ]
        stories += [
            s
            for s in source.top_stories(
                client,
                settings,
                rule.model_copy(update={"es_query": {"term": {"cluster": c["cluster"]}}, "query": None}),
                start,
                now,
                4,
            )
            if s["url"] != c["url"]
        ][:4]
        alerts.append(
            Alert(
                rule.name,
                "new_story",
                "new_story",
                _subject(rule),
                start,
                now,
                start,
                c["articles"],
                rule.min_articles,
                1.0,
                1.0,
                rule.bucket,
                stories,
                extra={"cluster": c["cluster"], "sources": c["sources"], "title": c["title"]},
            )
        )
    return alerts


def run_check(
    settings: Settings,
    config: AlertsConfig,
    now: datetime | None = None,
    client: Elasticsearch | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """One pass over all rules: score new buckets, deliver (or hold) alerts, save state."""
    now_dt = (now or utcnow()).astimezone(UTC)
    now_ts = int(now_dt.timestamp())
    client = client or connect(settings)
    path = state_path(settings)
    state = load_state(path)
    result = CheckResult()
    to_send: list[tuple[Rule, Alert]] = []
    rules_by_name = {r.name: r for r in config.rules}
    # Alerts held during quiet hours go out first once the quiet hours are over.
    still_held = []
    for item in state["held"]:
        rule = rules_by_name.get(item.get("rule", ""))
        if rule is None:
            continue
        if rule.quiet_hours and rule.quiet_hours.active(now_dt):
            still_held.append(item)
        else:
            alert = Alert.from_dict(item)
            alert.held = True
            to_send.append((rule, alert))
    state["held"] = still_held
    for rule in config.rules:
        if not rule.enabled:
            continue
        try:
            rule = source.resolve_rule(client, settings, rule)  # a saved search becomes the rule's query
        except Exception as exc:  # a missing saved search fails this rule only
            log.error("rule %s failed: %s", rule.name, exc)
            result.errors[rule.name] = str(exc)
            continue
        rstate = state["rules"].get(rule.name)
        if rstate is None or rstate.get("fingerprint") != rule.fingerprint():
            if rstate is not None:
                log.info("rule %s changed: its detector starts afresh", rule.name)
            rstate = {"fingerprint": rule.fingerprint()}
        try:
            if rule.metric == "new_story":
                alerts, scored = _check_stories(client, settings, rule, rstate, now_ts), 0
            else:
                alerts, scored = _check_series(client, settings, config, rule, rstate, now_ts)
        except Exception as exc:  # one rule failing (ES down, bad query) must not stop the others
            log.error("rule %s failed: %s", rule.name, exc)
            result.errors[rule.name] = str(exc)
            continue
        state["rules"][rule.name] = rstate
        result.scored[rule.name] = scored
        for alert in alerts:
            result.alerts.append(alert)
            if rule.quiet_hours and rule.quiet_hours.active(now_dt):
                if rule.quiet_hours.mode == "hold":
                    state["held"].append(alert.as_dict())
                    result.held += 1
                else:
                    log.info("alert %s dropped (quiet hours)", rule.name)
                    result.dropped += 1
            else:
                to_send.append((rule, alert))
    outbox: list[dict[str, Any]] = state["outbox"]
    if outbox:
        log.info("%d alert(s) not delivered by earlier checks: trying again", len(outbox))
    queued = {entry["key"] for entry in outbox}
    for rule, alert in to_send:
        key = alert_key(alert)
        if key not in queued:
            queued.add(key)
            outbox.append(
                {
                    "key": key,
                    "rule": rule.name,
                    "alert": alert.as_dict(),
                    "since": now_ts,
                    "failed": 0,
                    "last_error": "",
                }
            )
    result.given_up += _expire(outbox, config, now_ts)
    # Saved before delivery: a crash while sending neither re-scores buckets nor loses the queued alerts.
    save_state(path, state)
    for entry in list(outbox):
        if _deliver_entry(entry, config, rules_by_name, now_dt, result, sleep):
            outbox.remove(entry)
        save_state(path, state)  # after each alert, so a crash repeats at most the one being sent
    if len(outbox) > config.outbox.max_size:
        result.given_up += _cap(outbox, config)
        save_state(path, state)
    result.undelivered = len(outbox)
    return result


def alert_key(alert: Alert) -> str:
    """Identity of an alert in the outbox (each bucket is scored once, so a key never comes back)."""
    return f"{alert.rule}|{alert.kind}|{alert.bucket_start}|{alert.extra.get('cluster', '')}"


def _describe(entry: dict[str, Any]) -> str:
    """'volume (spike, bucket 2026-05-28T12:00:00+00:00)' for log lines."""
    a = entry["alert"]
    return f"{entry['rule']} ({a.get('kind')}, bucket {a.get('bucket_start_iso') or a.get('bucket_start')})"


def _expire(outbox: list[dict[str, Any]], config: AlertsConfig, now_ts: int) -> int:
    """Give up on failed alerts first queued more than `outbox.max_age` ago; return how many."""
    gone = 0
    for entry in [e for e in outbox if e["failed"] > 0 and now_ts - e["since"] > config.outbox.max_age]:
        outbox.remove(entry)
        gone += 1
        log.error(
            "gave up on alert %s: no channel accepted it in %d checks over %s (last error: %s); raise "
            "outbox.max_age in the rules file to keep alerts longer",
            _describe(entry),
            entry["failed"],
            format_duration(now_ts - entry["since"]),
            entry["last_error"],
        )
    return gone


def _cap(outbox: list[dict[str, Any]], config: AlertsConfig) -> int:
    """Give up on the oldest undelivered alerts beyond `outbox.max_size`; return how many."""
    gone = 0
    while len(outbox) > config.outbox.max_size:
        entry = outbox.pop(0)
        gone += 1
        log.error(
            "gave up on alert %s: more than %d undelivered alerts are queued (outbox.max_size); fix the "
            "channels (last error: %s)",
            _describe(entry),
            config.outbox.max_size,
            entry["last_error"],
        )
    return gone


def _deliver_entry(
    entry: dict[str, Any],
    config: AlertsConfig,
    rules_by_name: dict[str, Rule],
    now_dt: datetime,
    result: CheckResult,
    sleep: Callable[[float], None],
) -> bool:
    """Send one queued alert to its rule's channels; True when it is done (delivered or cannot be sent any more)."""
    rule = rules_by_name.get(entry["rule"])
    if rule is None or not rule.enabled:
        log.warning(
            "undelivered alert %s dropped: rule %s is no longer in the rules file (or is disabled)",
            _describe(entry),
            entry["rule"],
        )
        result.given_up += 1
        return True
    if rule.quiet_hours and rule.quiet_hours.active(now_dt):
        return False  # only a retry can meet quiet hours here: it waits until they are over
    alert = Alert.from_dict(entry["alert"])
    outcome = deliver(alert, config.channels, config.channels_for(rule), config.retry, rule.zone, sleep)
    ok = [name for name, status in outcome.items() if status == "ok"]
    failed = {name: status for name, status in outcome.items() if status != "ok"}
    result.delivered.append(
        {
            "rule": rule.name,
            "kind": alert.kind,
            "bucket_start": alert.bucket_start,
            "channels": outcome,
            "ok": bool(ok),
            "earlier_failures": entry["failed"],
        }
    )
    if not outcome:
        log.warning("alert %s has no channel to go to: define channels: in the rules file", _describe(entry))
        return True
    if ok:
        if failed:
            log.warning(
                "alert %s delivered via %s; not via %s (those channels are not retried for it)",
                _describe(entry),
                ", ".join(ok),
                ", ".join(f"{n} ({e})" for n, e in failed.items()),
            )
        if entry["failed"]:
            log.info("alert %s delivered after %d failed check(s)", _describe(entry), entry["failed"])
        return True
    entry["failed"] += 1
    entry["last_error"] = "; ".join(f"{name}: {status.removeprefix('error: ')}" for name, status in failed.items())
    log.error(
        "alert %s reached no channel (%s); kept in the outbox and tried again at the next check "
        "(failed checks: %d; given up after %s)",
        _describe(entry),
        entry["last_error"],
        entry["failed"],
        format_duration(config.outbox.max_age),
    )
    return False


@dataclass
class WatchStats:
    """What a watch loop did."""

    iterations: int = 0
    alerts: int = 0
    crawls_started: int = 0
    crawl_failures: int = 0
    errors: int = 0


def watch(
    settings: Settings,
    config: AlertsConfig,
    max_iterations: int | None = None,
    check_every: int | None = None,
    crawl_every: int | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WatchStats:
    """Check every `check_every` seconds; start `rezonans crawl ...` every `crawl_every` seconds (never two at once)."""
    check_every = check_every or config.watch.check_every
    crawl_every = crawl_every if crawl_every is not None else config.watch.crawl_every
    stats = WatchStats()
    crawl: subprocess.Popen[bytes] | None = None
    crawl_started = 0.0
    next_crawl = clock()
    client = connect(settings)
    while max_iterations is None or stats.iterations < max_iterations:
        started = clock()
        if crawl is not None and crawl.poll() is not None:
            if crawl.returncode != 0:
                stats.crawl_failures += 1
                log.error("crawl exited with code %s", crawl.returncode)
            crawl = None
        if crawl is not None and started - crawl_started > config.watch.crawl_timeout:
            log.error("crawl ran longer than %ss: stopping it", config.watch.crawl_timeout)
            crawl.kill()
            crawl.wait()
            stats.crawl_failures += 1
            crawl = None
        if crawl_every and crawl is None and started >= next_crawl:
            try:
                crawl = subprocess.Popen(config.watch.crawl_command)
                crawl_started = started
                stats.crawls_started += 1
                log.info("crawl started: %s", " ".join(config.watch.crawl_command))
            except OSError as exc:
                stats.crawl_failures += 1
                log.error("cannot start the crawl %s: %s", config.watch.crawl_command, exc)
            next_crawl = started + crawl_every
        try:
            result = run_check(settings, config, client=client)
            stats.alerts += len(result.alerts)
            stats.errors += len(result.errors)
            if on_result:
                on_result(result)
        except Exception as exc:  # the loop survives a failed check and tries again next time
            stats.errors += 1
            log.error("check failed: %s", exc)
        stats.iterations += 1
        if max_iterations is not None and stats.iterations >= max_iterations:
            break
        sleep(max(0.0, check_every - (clock() - started)))
    if crawl is not None:
        try:
            crawl.wait(timeout=config.watch.crawl_timeout)
        except subprocess.TimeoutExpired:
            crawl.kill()
    return stats
