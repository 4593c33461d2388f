"""Build a report: brand card → scope, ES requests for both periods and outcomes → pure metrics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from indexer.client import es_errors
from report.aggs import ReportScope, fetch_daily, fetch_period
from report.brands import load_cards
from report.metrics import compute_report, publicity_from
from report.outcomes import fetch_outcomes
from report.periods import Period
from rezonans.config import Settings
from rezonans.errors import UserError
from search.vocabulary import Vocabulary, load_vocabulary

log = logging.getLogger(__name__)

CORRELATION_DAYS = 56


class ReportError(UserError):
    """A report that cannot be made as asked (unknown brand); the message says how to fix it."""


def scope_for(
    brand: str,
    brands_file: Path | None = None,
    competitors: list[str] | None = None,
    own_channels: list[str] | None = None,
) -> ReportScope:
    """The report scope from the brand card (if a file is given or found) and command-line overrides."""
    card: dict[str, Any] = {}
    if brands_file is not None:
        cards = load_cards(brands_file)
        if brand not in cards:
            known = ", ".join(sorted(cards)) or "none"
            raise ReportError(f"brand {brand!r} is not in {brands_file} (known: {known})")
        card = cards[brand]
    return ReportScope(
        brand=brand,
        competitors=list(competitors) if competitors else list(card.get("competitors") or []),
        own_channels=list(own_channels) if own_channels else list(card.get("own_channels") or []),
    )


def resolve_scope(
    client: Elasticsearch,
    settings: Settings,
    brand: str,
    cards: Path | None,
    competitors: list[str] | None = None,
    own_channels: list[str] | None = None,
) -> ReportScope:
    """The report scope with every name checked: the brand and competitors by id, display name or alias (any
    case), own channels by the Telegram source names in the index; an unknown one is a UserError with the known."""
    vocab: Vocabulary = load_vocabulary(client, settings, cards)
    brand_id = vocab.brand(brand)
    card = load_cards(cards).get(brand_id, {}) if cards else {}
    if cards and not card:
        known = ", ".join(f"{b} ({n})" for b, n in sorted(vocab.names.items())) or "none"
        raise ReportError(f"brand {brand!r} is not in {cards} (known: {known})")
    rivals = [vocab.brand(c, "competitor") for c in competitors] if competitors else list(card.get("competitors") or [])
    if competitors is None or not competitors:
        for rival in rivals:
            if rival not in vocab.names and rival not in vocab.indexed_brands:
                log.warning("competitor %r of %s has no card and no stored article", rival, brand_id)
    if own_channels:
        channels = [vocab.channel(c) for c in own_channels]
    else:
        channels = []
        for name in card.get("own_channels") or []:
            try:
                channels.append(vocab.channel(name))
            except UserError as exc:
                log.warning("%s", exc)
    names = dict(vocab.names)
    return ReportScope(
        brand=brand_id,
        competitors=[c for c in dict.fromkeys(rivals) if c != brand_id],
        own_channels=channels,
        names=names,
    )


def build_report(
    client: Elasticsearch,
    settings: Settings,
    scope: ReportScope,
    period: Period,
    generated_at: datetime | None = None,
    correlation_days: int = CORRELATION_DAYS,
) -> dict[str, Any]:
    """All figures of the report for `period` and the one before it."""
    previous = period.previous()
    with es_errors("a report query"):
        cur = fetch_period(client, settings, scope, period)
        prev = fetch_period(client, settings, scope, previous)
        window = period.extended_back(max(correlation_days, len(period.days)))
        outcomes = fetch_outcomes(
            client,
            settings,
            scope.brand,
            sorted(set(scope.promo_codes) | _codes(cur) | _codes(prev)),
            period,
            previous,
            window,
        )
        if outcomes is not None:
            daily = fetch_daily(client, settings, scope, window)
            outcomes["daily_publicity"] = {
                b["key_as_string"]: publicity_from(b["mentions"].get("brand"))["index"]
                for b in daily["daily"]["buckets"]
            }
    rep = compute_report(
        scope,
        period.label,
        previous.label,
        cur,
        prev,
        outcomes,
        generated_at=generated_at or datetime.now(UTC),
        tz=period.tz,
    )
    rep["period_first_day"], rep["period_last_day"] = period.days[0].isoformat(), period.days[-1].isoformat()
    rep["previous_first_day"], rep["previous_last_day"] = previous.days[0].isoformat(), previous.days[-1].isoformat()
    return rep


def _codes(raw: dict[str, Any]) -> set[str]:
    """Promo codes mentioned with the brand in a period's raw results."""
    brand = raw["aggs"]["brand"]["mentions"].get("brand", {})
    return {b["key"] for b in brand.get("promo", {}).get("buckets", [])}
