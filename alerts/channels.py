"""Delivery channels (console, e-mail, webhook, Telegram) with retries and back-off per channel."""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from alerts.message import Alert
from alerts.rules import ConsoleChannel, EmailChannel, Retry, TelegramChannel, WebhookChannel
from rezonans.errors import ServiceError

log = logging.getLogger(__name__)


class DeliveryError(ServiceError):
    """A channel did not accept the alert."""


_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
_TELEGRAM_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
_BOT_PATH = re.compile(r"/bot[^/\s'\"]+")


def safe_url(url: str) -> str:
    """scheme://host[:port] of a URL, with user:password, path and query (webhook secrets) hidden."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    rest = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{'***@' if '@' in parts.netloc else ''}{host}{port}{rest}"


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """A log or error message with secrets hidden: the given values, URLs' credentials and paths, bot tokens."""
    for secret in sorted({s.strip() for s in secrets if s and len(s.strip()) >= 3}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _BOT_PATH.sub("/bot***", text)
    text = _TELEGRAM_TOKEN.sub("***", text)
    return _URL.sub(lambda m: safe_url(m.group(0)), text)


def channel_secrets(channel: Any) -> list[str]:
    """Values of a channel that must never be logged: tokens, passwords, header values, webhook URL parts."""
    found: list[str] = []
    for name in ("token", "url"):
        value = getattr(channel, name, None)
        if isinstance(value, str) and value:
            found.append(value)
            if name == "url":
                parts = urlsplit(value.strip())
                found += [p for p in (parts.username, parts.password, parts.query) if p]
                found += [p for p in parts.path.split("/") if len(p) >= 8]
    for env in (getattr(channel, "token_env", None), getattr(channel, "password_env", None)):
        if env and os.environ.get(env):
            found.append(os.environ[env])
    found += [str(v) for v in (getattr(channel, "headers", None) or {}).values()]
    return found


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
        raise DeliveryError(redact(f"HTTP {exc.code} from {safe_url(url)}: {body}")) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: http.client's invalid URL
        raise DeliveryError(redact(f"cannot reach {safe_url(url)}: {exc}")) from None


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
        channel.url.strip(),
        {**alert.as_dict(), "text": alert.text(tz), "title": alert.title()},
        channel.headers,
        channel.timeout,
    )


def send_telegram(channel: TelegramChannel, alert: Alert, tz: str) -> None:
    """Bot API sendMessage (plain text, link previews off)."""
    token = (channel.token or os.environ.get(channel.token_env or "", "")).strip()  # mounted secrets end in \n
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
        raise DeliveryError(redact(f"Telegram refused the message: {answer.get('description')}", [token]))


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
                message = redact(str(exc), channel_secrets(channel))
                log.warning(
                    "alert %s → channel %s failed (attempt %d/%d): %s",
                    alert.rule,
                    name,
                    attempt,
                    retry.attempts,
                    message,
                )
                result[name] = f"error: {message}"
                if attempt < retry.attempts:
                    sleep(delay)
                    delay *= 2
        if result[name] != "ok":
            log.error(
                "alert %s was not delivered to %s after %d attempts: %s", alert.rule, name, retry.attempts, result[name]
            )
    return result
