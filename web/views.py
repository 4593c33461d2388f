"""What the pages and the API compute, over the same library functions as the CLI (no second query engine)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from alerts.check import state_path
from report.brands import default_cards_path, load_cards
from report.build import ReportError, build_report, scope_for
from report.periods import DEFAULT_TZ, day_bound, resolve
from rezonans.config import Settings
from search.engine import SearchPage, export, search
from search.saved import FilteredRequest, SearchFilters, build_request

log = logging.getLogger(__name__)

MOSCOW = ZoneInfo(DEFAULT_TZ)
PAGE_SIZE = 20
OPTIONS_TTL = 60.0


def brand_names(settings: Settings) -> dict[str, str]:
    """Brand id → display name from the brand cards in use (empty when there are none)."""
    path = default_cards_path(settings.brands)
    if path is None:
        return {}
    try:
        return {k: v["name"] for k, v in load_cards(path).items()}
    except Exception as exc:  # a broken card file must not stop the workspace: reports say what is wrong
        log.warning("brand cards %s unreadable: %s", path, exc)
        return {}


def local_time(iso: str | None) -> str:
    """An ISO time as 'DD.MM.YYYY HH:MM' in Moscow time."""
    if not iso:
        return "—"
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def filters_from(params: Any) -> tuple[str, SearchFilters]:
    """The query text and filters from request parameters (a multi-dict with getlist)."""
    brands = [b.strip().lower() for b in params.getlist("brand") if b.strip()]
    filters = SearchFilters(
        brands=brands,
        tone=params.get("tone", "").strip(),
        source=params.get("source", "").strip(),
        source_type=params.get("type", "").strip(),
        date_from=params.get("from", "").strip(),
        date_to=params.get("to", "").strip(),
        fold_reprints=params.get("fold", "") in ("1", "on", "true"),
        sort="relevance" if params.get("sort") == "relevance" else "date",
    )
    return params.get("q", "").strip(), filters


def request_for(query: str, filters: SearchFilters) -> FilteredRequest:
    """The engine request for a query and filters; days are Moscow days, like the CLI's --from/--to."""
    return build_request(
        query,
        filters,
        day_bound(filters.date_from or None, "from"),
        day_bound(filters.date_to or None, "to", end=True),
    )


def feed_page(client: Elasticsearch, settings: Settings, query: str, filters: SearchFilters, page: int) -> SearchPage:
    """One page of the feed."""
    request = request_for(query, filters)
    return search(client, settings, request, page=max(1, page), size=PAGE_SIZE)


def feed_all(client: Elasticsearch, settings: Settings, query: str, filters: SearchFilters) -> Any:
    """Every hit of the feed's current result (for exports), without the 10,000 cap."""
    return export(client, settings, request_for(query, filters))


@dataclass
class Options:
    """Values offered in the filter bar, with source weights (cached for a minute)."""

    brands: list[str] = field(default_factory=list)
    sources: dict[str, float] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)
    at: float = 0.0


class OptionsCache:
    """Filter values from one small aggregation, refreshed at most once a minute."""

    def __init__(self) -> None:
        self.value = Options()

    def get(self, client: Elasticsearch, settings: Settings) -> Options:
        """Cached filter values."""
        if time.monotonic() - self.value.at < OPTIONS_TTL:
            return self.value
        from search.saved import filter_options

        raw = filter_options(client, settings)
        self.value = Options(raw["brands"], raw["sources"], raw["types"], time.monotonic())
        return self.value


def report_scope_and_period(
    settings: Settings, brand: str, week: str | None, month: str | None, date_from: str | None, date_to: str | None
) -> tuple[Any, Any]:
    """The report's scope and period chosen exactly as `rezonans report` chooses them with no --brands."""
    period = resolve(week or None, month or None, date_from or None, date_to or None, DEFAULT_TZ)
    cards = default_cards_path(settings.brands)
    try:
        scope = scope_for(brand.lower(), cards)
    except ReportError:
        scope = scope_for(brand.lower(), None)
    return scope, period


def report_data(
    client: Elasticsearch,
    settings: Settings,
    brand: str,
    week: str | None = None,
    month: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """The report dict: report.build.build_report, the function behind `rezonans report`."""
    scope, period = report_scope_and_period(settings, brand, week, month, date_from, date_to)
    return build_report(client, settings, scope, period)


def recent_alerts(settings: Settings, limit: int = 50) -> list[dict[str, Any]]:
    """Alerts kept in the alert state file (recent, held in quiet hours, waiting in the outbox), newest first."""
    path = state_path(settings)
    if not path.is_file():
        return []
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("alert state %s unreadable: %s", path, exc)
        return []
    rows: list[dict[str, Any]] = []
    for item in state.get("recent") or []:  # delivered alerts, if the alerts side keeps them
        rows.append({**(item.get("alert") or item), "status": "доставлено"})
    for item in state.get("held") or []:
        rows.append({**item, "status": "отложено (тихие часы)"})
    for entry in state.get("outbox") or []:
        rows.append({**entry.get("alert", {}), "status": "ждёт доставки", "last_error": entry.get("last_error", "")})
    rows = [r for r in rows if "bucket_start" in r]
    rows.sort(key=lambda r: r["bucket_start"], reverse=True)
    return rows[:limit]


def alert_feed_params(alert: dict[str, Any], known_brands: set[str]) -> dict[str, str]:
    """Feed parameters showing the mentions behind an alert: its subject over the alert's days (Moscow)."""
    start = datetime.fromtimestamp(int(alert.get("event_start") or alert["bucket_start"]), UTC).astimezone(MOSCOW)
    end = datetime.fromtimestamp(int(alert["bucket_end"]) - 1, UTC).astimezone(MOSCOW)
    params = {"from": start.date().isoformat(), "to": end.date().isoformat()}
    subject = str(alert.get("subject") or "")
    brand, _, query = subject.partition(" / ")
    if query:
        params.update(brand=brand, q=query)
    elif subject in known_brands:
        params["brand"] = subject
    else:
        params["q"] = subject
    if alert.get("metric") in ("negative", "negative_share"):
        params["tone"] = "negative"
    return params
