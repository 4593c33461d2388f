"""Feed filters and saved searches (name, query, filters) kept in Elasticsearch, for the web feed, the CLI
(`rezonans search --saved NAME`) and alert rules (`resolve_saved`).

Filters become part of the same search: tone, source and source type are added to the query in the query
language itself (`sentiment:`, `source:`, `type:`), brands and the period go into `SearchRequest`, and folding
reprints keeps each story's original only. One engine (`search.engine`) runs every one of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.client import es_errors
from indexer.mappings import articles_alias
from rezonans.config import Settings
from rezonans.errors import UserError
from search.engine import SearchRequest, SortOrder
from search.query import SENTIMENTS, SOURCE_TYPES

log = logging.getLogger(__name__)

MATCH_ALL = "*"


class SavedSearchError(UserError):
    """A saved search that does not exist or cannot be saved; the message says how to fix it."""


@dataclass
class FilteredRequest(SearchRequest):
    """A SearchRequest that can also keep only each story's original (reprints folded)."""

    originals_only: bool = False

    def body_query(self) -> dict[str, Any]:
        """The engine's query, plus `is_original` when reprints are folded."""
        body = super().body_query()
        if self.originals_only:
            body["bool"]["filter"].append({"term": {"is_original": True}})
        return body


@dataclass
class SearchFilters:
    """What the feed's filter bar holds (each empty value means 'any')."""

    brands: list[str]
    tone: str = ""
    source: str = ""
    source_type: str = ""
    date_from: str = ""  # YYYY-MM-DD, Moscow time
    date_to: str = ""  # YYYY-MM-DD, inclusive
    fold_reprints: bool = False
    sort: str = "date"

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for storage and JSON."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SearchFilters:
        """Inverse of `as_dict` (unknown keys ignored)."""
        data = data or {}
        names = cls.__dataclass_fields__.keys()
        values = {k: v for k, v in data.items() if k in names and v is not None}
        values["brands"] = [str(b).lower() for b in values.get("brands") or []]
        return cls(**values)


def _quoted(value: str) -> str:
    """A field value in the query language (quoted when it has spaces or special characters)."""
    if any(c.isspace() or c in '()":«»' for c in value):
        return '"' + value.replace('"', "") + '"'
    return value


def full_query(query: str, filters: SearchFilters) -> str:
    """The query text with the tone, source and type filters added in the query language; '' or '*' alone = all."""
    parts = []
    text = query.strip()
    if text and text != MATCH_ALL:
        parts.append(f"({text})")
    if filters.tone:
        if filters.tone.lower() not in SENTIMENTS:
            raise UserError(f"unknown tone {filters.tone!r}: use positive, neutral or negative")
        parts.append(f"sentiment:{SENTIMENTS[filters.tone.lower()]}")
    if filters.source:
        parts.append(f"source:{_quoted(filters.source)}")
    if filters.source_type:
        if filters.source_type not in SOURCE_TYPES:
            raise UserError(f"unknown source type {filters.source_type!r}: use one of {', '.join(SOURCE_TYPES)}")
        parts.append(f"type:{filters.source_type}")
    return " AND ".join(parts)


def build_request(
    query: str, filters: SearchFilters, date_from: datetime | None, date_to: datetime | None
) -> FilteredRequest:
    """The search for a query and filters (dates already turned into bounds by the caller's period helper).

    An empty query with no field filter matches every article: `brand:` terms of the filter (or, with no brand,
    every article that has an id) stand in for it, so the engine's parser always gets a valid query.
    """
    text = full_query(query, filters)
    if not text:
        text = " OR ".join(f"brand:{b}" for b in filters.brands) if filters.brands else ""
    sort: SortOrder = "relevance" if filters.sort == "relevance" else "date"
    request = FilteredRequest(
        query=text or "NOT cluster:__none__ OR cluster:__none__",
        date_from=date_from,
        date_to=date_to,
        brands=list(filters.brands),
        sort=sort,
        originals_only=filters.fold_reprints,
    )
    return request


@dataclass
class SavedSearch:
    """A named query with its filters."""

    name: str
    query: str
    filters: SearchFilters
    by: str = ""
    updated_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The stored document."""
        return {
            "name": self.name,
            "query": self.query,
            "filters": self.filters.as_dict(),
            "by": self.by,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SavedSearch:
        """Inverse of `as_dict`."""
        return cls(
            name=data["name"],
            query=data.get("query") or "",
            filters=SearchFilters.from_dict(data.get("filters")),
            by=data.get("by") or "",
            updated_at=data.get("updated_at") or "",
        )


def saved_index(settings: Settings) -> str:
    """The index that holds saved searches (one document per name)."""
    return f"{settings.index_prefix}-saved-searches"


MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "name": {"type": "keyword"},
        "query": {"type": "keyword", "index": False},
        "filters": {"type": "object", "enabled": False},
        "by": {"type": "keyword"},
        "updated_at": {"type": "date"},
    },
}


def _ensure_index(client: Elasticsearch, settings: Settings) -> None:
    """Create the saved-search index on first use."""
    name = saved_index(settings)
    if not client.indices.exists(index=name):
        try:
            client.indices.create(
                index=name, mappings=MAPPING, settings={"number_of_shards": 1, "number_of_replicas": 0}
            )
        except Exception as exc:  # another process created it meanwhile
            if "resource_already_exists" not in str(exc):
                raise


def _check_name(name: str) -> str:
    """Names are what people type after --saved: non-empty, at most 100 characters."""
    name = name.strip()
    if not name or len(name) > 100:
        raise SavedSearchError("a saved search needs a name of 1 to 100 characters")
    return name


def save_search(
    client: Elasticsearch,
    settings: Settings,
    name: str,
    query: str,
    filters: SearchFilters,
    by: str = "",
    now: datetime | None = None,
) -> SavedSearch:
    """Save (or replace) a named search; the query and filters are checked first."""
    saved = SavedSearch(
        name=_check_name(name),
        query=query.strip(),
        filters=filters,
        by=by,
        updated_at=(now or datetime.now(UTC)).isoformat(),
    )
    build_request(saved.query, filters, None, None).body_query()  # a bad query is refused before it is stored
    with es_errors("saving the search"):
        _ensure_index(client, settings)
        client.index(index=saved_index(settings), id=saved.name, document=saved.as_dict(), refresh="wait_for")
    return saved


def list_saved(client: Elasticsearch, settings: Settings) -> list[SavedSearch]:
    """Every saved search, by name."""
    with es_errors("listing saved searches"):
        if not client.indices.exists(index=saved_index(settings)):
            return []
        resp = client.search(index=saved_index(settings), size=1000, sort=[{"name": "asc"}])
    return [SavedSearch.from_dict(h["_source"]) for h in resp["hits"]["hits"]]


def resolve_saved(client: Elasticsearch, settings: Settings, name: str) -> SavedSearch:
    """The saved search called `name` (for `--saved NAME` and alert rules `saved: NAME`); unknown = SavedSearchError."""
    with es_errors("reading the saved search"):
        try:
            resp = client.get(index=saved_index(settings), id=name.strip())
        except NotFoundError:
            resp = None
    if resp is None or not resp.get("found"):
        known = ", ".join(s.name for s in list_saved(client, settings)) or "none yet"
        raise SavedSearchError(f"no saved search called {name!r} (saved: {known}); save one in the web feed first")
    return SavedSearch.from_dict(resp["_source"])


def delete_saved(client: Elasticsearch, settings: Settings, name: str) -> bool:
    """Delete a saved search; False when there was none."""
    with es_errors("deleting the saved search"):
        try:
            client.delete(index=saved_index(settings), id=name, refresh="wait_for")
        except NotFoundError:
            return False
    return True


def filter_options(client: Elasticsearch, settings: Settings) -> dict[str, Any]:
    """Values for a filter bar: brands, source names with their weight, source types (one small aggregation)."""

    with es_errors("reading filter values"):
        resp = client.search(
            index=articles_alias(settings),
            size=0,
            ignore_unavailable=True,  # nothing indexed yet: empty filter lists, not an error
            aggs={
                "brands": {"terms": {"field": "brands", "size": 200}},
                "sources": {
                    "terms": {"field": "source.name", "size": 1000},
                    "aggs": {"weight": {"max": {"field": "source.weight"}}},
                },
                "types": {"terms": {"field": "source.type", "size": 10}},
            },
        )
    aggs = resp.get("aggregations") or {}

    def keys(name: str) -> list[Any]:
        return [b["key"] for b in (aggs.get(name) or {}).get("buckets", [])]

    sources = {b["key"]: float(b["weight"]["value"] or 1.0) for b in (aggs.get("sources") or {}).get("buckets", [])}
    return {"brands": sorted(keys("brands")), "sources": dict(sorted(sources.items())), "types": sorted(keys("types"))}
