"""Counts per bucket, top stories and growing reprint clusters from Elasticsearch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from alerts.rules import Rule
from indexer.mappings import articles_alias
from rezonans.config import Settings

#: At most this many buckets per request (the server's search.max_buckets is 65,536).
MAX_BUCKETS = 5000


@dataclass
class Bucket:
    """Articles in one bucket: all that match the rule, and those negative towards its brand."""

    ts: int
    total: int
    negative: int


def resolve_rule(client: Elasticsearch, settings: Settings, rule: Rule) -> Rule:
    """A `saved:` rule with its saved search read now (query and filters as an Elasticsearch query; its one brand,
    if it names exactly one and the rule names none); other rules as they are. An edited saved search changes
    the rule's fingerprint, so its detector learns afresh."""
    if not rule.saved:
        return rule
    from search.saved import build_request, resolve_saved

    saved = resolve_saved(client, settings, rule.saved)
    request = build_request(saved.query, saved.filters, None, None)
    brands = saved.filters.brands
    update: dict[str, Any] = {"es_query": request.body_query()}
    if not rule.brand and len(brands) == 1:
        update["brand"] = brands[0].lower()
    return rule.model_copy(update=update)


def _ms(ts: int) -> int:
    """Epoch seconds → epoch milliseconds."""
    return int(ts) * 1000


def rule_query(
    rule: Rule, start: int | None = None, end: int | None = None, negative_only: bool = False
) -> dict[str, Any]:
    """Article-level filter of a rule (brand, query) within [start, end)."""
    filters: list[dict[str, Any]] = []
    if start is not None or end is not None:
        rng: dict[str, Any] = {"format": "epoch_millis"}
        if start is not None:
            rng["gte"] = _ms(start)
        if end is not None:
            rng["lt"] = _ms(end)
        filters.append({"range": {"published_at": rng}})
    if rule.brand:
        filters.append({"term": {"brands": rule.brand}})
    if rule.query:
        from search.query import parse, to_dsl

        node = parse(rule.query)
        filters.append(to_dsl(node, [rule.brand] if rule.brand else None))
    if rule.es_query:
        filters.append(rule.es_query)
    if negative_only and rule.brand:
        filters.append(
            {
                "nested": {
                    "path": "mentions",
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"mentions.brand": rule.brand}},
                                {"term": {"mentions.sentiment": "negative"}},
                            ]
                        }
                    },
                }
            }
        )
    return {"bool": {"filter": filters}}


def bucket_counts(client: Elasticsearch, settings: Settings, rule: Rule, start: int, end: int) -> list[Bucket]:
    """Articles per bucket in [start, end) (bucket-aligned), zero-filled; negatives counted on the brand's mentions.

    Brand rules aggregate over the nested mentions (filter brand → date_histogram on mentions.published_at →
    reverse_nested) so each article counts once per bucket however often it names the brand.
    """
    b = rule.bucket
    if start % b or end % b:
        raise ValueError("start and end must be multiples of the bucket")
    out: list[Bucket] = []
    for lo in range(start, end, MAX_BUCKETS * b):
        hi = min(end, lo + MAX_BUCKETS * b)
        out.extend(_bucket_counts(client, settings, rule, lo, hi))
    return out


def _histogram(field: str, b: int, start: int, end: int) -> dict[str, Any]:
    """Zero-filled fixed-interval histogram over [start, end)."""
    return {
        "field": field,
        "fixed_interval": f"{b}s",
        "min_doc_count": 0,
        "extended_bounds": {"min": _ms(start), "max": _ms(end - b)},
        "format": "epoch_millis",
    }


def _bucket_counts(client: Elasticsearch, settings: Settings, rule: Rule, start: int, end: int) -> list[Bucket]:
    """One request of `bucket_counts`."""
    b = rule.bucket
    query = rule_query(rule, start, end)
    if rule.brand:
        aggs = {
            "m": {
                "nested": {"path": "mentions"},
                "aggs": {
                    "brand": {
                        "filter": {
                            "bool": {
                                "filter": [
                                    {"term": {"mentions.brand": rule.brand}},
                                    {
                                        "range": {
                                            "mentions.published_at": {
                                                "gte": _ms(start),
                                                "lt": _ms(end),
                                                "format": "epoch_millis",
                                            }
                                        }
                                    },
                                ]
                            }
                        },
                        "aggs": {
                            "h": {
                                "date_histogram": _histogram("mentions.published_at", b, start, end),
                                "aggs": {
                                    "articles": {"reverse_nested": {}},
                                    "neg": {
                                        "filter": {"term": {"mentions.sentiment": "negative"}},
                                        "aggs": {"articles": {"reverse_nested": {}}},
                                    },
                                },
                            }
                        },
                    }
                },
            }
        }
        resp = client.search(
            index=articles_alias(settings),
            size=0,
            query=query,
            aggs=aggs,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        raw = resp.get("aggregations", {}).get("m", {}).get("brand", {}).get("h", {}).get("buckets", [])
        counts = {int(x["key"]) // 1000: (x["articles"]["doc_count"], x["neg"]["articles"]["doc_count"]) for x in raw}
    else:
        aggs = {"h": {"date_histogram": _histogram("published_at", b, start, end)}}
        resp = client.search(
            index=articles_alias(settings),
            size=0,
            query=query,
            aggs=aggs,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        raw = resp.get("aggregations", {}).get("h", {}).get("buckets", [])
        counts = {int(x["key"]) // 1000: (x["doc_count"], 0) for x in raw}
    return [Bucket(ts, *counts.get(ts, (0, 0))) for ts in range(start, end, b)]


def top_stories(
    client: Elasticsearch,
    settings: Settings,
    rule: Rule,
    start: int,
    end: int,
    size: int = 5,
    negative_only: bool = False,
) -> list[dict[str, Any]]:
    """Titles and links of the weightiest articles in [start, end), one per reprint cluster."""
    if size <= 0:
        return []
    resp = client.search(
        index=articles_alias(settings),
        size=max(30, size * 6),
        query=rule_query(rule, start, end, negative_only=negative_only),
        sort=[{"source.weight": {"order": "desc", "unmapped_type": "float"}}, {"published_at": {"order": "desc"}}],
        source_includes=["title", "url", "source.name", "published_at", "cluster"],
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    seen: set[str] = set()
    stories: list[dict[str, Any]] = []
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        key = src.get("cluster") or hit["_id"]
        if key in seen:
            continue
        seen.add(key)
        stories.append(
            {
                "title": src.get("title") or src.get("url"),
                "url": src.get("url"),
                "source": (src.get("source") or {}).get("name"),
                "published_at": src.get("published_at"),
                "cluster": src.get("cluster"),
            }
        )
        if len(stories) >= size:
            break
    return stories


def growing_clusters(
    client: Elasticsearch, settings: Settings, rule: Rule, start: int, end: int, min_articles: int, min_sources: int
) -> list[dict[str, Any]]:
    """Reprint clusters with at least `min_articles` articles from `min_sources` sources in [start, end)."""
    aggs = {
        "c": {
            "terms": {"field": "cluster", "size": 50, "min_doc_count": min_articles, "order": {"_count": "desc"}},
            "aggs": {
                "sources": {"cardinality": {"field": "source.name"}},
                "first": {
                    "top_hits": {
                        "size": 1,
                        "sort": [{"published_at": {"order": "asc"}}],
                        "_source": {"includes": ["title", "url", "source.name", "published_at"]},
                    }
                },
            },
        }
    }
    resp = client.search(
        index=articles_alias(settings),
        size=0,
        query=rule_query(rule, start, end),
        aggs=aggs,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    out = []
    for x in resp.get("aggregations", {}).get("c", {}).get("buckets", []):
        if x["sources"]["value"] < min_sources:
            continue
        first = x["first"]["hits"]["hits"][0]["_source"] if x["first"]["hits"]["hits"] else {}
        out.append(
            {
                "cluster": x["key"],
                "articles": x["doc_count"],
                "sources": x["sources"]["value"],
                "title": first.get("title") or first.get("url"),
                "url": first.get("url"),
                "source": (first.get("source") or {}).get("name"),
                "published_at": first.get("published_at"),
            }
        )
    return out
