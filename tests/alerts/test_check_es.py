"""The live path against the real Elasticsearch: index mentions, run `alerts check`/`watch`, read what was delivered."""

from __future__ import annotations

import json
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from alerts.rules import parse_config
from alerts.source import bucket_counts
from cli.main import app
from indexer.bulk import BulkWriter
from rezonans.model import Article, Mention, SourceRef

pytestmark = pytest.mark.es
HOUR = 3600


def _article(
    brand: str, i: int, when: datetime, negative: bool = False, cluster: str | None = None, source: str = "lenta"
) -> Article:
    text = f"{brand.title()} сообщил о новостях номер {i}."
    return Article(
        url=f"http://news{i % 5}.test/{brand}/{i}",
        source=SourceRef(name=f"{source}{i % 3}", weight=1 + i % 3),
        title=f"{brand.title()}: новость {i}",
        text=text,
        published_at=when,
        cluster=cluster,
        mentions=[
            Mention(
                brand=brand,
                start=0,
                end=len(brand),
                text=brand.title(),
                sentiment="negative" if negative else "neutral",
            ),
            Mention(brand=brand, start=20, end=20 + len(brand), text=brand.title()),
        ],
    )


@pytest.fixture(scope="module")
def corpus(es_settings):
    """72 quiet hours (2 articles/hour) and then a burst hour: 14 articles, 8 negative, one story of 6 reprints."""
    brand = f"acme{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(minute=10, second=0, microsecond=0)
    burst_start = now.replace(minute=0) - timedelta(hours=1)
    with BulkWriter(es_settings, refresh=True) as writer:
        i = 0
        for h in range(72, 1, -1):
            for k in range(2):
                writer.add(_article(brand, i, burst_start - timedelta(hours=h - 1, minutes=-(7 + 25 * k))))
                i += 1
        for k in range(14):
            writer.add(
                _article(
                    brand,
                    1000 + k,
                    burst_start + timedelta(minutes=2 + 4 * k),
                    negative=k < 8,
                    cluster="story-burst" if k < 6 else None,
                )
            )
    return {"brand": brand, "now": now, "burst_start": int(burst_start.timestamp())}


@pytest.fixture
def env(es_settings, tmp_path, monkeypatch):
    """The CLI reads settings from the environment: point it at the test prefix and a private home."""
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", es_settings.index_prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REZONANS_CONFIG", raising=False)
    return tmp_path


def _rules(path: Path, brand: str, hook: str, smtp=None, **extra) -> Path:
    channels = {"hook": {"type": "webhook", "url": f"{hook}/hook"}}
    if smtp is not None:
        channels["mail"] = {"type": "email", "host": smtp.host, "port": smtp.port, "to": ["pr@test.local"]}
    detector = {"bucket": "1h", "warmup": 24, "daily": False, "weekly": False, "sensitivity": "high"}
    data = {
        "history": "4d",
        "channels": channels,
        "retry": {"attempts": 2, "backoff": 0.1},
        "rules": [
            {
                "name": "volume",
                "brand": brand,
                "metric": "volume",
                **detector,
                "channels": ["hook", "mail"] if smtp is not None else ["hook"],
            },
            {"name": "negative", "brand": brand, "metric": "negative", **detector, "channels": ["hook"]},
            {
                "name": "story",
                "brand": brand,
                "metric": "new_story",
                "bucket": "2h",
                "min_articles": 5,
                "min_sources": 3,
                "channels": ["hook"],
            },
        ],
        **extra,
    }
    parse_config(data)  # the file we write is valid
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_nested_histogram_counts_articles_not_mentions(es_settings, corpus) -> None:
    from indexer.client import connect

    rule = parse_config({"rules": [{"name": "v", "brand": corpus["brand"], "bucket": "1h"}]}).rules[0]
    b = corpus["burst_start"]
    rows = bucket_counts(connect(es_settings), es_settings, rule, b - 3 * HOUR, b + 2 * HOUR)
    assert [(r.total, r.negative) for r in rows] == [(2, 0), (2, 0), (2, 0), (14, 8), (0, 0)]
    assert [r.ts for r in rows] == [b - 3 * HOUR, b - 2 * HOUR, b - HOUR, b, b + HOUR]


def test_check_delivers_explained_alerts_and_resumes(env, corpus, http_recorder, smtp_server) -> None:
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url, smtp_server, language="en")
    now = corpus["now"].isoformat()
    runner = CliRunner()
    result = runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", now, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["errors"] == {}
    kinds = {(a["rule"], a["kind"]) for a in report["alerts"]}
    assert kinds == {("volume", "spike"), ("negative", "spike"), ("story", "new_story")}

    posts = {p["json"]["rule"]: p["json"] for p in http_recorder.requests}
    volume = posts["volume"]
    assert volume["observed"] == 14 and 1.0 < volume["expected"] < 3.5
    assert volume["bucket_start"] == corpus["burst_start"] and volume["bucket_end"] == corpus["burst_start"] + HOUR
    assert volume["stories"] and all(corpus["brand"] in s["url"] for s in volume["stories"])
    assert len({s["url"] for s in volume["stories"]}) == len(volume["stories"])
    assert "Top stories:" in volume["text"] and "expected:" in volume["text"]
    assert posts["negative"]["observed"] == 8
    story = posts["story"]
    assert story["observed"] == 6 and story["extra"]["cluster"] == "story-burst" and story["extra"]["sources"] == 3
    assert len(smtp_server.messages) == 1 and "spike in volume" in smtp_server.messages[0]["data"]

    # Same time again: the state file says these buckets are done and the story was announced.
    again = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", now, "--json"]).stdout)
    assert again["alerts"] == [] and again["scored"]["volume"] == 0
    assert len(http_recorder.requests) == 3
    # An hour later exactly one more bucket is scored (empty: not anomalous at this level).
    later = (corpus["now"] + timedelta(hours=1)).isoformat()
    third = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", later, "--json"]).stdout)
    assert third["scored"]["volume"] == 1 and third["alerts"] == []
    state = json.loads((env / "home" / "alerts" / f"state-{env_prefix()}.json").read_text())
    assert state["rules"]["volume"]["next"] == corpus["burst_start"] + 2 * HOUR


def env_prefix() -> str:
    """The index prefix the CLI sees."""
    import os

    return os.environ["REZONANS_INDEX_PREFIX"]


def test_quiet_hours_hold_then_deliver(env, corpus, http_recorder) -> None:
    now = corpus["now"]
    start = (now - timedelta(minutes=30)).strftime("%H:%M")
    end = (now + timedelta(minutes=30)).strftime("%H:%M")
    rules = _rules(
        env / "rules.yaml",
        corpus["brand"],
        http_recorder.url,
        defaults={"quiet_hours": {"start": start, "end": end, "timezone": "UTC", "mode": "hold"}},
    )
    runner = CliRunner()
    held = json.loads(
        runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", now.isoformat(), "--json"]).stdout
    )
    assert held["held"] == 3 and held["delivered"] == [] and http_recorder.requests == []
    after = json.loads(
        runner.invoke(
            app,
            ["alerts", "check", "--rules", str(rules), "--now", (now + timedelta(minutes=40)).isoformat(), "--json"],
        ).stdout
    )
    assert len(after["delivered"]) == 3
    assert {p["json"]["rule"] for p in http_recorder.requests} == {"volume", "negative", "story"}
    assert all(
        p["json"]["held"] and "(задержано на время тихих часов)" in p["json"]["text"] for p in http_recorder.requests
    )


def test_watch_loop_checks_and_starts_crawls(env, corpus, http_recorder) -> None:
    marker = env / "crawled.txt"
    crawl = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('crawl\\n')"]
    rules = _rules(
        env / "rules.yaml",
        corpus["brand"],
        http_recorder.url,
        watch={"check_every": 1, "crawl_every": 1, "crawl_command": crawl},
    )
    result = CliRunner().invoke(app, ["alerts", "watch", "--rules", str(rules), "--max-iterations", "2"])
    assert result.exit_code == 0, result.output
    assert "проверок: 2" in result.stderr  # said in Russian by default
    assert marker.read_text().count("crawl") >= 1
    # The first check of a rule alerts only on the newest complete bucket: with real time that is the burst
    # hour only if the clock has not moved on; the story alert does not depend on bucket edges.
    assert "story" in {p["json"]["rule"] for p in http_recorder.requests}


def test_check_reports_es_errors_per_rule(env, corpus, http_recorder, monkeypatch) -> None:
    monkeypatch.setenv("REZONANS_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REZONANS_ES_TIMEOUT", "2")
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url)
    import os
    import subprocess

    done = subprocess.run(  # a real process: the log lines reach stderr as a user sees them
        [
            sys.executable,
            "-m",
            "cli.main",
            "alerts",
            "check",
            "--rules",
            str(rules),
            "--now",
            corpus["now"].isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert sum("rule volume failed" in line for line in lines) == 1 and "rule story failed" in done.stderr
    assert lines[-1].startswith("error: every rule failed") and "Traceback" not in done.stderr


def _check(rules: Path, when: datetime) -> dict:
    """One `alerts check --json` at a given time: exit 1 exactly when an alert reached no channel."""
    result = CliRunner().invoke(app, ["alerts", "check", "--rules", str(rules), "--now", when.isoformat(), "--json"])
    report = json.loads(result.stdout)
    failed = any(not d["ok"] for d in report["delivered"])
    assert result.exit_code == (1 if failed else 0), result.output
    if failed:
        assert "reached no channel" in result.stderr
    return report


def _state(env: Path) -> dict:
    """The state file the CLI wrote."""
    return json.loads((env / "home" / "alerts" / f"state-{env_prefix()}.json").read_text())


def test_undelivered_alerts_are_kept_and_arrive_exactly_once(env, corpus, http_recorder, caplog) -> None:
    caplog.set_level("INFO", logger="alerts")
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url)
    http_recorder.fail = 10_000  # the webhook answers HTTP 500 to everything
    first = _check(rules, corpus["now"])
    assert {a["rule"] for a in first["alerts"]} == {"volume", "negative", "story"}
    assert first["undelivered"] == 3 and first["given_up"] == 0 and http_recorder.requests == []
    assert not any(d["ok"] for d in first["delivered"])
    outbox = _state(env)["outbox"]
    assert sorted(e["rule"] for e in outbox) == ["negative", "story", "volume"]
    assert all(e["failed"] == 1 and "HTTP 500" in e["last_error"] for e in outbox)
    assert "reached no channel" in caplog.text and "tried again at the next check" in caplog.text

    # Still failing at the next check: kept, counted again, nothing scored twice.
    second = _check(rules, corpus["now"] + timedelta(minutes=5))
    assert second["alerts"] == [] and second["undelivered"] == 3 and http_recorder.requests == []
    assert all(e["failed"] == 2 for e in _state(env)["outbox"])

    http_recorder.fail = 0  # the receiver is back
    third = _check(rules, corpus["now"] + timedelta(minutes=10))
    assert third["alerts"] == [] and third["undelivered"] == 0
    assert [d["earlier_failures"] for d in third["delivered"]] == [2, 2, 2]
    assert "delivered after 2 failed check(s)" in caplog.text
    fourth = _check(rules, corpus["now"] + timedelta(minutes=15))
    assert fourth["delivered"] == [] and _state(env)["outbox"] == []
    posts = sorted(p["json"]["rule"] for p in http_recorder.requests)
    assert posts == ["negative", "story", "volume"]  # each alert exactly once
    volume = next(p["json"] for p in http_recorder.requests if p["json"]["rule"] == "volume")
    assert volume["observed"] == 14 and volume["bucket_start"] == corpus["burst_start"]


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_one_working_channel_is_enough_and_a_fixed_url_gets_the_rest(
    env, corpus, http_recorder, smtp_server, caplog
) -> None:
    caplog.set_level("INFO", logger="alerts")
    dead = f"http://127.0.0.1:{_closed_port()}"
    rules = _rules(env / "rules.yaml", corpus["brand"], dead, smtp_server)  # volume → [hook, mail]; others → [hook]
    first = _check(rules, corpus["now"])
    assert first["undelivered"] == 2
    from email import message_from_string, policy

    assert len(smtp_server.messages) == 1
    mail = message_from_string(smtp_server.messages[0]["data"], policy=policy.default)
    assert mail["Subject"].startswith("[Резонанс]") and "всплеск — упоминания" in mail["Subject"]
    assert re.search(r"в [\d,]+ раза больше обычного \(ожидали ≈ [12], пришло 14\)", mail.get_content())
    assert "delivered via mail; not via hook" in caplog.text
    assert sorted(e["rule"] for e in _state(env)["outbox"]) == ["negative", "story"]
    assert all("cannot reach" in e["last_error"] for e in _state(env)["outbox"])

    _rules(env / "rules.yaml", corpus["brand"], http_recorder.url, smtp_server)  # the operator fixes the URL
    second = _check(rules, corpus["now"] + timedelta(minutes=5))
    assert second["undelivered"] == 0 and second["scored"]["volume"] == 0  # same rules: detectors kept
    assert sorted(p["json"]["rule"] for p in http_recorder.requests) == ["negative", "story"]
    _check(rules, corpus["now"] + timedelta(minutes=10))
    assert len(http_recorder.requests) == 2 and len(smtp_server.messages) == 1  # the volume alert was not resent


def test_undelivered_alerts_are_given_up_after_max_age_and_beyond_max_size(env, corpus, http_recorder, caplog) -> None:
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url, outbox={"max_age": "1h", "max_size": 2})
    http_recorder.fail = 10_000
    first = _check(rules, corpus["now"])
    assert len(first["alerts"]) == 3 and first["given_up"] == 1 and first["undelivered"] == 2
    assert "more than 2 undelivered alerts are queued" in caplog.text
    later = _check(rules, corpus["now"] + timedelta(minutes=90))
    assert later["given_up"] == 2 and later["undelivered"] == 0 and later["delivered"] == []
    assert "no channel accepted it in 1 checks over 90m" in caplog.text
    http_recorder.fail = 0
    _check(rules, corpus["now"] + timedelta(minutes=100))
    assert http_recorder.requests == []


def test_watch_retries_undelivered_alerts_on_its_next_tick(es_settings, corpus, http_recorder, tmp_path) -> None:
    from alerts.check import watch

    settings = es_settings.model_copy(update={"home": tmp_path / "home"})
    config = parse_config(
        yaml.safe_load(_rules(tmp_path / "rules.yaml", corpus["brand"], http_recorder.url).read_text(encoding="utf-8"))
    )
    results = []

    def on_result(result) -> None:
        results.append(result)
        http_recorder.fail = 0  # the receiver recovers after the first tick

    http_recorder.fail = 10_000
    stats = watch(settings, config, max_iterations=2, check_every=1, on_result=on_result, sleep=lambda s: None)
    assert stats.iterations == 2 and stats.errors == 0
    assert results[0].undelivered >= 1 and http_recorder.fail == 0
    assert results[1].undelivered == 0
    rules = [p["json"]["rule"] for p in http_recorder.requests]
    assert "story" in rules and len(rules) == len(set(rules)) == results[0].undelivered


def test_rules_file_timezone_reaches_quiet_hours_detectors_and_texts(env, corpus, http_recorder) -> None:
    from zoneinfo import ZoneInfo

    now = corpus["now"]
    moscow = now.astimezone(ZoneInfo("Europe/Moscow"))
    window = {
        "start": (moscow - timedelta(minutes=30)).strftime("%H:%M"),
        "end": (moscow + timedelta(minutes=30)).strftime("%H:%M"),
        "mode": "hold",
    }  # no zone: the file's
    rules = _rules(
        env / "rules.yaml",
        corpus["brand"],
        http_recorder.url,
        timezone="Europe/Moscow",
        defaults={"quiet_hours": window},
    )
    held = _check(rules, now)
    assert held["held"] == 3 and http_recorder.requests == []  # quiet in Moscow time (it would not be in UTC)
    assert _state(env)["rules"]["volume"]["detector"]["settings"]["timezone"] == "Europe/Moscow"
    after = _check(rules, now + timedelta(minutes=40))
    assert len(after["delivered"]) == 3 and after["undelivered"] == 0
    volume = next(p["json"] for p in http_recorder.requests if p["json"]["rule"] == "volume")
    start = datetime.fromtimestamp(corpus["burst_start"], ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M")
    assert f"Когда: {start}" in volume["text"] and "Europe/Moscow" in volume["text"]
    assert re.search(r"в [\d,]+ раза больше обычного \(ожидали ≈ [12], пришло 14\)", volume["text"])


def test_all_clear_follows_when_the_event_is_over(env, corpus, http_recorder) -> None:
    """After the burst, quiet buckets end the event: one 'всё спокойно' message per event, in Russian."""
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url)
    first = _check(rules, corpus["now"])
    assert {(a["rule"], a["kind"]) for a in first["alerts"]} >= {("volume", "spike")}
    later = _check(rules, corpus["now"] + timedelta(hours=4))
    clear = [a for a in later["alerts"] if a["kind"] == "all_clear"]
    assert [a["rule"] for a in clear if a["rule"] == "volume"] == ["volume"]
    volume = next(a for a in clear if a["rule"] == "volume")
    assert volume["event_start"] == corpus["burst_start"] and volume["bucket_start"] > corpus["burst_start"]
    texts = [p["json"]["text"] for p in http_recorder.requests if p["json"]["kind"] == "all_clear"]
    assert any(t.startswith("[Резонанс]") and "всё спокойно" in t for t in texts)
    again = _check(rules, corpus["now"] + timedelta(hours=6))
    assert not [a for a in again["alerts"] if a["kind"] == "all_clear"]


def test_saved_search_rule_counts_what_the_search_finds(es_settings, corpus, env) -> None:
    from alerts.check import run_check
    from alerts.source import resolve_rule
    from indexer.client import connect
    from search.saved import SearchFilters, save_search

    client = connect(es_settings)
    brand, b = corpus["brand"], corpus["burst_start"]
    name = f"лента1-{brand}"
    save_search(client, es_settings, name, "новость", SearchFilters(brands=[brand], source="lenta1"))
    saved_rule = parse_config({"rules": [{"name": "s", "saved": name, "bucket": "1h"}]}).rules[0]
    resolved = resolve_rule(client, es_settings, saved_rule)
    assert resolved.brand == brand and resolved.es_query  # the saved search's one brand and its query
    same = parse_config(
        {"rules": [{"name": "q", "brand": brand, "query": "новость AND source:lenta1", "bucket": "1h"}]}
    ).rules[0]
    window = (b - 3 * HOUR, b + HOUR)
    saved_rows = [r.total for r in bucket_counts(client, es_settings, resolved, *window)]
    query_rows = [r.total for r in bucket_counts(client, es_settings, same, *window)]
    everything = [r.total for r in bucket_counts(client, es_settings, same.model_copy(update={"query": None}), *window)]
    assert saved_rows == query_rows and 0 < saved_rows[-1] < everything[-1] == 14  # the saved filters apply

    missing = parse_config({"rules": [{"name": "m", "saved": "нет-такого", "bucket": "1h"}]})
    result = run_check(es_settings.model_copy(update={"home": env / "home"}), missing, client=client)
    assert "нет-такого" in result.errors["m"]  # a missing saved search fails its rule with the name in the error
