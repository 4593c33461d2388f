"""Delivery channels (console, e-mail, webhook, Telegram) with retries and back-off per channel."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from alerts.message import Alert
from alerts.rules import ConsoleChannel, EmailChannel, Retry, TelegramChannel, WebhookChannel
from rezonans.errors import ServiceError

log = logging.getLogger(__name__)


class DeliveryError(ServiceError):
    """A channel did not accept the alert."""


def _post_json(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> bytes:
    """POST JSON; raise DeliveryError on a non-2xx answer or a network error."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:300].decode("utf-8", "replace")
        raise DeliveryError(f"HTTP {exc.code} from {url.split('/bot')[0]}: {body}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"cannot reach {url.split('/bot')[0]}: {exc}") from exc


def send_console(channel: ConsoleChannel, alert: Alert, tz: str) -> None:
    """Print the alert."""
    sys.stdout.write(alert.text(tz) + "\n\n")
    sys.stdout.flush()


def send_email(channel: EmailChannel, alert: Alert, tz: str) -> None:
    """Send over SMTP (SSL, STARTTLS and login as configured)."""
    msg = EmailMessage()
    msg["Subject"] = alert.title()
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    msg.set_content(alert.text(tz))
    klass = smtplib.SMTP_SSL if channel.ssl else smtplib.SMTP
    try:
        with klass(channel.host, channel.port, timeout=channel.timeout) as smtp:
            if channel.starttls and not channel.ssl:
                smtp.starttls()
            if channel.user:
                password = os.environ.get(channel.password_env or "", "")
                if channel.password_env and not password:
                    raise DeliveryError(f"environment variable {channel.password_env} (SMTP password) is not set")
                smtp.login(channel.user, password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {channel.host}:{channel.port}: {exc}") from exc


def send_webhook(channel: WebhookChannel, alert: Alert, tz: str) -> None:
    """POST the alert as JSON (with its text)."""
    _post_json(
        channel.url,
        {**alert.as_dict(), "text": alert.text(tz), "title": alert.title()},
        channel.headers,
        channel.timeout,
    )


def send_telegram(channel: TelegramChannel, alert: Alert, tz: str) -> None:
    """Bot API sendMessage (plain text, link previews off)."""
    token = channel.token or os.environ.get(channel.token_env or "", "")
    if not token:
        raise DeliveryError(f"environment variable {channel.token_env} (Telegram bot token) is not set")
    url = f"{channel.api_url.rstrip('/')}/bot{token}/sendMessage"
    body = _post_json(
        url,
        {"chat_id": channel.chat_id, "text": alert.text(tz)[:4096], "disable_web_page_preview": True},
        {},
        channel.timeout,
    )
    try:
        answer = json.loads(body or b"{}")
    except json.JSONDecodeError:
        answer = {}
    if answer and not answer.get("ok", True):
        raise DeliveryError(f"Telegram refused the message: {answer.get('description')}")


SENDERS: dict[str, Callable[[Any, Alert, str], None]] = {
    "console": send_console,
    "email": send_email,
    "webhook": send_webhook,
    "telegram": send_telegram,
}


def deliver(
    alert: Alert,
    channels: dict[str, Any],
    names: list[str],
    retry: Retry,
    tz: str = "UTC",
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Send to each named channel, retrying with back-off; one failing channel never stops the others.

    Returns {channel: "ok" | "error: ..."}.
    """
    result: dict[str, str] = {}
    for name in names:
        channel = channels[name]
        send = SENDERS[channel.type]
        delay = retry.backoff
        for attempt in range(1, retry.attempts + 1):
            try:
                send(channel, alert, tz)
                result[name] = "ok"
                break
            except Exception as exc:  # any channel failure is logged and retried, never fatal
                log.warning(
                    "alert %s → channel %s failed (attempt %d/%d): %s", alert.rule, name, attempt, retry.attempts, exc
                )
                result[name] = f"error: {exc}"
                if attempt < retry.attempts:
                    sleep(delay)
                    delay *= 2
        if result[name] != "ok":
            log.error(
                "alert %s was not delivered to %s after %d attempts: %s", alert.rule, name, retry.attempts, result[name]
            )
    return result
