"""Alert channel secrets never reach logs or error texts; tokens from mounted secrets are stripped."""

from __future__ import annotations

import logging
import socket

from alerts.channels import deliver, redact
from alerts.rules import Retry, parse_config

from .test_backtest_rules_channels import _alert

TOKEN = "7012345678:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_webhook_credentials_secret_paths_and_tokens_are_redacted(http_recorder, monkeypatch, caplog) -> None:
    monkeypatch.setenv("TG_TOKEN_FILE_VALUE", TOKEN + "\n")  # as read from a mounted secret file
    port = _dead_port()
    config = parse_config(
        {
            "rules": [{"name": "r", "brand": "sberbank"}],
            "channels": {
                "hook": {
                    "type": "webhook",
                    "url": f"http://alice:s3cr3t-pass@127.0.0.1:{port}/services/T0001/B0002/XyZsecretPath123",
                    "headers": {"Authorization": "Bearer hdr-secret-42"},
                    "timeout": 1,
                },
                "tg_dead": {"type": "telegram", "chat_id": 1, "token": TOKEN, "api_url": f"http://127.0.0.1:{port}"},
                "tg": {
                    "type": "telegram",
                    "chat_id": 1,
                    "token_env": "TG_TOKEN_FILE_VALUE",
                    "api_url": http_recorder.url,
                },
            },
        }
    )
    with caplog.at_level(logging.DEBUG, logger="alerts.channels"):
        outcome = deliver(
            _alert(), config.channels, ["hook", "tg_dead", "tg"], Retry(attempts=2, backoff=0), sleep=lambda s: None
        )
    assert outcome["tg"] == "ok"  # the trailing newline of the token was stripped
    assert [r["path"] for r in http_recorder.requests] == [f"/bot{TOKEN}/sendMessage"]
    assert outcome["hook"].startswith("error:") and outcome["tg_dead"].startswith("error:")
    logged = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(outcome.values())
    assert "cannot reach" in logged and "127.0.0.1" in logged  # still says what failed
    for secret in ("s3cr3t-pass", "alice", "XyZsecretPath123", "T0001", "hdr-secret-42", TOKEN, TOKEN.split(":")[1]):
        assert secret not in logged, secret


def test_redact_patterns() -> None:
    text = f"GET https://u:p@hooks.example.com/a/b?key=1 failed; url /bot{TOKEN}/x; token {TOKEN}"
    out = redact(text)
    assert out == "GET https://***@hooks.example.com/… failed; url /bot***/x; token ***"
    assert redact("plain message, nothing secret") == "plain message, nothing secret"
