"""Connect to Elasticsearch (local or external, with API key or user/password) and wait for health."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    NotFoundError,
    TransportError,
)
from elasticsearch import ConnectionError as ESConnectionError

from rezonans.config import Settings
from rezonans.errors import ServiceError


class ESUnavailable(ServiceError):
    """Elasticsearch cannot be reached or refuses us; the message says how to fix it."""


class ESRefused(ServiceError):
    """Elasticsearch answered but refused a request (bad request, missing index, credentials)."""


def reason(exc: ApiError) -> str:
    """The root cause of an Elasticsearch error in one line."""
    body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    err: dict[str, Any] = error if isinstance(error, dict) else {}
    causes = err.get("root_cause") or [err]
    first = causes[0] if causes and isinstance(causes[0], dict) else {}
    return str(first.get("reason") or exc.message)[:300]


def translate(exc: Exception, what: str = "the request") -> ServiceError:
    """The library error for an Elasticsearch client exception, with a message that says how to fix it."""
    if isinstance(exc, AuthenticationException | AuthorizationException):
        return ESRefused(
            f"Elasticsearch refused our credentials for {what} ({exc.meta.status}): set "
            "REZONANS_ES_API_KEY or REZONANS_ES_USER/REZONANS_ES_PASSWORD"
        )
    if isinstance(exc, NotFoundError):
        return ESRefused("no article index yet: crawl and index something first (or check REZONANS_INDEX_PREFIX)")
    if isinstance(exc, ApiError):
        return ESRefused(f"Elasticsearch refused {what}: {reason(exc)}")
    if isinstance(exc, ESConnectionError | TransportError | ConnectionError):
        return ESUnavailable(
            f"Elasticsearch is not reachable ({exc.__class__.__name__}): start it with `rezonans es start` "
            "or set REZONANS_ES_URL"
        )
    return ServiceError(f"{what} failed: {exc}")


@contextmanager
def es_errors(what: str = "the request") -> Iterator[None]:
    """Run a block of client calls, turning the client's exceptions into ESUnavailable / ESRefused."""
    try:
        yield
    except (ApiError, TransportError, ConnectionError) as exc:
        raise translate(exc, what) from exc


def connect(settings: Settings, **kwargs: object) -> Elasticsearch:
    """A client for settings.es_url with the configured credentials (no request is made yet)."""
    options: dict = {
        "request_timeout": settings.es_timeout,
        "max_retries": 2,
        "retry_on_timeout": True,
    }
    if settings.es_api_key:
        options["api_key"] = settings.es_api_key
    elif settings.es_user:
        options["basic_auth"] = (settings.es_user, settings.es_password or "")
    if settings.es_ca_certs:
        options["ca_certs"] = settings.es_ca_certs
    if settings.es_url.startswith("https") and not settings.es_verify_certs:
        options["verify_certs"] = False
        options["ssl_show_warn"] = False
    options.update(kwargs)
    urls = settings.es_urls
    if len(urls) > 1:
        # a cluster: a node that stops answering is set aside and the request goes to the next one
        options.setdefault("retry_on_status", (429, 502, 503, 504))
        options["max_retries"] = max(int(options["max_retries"]), len(urls) + 1)
    return Elasticsearch(urls, **options)


def wait_for_health(client: Elasticsearch, timeout: float = 30.0, status: str = "yellow") -> dict:
    """Wait until cluster health reaches `status`; raise ESUnavailable with a hint otherwise."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            health = client.options(request_timeout=max(1.0, min(10.0, timeout))).cluster.health(
                wait_for_status=status, timeout=f"{max(1, int(min(10.0, timeout)))}s"
            )
            if not health.get("timed_out"):
                return dict(health)
            last = RuntimeError(f"cluster health is {health.get('status')}")
        except ApiError as exc:
            if exc.meta.status in (401, 403):
                raise ESUnavailable(
                    f"Elasticsearch refused our credentials ({exc.meta.status}): set "
                    "REZONANS_ES_API_KEY or REZONANS_ES_USER/REZONANS_ES_PASSWORD"
                ) from exc
            last = exc
        except TransportError as exc:
            last = exc
        if time.monotonic() >= deadline:
            reason = "connection refused" if "refused" in str(last) else str(last).splitlines()[0][:160]
            raise ESUnavailable(
                f"Elasticsearch at {_url(client)} is not available ({reason}): start it with "
                "`rezonans es start` or set REZONANS_ES_URL"
            ) from last
        time.sleep(0.5)


def _url(client: Elasticsearch) -> str:
    """The first node URL of a client, for messages."""
    try:
        node = client.transport.node_pool.all()[0]
        return node.base_url
    except (IndexError, AttributeError):
        return "?"
