"""The live path against the real Elasticsearch: index mentions, run `alerts check`/`watch`, read what was delivered."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
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


def _article(brand: str, i: int, when: datetime, negative: bool = False, cluster: str | None = None,
             source: str = "lenta") -> Article:
    text = f"{brand.title()} сообщил о новостях номер {i}."
    return Article(
        url=f"http://news{i % 5}.test/{brand}/{i}", source=SourceRef(name=f"{source}{i % 3}", weight=1 + i % 3),
        title=f"{brand.title()}: новость {i}", text=text, published_at=when, cluster=cluster,
        mentions=[Mention(brand=brand, start=0, end=len(brand), text=brand.title(),
                          sentiment="negative" if negative else "neutral"),
                  Mention(brand=brand, start=20, end=20 + len(brand), text=brand.title())])


@pytest.fixture(scope="module")
def corpus(es_settings):
    """72 quiet hours (2 articles/hour) and then a burst hour: 14 articles, 8 negative, one story of 6 reprints."""
    brand = f"acme{uuid.uuid4().hex[:6]}"
    now = datetime.now(timezone.utc).replace(minute=10, second=0, microsecond=0)
    burst_start = now.replace(minute=0) - timedelta(hours=1)
    with BulkWriter(es_settings, refresh=True) as writer:
        i = 0
        for h in range(72, 1, -1):
            for k in range(2):
                writer.add(_article(brand, i, burst_start - timedelta(hours=h - 1, minutes=-(7 + 25 * k))))
                i += 1
        for k in range(14):
            writer.add(_article(brand, 1000 + k, burst_start + timedelta(minutes=2 + 4 * k), negative=k < 8,
                                cluster="story-burst" if k < 6 else None))
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
    detector = {"bucket": "1h", "warmup": 24, "daily": False, "weekly": False}
    data = {
        "history": "4d",
        "channels": channels,
        "retry": {"attempts": 2, "backoff": 0.1},
        "rules": [
            {"name": "volume", "brand": brand, "metric": "volume", **detector,
             "channels": ["hook", "mail"] if smtp is not None else ["hook"]},
            {"name": "negative", "brand": brand, "metric": "negative", **detector, "channels": ["hook"]},
            {"name": "story", "brand": brand, "metric": "new_story", "bucket": "2h", "min_articles": 5,
             "min_sources": 3, "channels": ["hook"]},
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
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url, smtp_server)
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
    again = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", now,
                                           "--json"]).stdout)
    assert again["alerts"] == [] and again["scored"]["volume"] == 0
    assert len(http_recorder.requests) == 3
    # An hour later exactly one more bucket is scored (empty: not anomalous at this level).
    later = (corpus["now"] + timedelta(hours=1)).isoformat()
    third = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", later,
                                           "--json"]).stdout)
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
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url,
                   defaults={"quiet_hours": {"start": start, "end": end, "timezone": "UTC", "mode": "hold"}})
    runner = CliRunner()
    held = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now", now.isoformat(),
                                          "--json"]).stdout)
    assert held["held"] == 3 and held["delivered"] == [] and http_recorder.requests == []
    after = json.loads(runner.invoke(app, ["alerts", "check", "--rules", str(rules), "--now",
                                           (now + timedelta(minutes=40)).isoformat(), "--json"]).stdout)
    assert len(after["delivered"]) == 3
    assert {p["json"]["rule"] for p in http_recorder.requests} == {"volume", "negative", "story"}
    assert all(p["json"]["held"] and "(held during quiet hours)" in p["json"]["text"] for p in http_recorder.requests)


def test_watch_loop_checks_and_starts_crawls(env, corpus, http_recorder) -> None:
    marker = env / "crawled.txt"
    crawl = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('crawl\\n')"]
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url,
                   watch={"check_every": 1, "crawl_every": 1, "crawl_command": crawl})
    result = CliRunner().invoke(app, ["alerts", "watch", "--rules", str(rules), "--max-iterations", "2"])
    assert result.exit_code == 0, result.output
    assert "checks: 2" in result.stderr
    assert marker.read_text().count("crawl") >= 1
    # The first check of a rule alerts only on the newest complete bucket: with real time that is the burst
    # hour only if the clock has not moved on; the story alert does not depend on bucket edges.
    assert "story" in {p["json"]["rule"] for p in http_recorder.requests}


def test_check_reports_es_errors_per_rule(env, corpus, http_recorder, monkeypatch) -> None:
    monkeypatch.setenv("REZONANS_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REZONANS_ES_TIMEOUT", "2")
    rules = _rules(env / "rules.yaml", corpus["brand"], http_recorder.url)
    result = CliRunner().invoke(app, ["alerts", "check", "--rules", str(rules), "--now", corpus["now"].isoformat()])
    assert result.exit_code == 1
    assert "rule volume failed" in result.stderr and "rule story failed" in result.stderr
