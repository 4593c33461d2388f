"""Backtest CLI, rules file validation, quiet hours and delivery channels (all local)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alerts.backtest import backtest, read_series
from alerts.channels import deliver
from alerts.detector import CountDetector, DetectorSettings
from alerts.message import Alert
from alerts.rules import QuietHours, Retry, load_config, parse_config
from alerts.synthetic import Injection, make_series
from cli.main import app
from rezonans.config import ConfigError

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows), encoding="utf-8")
    return path


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_backtest_cli_matches_live_detector_and_reports_problems(tmp_path: Path) -> None:
    inj = Injection("spike", 11 * 288 + 144, 1, 16.0)  # Friday noon, week 2
    series = make_series(4, bucket=300, weeks=2, base=30.0, injections=[inj])
    rows = [(_iso(t), str(v)) for t, v in zip(series.ts, series.values, strict=False)]
    del rows[2500:2506]  # a gap of six buckets
    rows.insert(10, ("not-a-date", "3"))
    rows.insert(20, (rows[19][0], "5"))  # duplicate timestamp
    rows.insert(30, (_iso(series.ts[29] + 7), "1"))  # off the 5-minute grid
    path = _write_csv(tmp_path / "series.csv", rows)

    result = CliRunner().invoke(app, ["alerts", "backtest", "--csv", str(path)])
    assert result.exit_code == 0, result.output
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(out[0].keys())[:4] == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(out) == len(series.ts)  # the gap is filled with zeros, bad rows are left out
    assert "interval: 5m" in result.stderr and "gaps: 1 (6 buckets)" in result.stderr
    assert "line 12" in result.stderr and "duplicate" in result.stderr and "not on the 5m grid" in result.stderr
    # Exactly what the live (streaming) detector computes on the same buckets:
    det = CountDetector(300, DetectorSettings())
    values = {t: v for t, v in zip(series.ts, series.values, strict=False)}
    for t in series.ts[2500:2506]:
        values[t] = 0
    live = [det.update(t, values[t]) for t in series.ts]
    assert [float(r["anomaly_score"]) for r in out] == [round(p.score, 6) for p in live]
    assert [int(r["alert"]) for r in out] == [int(p.alert) for p in live]
    assert out[inj.start]["alert"] == "1"
    ends = [i for i, r in enumerate(out) if r["event_end"] == "1" and i > inj.start]
    assert ends and ends[0] <= inj.start + 24  # the end of the spike is reported within two hours


def test_backtest_share_column_and_errors(tmp_path: Path) -> None:
    text = "timestamp,value,total\n" + "".join(f"{1704067200 + i * 3600},{i % 3},{10}\n" for i in range(300))
    series = read_series(io.StringIO(text))
    assert series.share and series.interval == 3600
    assert len(backtest(series).points) == 300
    bad = _write_csv(tmp_path / "bad.csv", [])
    bad.write_text("when,count\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["alerts", "backtest", "--csv", str(bad)])
    assert result.exit_code == 2 and "timestamp and value" in result.stderr


def test_rules_language_display_and_min_ratio() -> None:
    config = parse_config(
        {"language": "en", "rules": [{"name": "s", "brand": "Sberbank", "display": "Сбербанк", "min_ratio": 2}]}
    )
    rule = config.rules[0]
    assert config.language == "en" and rule.display == "Сбербанк" and rule.zone == "Europe/Moscow"
    assert rule.detector_settings().min_ratio == 2.0
    default = parse_config({"rules": [{"name": "s", "brand": "x"}]})
    assert default.language == "ru" and default.rules[0].detector_settings().min_ratio == 1.5
    assert rule.fingerprint() != rule.model_copy(update={"min_ratio": 3.0}).fingerprint()
    with pytest.raises(ConfigError, match="language"):
        parse_config({"language": "de", "rules": [{"name": "s", "brand": "x"}]})
    with pytest.raises(ConfigError, match="rule 's': min_ratio"):
        parse_config({"rules": [{"name": "s", "brand": "x", "min_ratio": 0.5}]})


def test_rules_errors_name_the_rule_and_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"rules": [{"name": "sber", "brand": "sberbank", "bucket": "5 minutes"}]})
    assert "rule 'sber': bucket" in str(info.value) and "5m" in str(info.value)
    with pytest.raises(ConfigError, match="rule 'neg'.*needs brand"):
        parse_config({"rules": [{"name": "neg", "query": "ставка", "metric": "negative"}]})
    with pytest.raises(ConfigError, match="unknown channel 'slack'"):
        parse_config({"rules": [{"name": "a", "brand": "x", "channels": ["slack"]}]})
    with pytest.raises(ConfigError, match="rule 'q': query"):
        parse_config({"rules": [{"name": "q", "query": "(ставка"}]})
    with pytest.raises(ConfigError, match="Europe/Moscow"):
        parse_config(
            {
                "rules": [
                    {"name": "t", "brand": "x", "quiet_hours": {"start": "23:00", "end": "07:00", "timezone": "Moscow"}}
                ]
            }
        )
    with pytest.raises(ConfigError, match="rule 'k': colour: unknown key"):
        parse_config({"rules": [{"name": "k", "brand": "x", "colour": "red"}]})


def test_example_rules_file_is_valid() -> None:
    config = load_config(ROOT / "examples" / "alerts.yaml")
    names = {r.name: r for r in config.rules}
    assert names["sber-volume-fast"].bucket == 300 and names["sber-volume-fast"].quiet_hours is None
    assert names["sber-volume"].quiet_hours is not None  # from defaults
    assert {r.metric for r in config.rules} == {"volume", "negative", "negative_share", "new_story"}


def test_quiet_hours_cross_midnight_in_local_time() -> None:
    q = QuietHours(start="23:00", end="08:00", timezone="Europe/Moscow")  # UTC+3
    assert q.active(datetime(2026, 3, 1, 21, 30, tzinfo=UTC))  # 00:30 in Moscow
    assert q.active(datetime(2026, 3, 1, 4, 59, tzinfo=UTC))  # 07:59
    assert not q.active(datetime(2026, 3, 1, 5, 0, tzinfo=UTC))  # 08:00
    assert not q.active(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def _alert(language: str = "en") -> Alert:
    return Alert(
        "sber-volume",
        "volume",
        "spike",
        "sberbank",
        1780000000,
        1780003600,
        1780000000,
        57,
        12.3,
        0.71,
        1e-9,
        3600,
        [{"title": "Сбербанк снизил ставки", "url": "http://news.test/a", "source": "rbc"}],
        extra={"brand": "sberbank", "display": "Сбербанк"},
        language=language,
    )


def test_channels_deliver_and_retry(http_recorder, smtp_server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_TG_TOKEN", "123:abc")
    config = parse_config(
        {
            "rules": [{"name": "sber-volume", "brand": "sberbank"}],
            "channels": {
                "hook": {"type": "webhook", "url": f"{http_recorder.url}/hook", "headers": {"X-Token": "t"}},
                "mail": {"type": "email", "host": smtp_server.host, "port": smtp_server.port, "to": ["pr@test.local"]},
                "tg": {"type": "telegram", "chat_id": 42, "token_env": "TEST_TG_TOKEN", "api_url": http_recorder.url},
                "dead": {"type": "webhook", "url": "http://127.0.0.1:9/nothing", "timeout": 1},
            },
        }
    )
    http_recorder.fail = 1  # the first POST fails: it must be retried
    sleeps: list[float] = []
    outcome = deliver(
        _alert(),
        config.channels,
        ["dead", "hook", "mail", "tg"],
        Retry(attempts=3, backoff=0.5),
        "Europe/Moscow",
        sleep=sleeps.append,
    )
    assert outcome["hook"] == outcome["mail"] == outcome["tg"] == "ok"
    assert outcome["dead"].startswith("error:")
    assert sleeps[:2] == [0.5, 1.0]  # back-off doubles (dead channel), then the hook's one retry
    hook = [r for r in http_recorder.requests if r["path"] == "/hook"][0]
    assert hook["headers"]["X-Token"] == "t"
    assert hook["json"]["observed"] == 57 and hook["json"]["stories"][0]["url"] == "http://news.test/a"
    assert "expected: 12.3" in hook["json"]["text"]
    tg = [r for r in http_recorder.requests if r["path"] == "/bot123:abc/sendMessage"][0]
    assert tg["json"]["chat_id"] == 42 and "Сбербанк снизил ставки" in tg["json"]["text"]
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["to"] == ["pr@test.local"]
    assert "spike in volume" in smtp_server.messages[0]["data"]


def test_alert_text_in_russian_by_default() -> None:
    """The default text: display name, 'в N раза больше обычного' in Russian number format, Moscow time, a command."""
    alert = _alert("ru")
    text = alert.text()
    lines = text.splitlines()
    assert lines[0] == "[Резонанс] Сбербанк: всплеск — упоминания"
    assert lines[1] == "в 4,6 раза больше обычного (ожидали ≈ 12, пришло 57)"
    assert lines[2] == "Когда: 28.05.2026 23:26 – 29.05.2026 00:26 (Europe/Moscow)"
    assert lines[3] == "Упоминания: rezonans search --brand sberbank --from 2026-05-28 --to 2026-05-29"
    assert "p =" not in text and "Сбербанк снизил ставки (rbc) http://news.test/a" in text
    big = Alert.from_dict({**alert.as_dict(), "observed": 12345, "expected": 1210.4})
    assert "в 10,2 раза больше обычного (ожидали ≈ 1\xa0210, пришло 12\xa0345)" in big.text()
    drop = Alert.from_dict({**alert.as_dict(), "kind": "drop", "observed": 4, "expected": 30})
    assert "провал" in drop.title() and "в 7,5 раза меньше обычного (ожидали ≈ 30, пришло 4)" in drop.text()
    done = Alert.from_dict({**alert.as_dict(), "kind": "all_clear"})
    assert done.text().startswith("[Резонанс] Сбербанк: всё спокойно")


def test_alert_text_explains_itself() -> None:
    text = _alert().text("Europe/Moscow")
    assert "Observed: 57, expected: 12.3" in text
    assert "Period: 2026-05-28" in text and "Europe/Moscow" in text
    assert "http://news.test/a" in text and "metric: articles mentioning sberbank" in text


def test_rules_file_timezone_drives_seasonality_and_quiet_hours() -> None:
    config = parse_config(
        {
            "timezone": "Europe/Moscow",
            "rules": [
                {"name": "inherit", "brand": "x", "quiet_hours": {"start": "23:00", "end": "08:00"}},
                {
                    "name": "own",
                    "brand": "x",
                    "timezone": "Asia/Vladivostok",
                    "quiet_hours": {"start": "23:00", "end": "08:00"},
                },
                {
                    "name": "explicit",
                    "brand": "x",
                    "quiet_hours": {"start": "23:00", "end": "08:00", "timezone": "UTC"},
                },
            ],
        }
    )
    rules = {r.name: r for r in config.rules}
    night_in_moscow = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)  # 00:30 in Moscow, 07:30 in Vladivostok
    morning_in_moscow = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)  # 08:30 in Moscow, 05:30 UTC
    assert rules["inherit"].quiet_hours.active(night_in_moscow)
    assert not rules["inherit"].quiet_hours.active(morning_in_moscow)
    assert rules["own"].quiet_hours.active(night_in_moscow)
    assert not rules["own"].quiet_hours.active(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))  # 08:30 there
    assert not rules["explicit"].quiet_hours.active(night_in_moscow) and rules["explicit"].quiet_hours.active(
        morning_in_moscow
    )
    assert rules["inherit"].detector_settings().timezone == "Europe/Moscow"
    assert rules["own"].detector_settings().timezone == "Asia/Vladivostok"
    # A zone change restarts the detector; UTC rules keep the fingerprint they had before zones existed.
    utc_rule = parse_config({"timezone": "UTC", "rules": [{"name": "a", "brand": "x"}]}).rules[0]
    assert "timezone" not in utc_rule.fingerprint() and utc_rule.detector_settings().timezone == "UTC"
    assert rules["inherit"].fingerprint() != utc_rule.model_copy(update={"name": "inherit"}).fingerprint()
    with pytest.raises(ConfigError, match="rule 'z': timezone: unknown time zone 'MSK'.*Europe/Moscow"):
        parse_config({"rules": [{"name": "z", "brand": "x", "timezone": "MSK"}]})


def test_backtest_with_rules_uses_the_rule_timezone(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    import numpy as np

    berlin = ZoneInfo("Europe/Berlin")
    rng = np.random.default_rng(3)
    first = int(datetime(2024, 3, 4, tzinfo=berlin).timestamp())
    rows = []
    for i in range(6 * 168):  # a 09:00 Berlin digest across the switch to summer time on 31 March
        ts = first + i * 3600
        rows.append((_iso(ts), str(rng.poisson(30.0 if datetime.fromtimestamp(ts, berlin).hour == 9 else 1.0))))
    path = _write_csv(tmp_path / "digest.csv", rows)
    rules = tmp_path / "rules.yaml"
    rules.write_text("timezone: Europe/Berlin\nrules:\n  - {name: digest, brand: x, bucket: 1h}\n", encoding="utf-8")
    local = CliRunner().invoke(
        app, ["alerts", "backtest", "--csv", str(path), "--rules", str(rules), "--rule", "digest"]
    )
    plain = CliRunner().invoke(app, ["alerts", "backtest", "--csv", str(path)])
    assert local.exit_code == plain.exit_code == 0
    assert "alerts: 0 " in local.stderr
    assert "alerts: 0 " not in plain.stderr  # in UTC the digest jumps an hour and looks like news
