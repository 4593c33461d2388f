"""The Elasticsearch requests behind a report: one aggregation search per period, plus a few small searches.

Only aggregations that the minimal server has are used :
filter, filters, terms, date_histogram, cardinality, nested, reverse_nested, top_hits, sum, max, min, avg,
value_count; tests/report/test_report_metrics.py runs every one of them on the real server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from indexer.mappings import articles_alias
from report.periods import Period
from rezonans.config import Settings

TOP_N = 10
PUBLIC_POSTS = ["telegram", "vk"]  # source types whose posts carry engagement (likes, reposts, comments, views)
STORY_CANDIDATES = 100  # stories read (by the brand's prominence) before ranking by its publicity in each
WEIGHT_BUCKETS = 200  # distinct source weights expected; more are reported as a warning by metrics


@dataclass
class ReportScope:
    """Who the report is about."""

    brand: str
    competitors: list[str] = field(default_factory=list)
    own_channels: list[str] = field(default_factory=list)
    promo_codes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # brand id → display name (from the brand cards)

    def name(self, brand: str) -> str:
        """The display name of a brand id (the id when no card names it)."""
        return self.names.get(brand, brand)


def period_range(period: Period) -> dict[str, Any]:
    """Range filter on published_at for a period."""
    return {"range": {"published_at": {"gte": period.start.isoformat(), "lt": period.end.isoformat()}}}


def _ms(when: datetime) -> int:
    """Epoch milliseconds (extended_bounds are inclusive and must not go through the key format)."""
    return int(when.timestamp() * 1000)


def _pi_aggs(prefix: str = "mentions") -> dict[str, Any]:
    """Mention counts and prominence sums by sentiment and source weight: enough to compute the index exactly."""
    return {
        "by_sentiment": {
            "terms": {"field": f"{prefix}.sentiment", "size": 3},
            "aggs": {
                "by_weight": {
                    "terms": {"field": f"{prefix}.source_weight", "size": WEIGHT_BUCKETS},
                    "aggs": {"prominence": {"sum": {"field": f"{prefix}.prominence"}}},
                }
            },
        }
    }


def _brand_mentions(brand: str, aggs: dict[str, Any]) -> dict[str, Any]:
    """nested(mentions) → filter(mention of brand) → aggs."""
    return {
        "nested": {"path": "mentions"},
        "aggs": {"brand": {"filter": {"term": {"mentions.brand": brand}}, "aggs": aggs}},
    }


def period_request(scope: ReportScope, period: Period) -> dict[str, Any]:
    """The aggregation search for one period (size 0)."""
    brands = [scope.brand] + [c for c in scope.competitors if c != scope.brand]
    tone = {
        "nested": {"path": "brand_tone"},
        "aggs": {
            "brand": {
                "filter": {"term": {"brand_tone.brand": scope.brand}},
                "aggs": {"sentiment": {"terms": {"field": "brand_tone.sentiment", "size": 3}}},
            }
        },
    }
    brand_aggs: dict[str, Any] = {
        "clusters": {"cardinality": {"field": "cluster", "precision_threshold": 40000}},
        "no_cluster": {"filter": {"bool": {"must_not": [{"exists": {"field": "cluster"}}]}}},
        "daily": {
            "date_histogram": {
                "field": "published_at",
                "calendar_interval": "day",
                "time_zone": period.tz,
                "min_doc_count": 0,
                "extended_bounds": {"min": _ms(period.start), "max": _ms(period.end) - 1},
                "format": "yyyy-MM-dd",
            },
            "aggs": {
                "clusters": {"cardinality": {"field": "cluster", "precision_threshold": 40000}},
                "no_cluster": {"filter": {"bool": {"must_not": [{"exists": {"field": "cluster"}}]}}},
                "mentions": _brand_mentions(scope.brand, _pi_aggs()),
            },
        },
        "tone": tone,
        "engagement": {
            "filter": {"terms": {"source.type": PUBLIC_POSTS}},
            "aggs": {
                **{k: {"sum": {"field": k}} for k in ("likes", "forwards", "comments", "views", "engagement")},
                # how many posts carry each count: Telegram has no likes or comments, and "0" would be a wrong figure
                **{
                    f"{k}_n": {"value_count": {"field": k}}
                    for k in ("likes", "forwards", "comments", "views", "engagement")
                },
                "top": {
                    "top_hits": {
                        "size": TOP_N,
                        "sort": [
                            {"engagement": {"order": "desc", "missing": "_last", "unmapped_type": "long"}},
                            {"views": {"order": "desc", "missing": "_last", "unmapped_type": "long"}},
                            {"published_at": {"order": "desc"}},
                        ],
                        "_source": [
                            "title",
                            "url",
                            "source.name",
                            "source.type",
                            "source.weight",
                            "published_at",
                            "likes",
                            "forwards",
                            "comments",
                            "views",
                            "engagement",
                            "mentions.brand",
                            "mentions.sentiment",
                            "mentions.prominence",
                        ],
                    }
                },
            },
        },
        "mentions": _brand_mentions(
            scope.brand,
            {
                **_pi_aggs(),
                "promo": {
                    "terms": {"field": "mentions.promo_codes", "size": 100},
                    "aggs": {"articles": {"reverse_nested": {}}},
                },
            },
        ),
        "sources": {
            "terms": {"field": "source.name", "size": TOP_N},
            "aggs": {
                "weight": {"max": {"field": "source.weight"}},
                "mentions": _brand_mentions(scope.brand, _pi_aggs()),
            },
        },
        "stories": {
            "terms": {
                "field": "cluster",
                "size": STORY_CANDIDATES,
                "order": [{"mentions>brand>prominence": "desc"}, {"_count": "desc"}, {"_key": "asc"}],
            },
            "aggs": {
                "mentions": _brand_mentions(
                    scope.brand,
                    {
                        **_pi_aggs(),
                        "prominence": {"sum": {"field": "mentions.prominence"}},
                        "top": {"max": {"field": "mentions.prominence"}},
                    },
                ),
                "outlets": {"cardinality": {"field": "source.name"}},
                "first": {
                    "top_hits": {
                        "size": 1,
                        "_source": ["title", "url", "source.name", "published_at"],
                        "sort": [{"is_original": {"order": "desc"}}, {"published_at": "asc"}],
                    }
                },
                "tone": tone,
            },
        },
    }
    aggs: dict[str, Any] = {
        "brand": {"filter": {"term": {"brands": scope.brand}}, "aggs": brand_aggs},
        "sov": {
            "filters": {"filters": {b: {"term": {"brands": b}} for b in brands}},
            "aggs": {
                "mentions": {
                    "nested": {"path": "mentions"},
                    "aggs": {
                        "by_brand": {"terms": {"field": "mentions.brand", "include": brands, "size": len(brands)}}
                    },
                }
            },
        },
    }
    if scope.own_channels:
        aggs["own"] = {
            "filter": {
                "bool": {
                    "filter": [{"terms": {"source.type": PUBLIC_POSTS}}, {"terms": {"source.name": scope.own_channels}}]
                }
            },
            "aggs": {
                "views": {"sum": {"field": "views"}},
                "forwards": {"sum": {"field": "forwards"}},
                "with_views": {"value_count": {"field": "views"}},
                "channels": {
                    "terms": {"field": "source.name", "size": len(scope.own_channels)},
                    "aggs": {"views": {"sum": {"field": "views"}}, "forwards": {"sum": {"field": "forwards"}}},
                },
            },
        }
    return {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": [period_range(period)]}}, "aggs": aggs}


def negatives_request(scope: ReportScope, period: Period, size: int = TOP_N) -> dict[str, Any]:
    """Articles negative towards the brand, most authoritative source first."""
    return {
        "size": size,
        "query": {
            "bool": {
                "filter": [
                    period_range(period),
                    {"term": {"brands": scope.brand}},
                    {
                        "nested": {
                            "path": "brand_tone",
                            "query": {
                                "bool": {
                                    "filter": [
                                        {"term": {"brand_tone.brand": scope.brand}},
                                        {"term": {"brand_tone.sentiment": "negative"}},
                                    ]
                                }
                            },
                        }
                    },
                ]
            }
        },
        "sort": [{"source.weight": {"order": "desc"}}, {"published_at": {"order": "desc"}}, {"id": "asc"}],
        "_source": [
            "id",
            "title",
            "url",
            "source.name",
            "source.weight",
            "published_at",
            "cluster",
            "text",
            "mentions.brand",
            "mentions.start",
            "mentions.end",
            "mentions.sentiment",
            "mentions.prominence",
        ],
    }


def daily_counts_request(scope: ReportScope, window: Period) -> dict[str, Any]:
    """Brand articles and publicity per day over a longer window (for lagged correlations)."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [period_range(window), {"term": {"brands": scope.brand}}]}},
        "aggs": {
            "daily": {
                "date_histogram": {
                    "field": "published_at",
                    "calendar_interval": "day",
                    "time_zone": window.tz,
                    "min_doc_count": 0,
                    "format": "yyyy-MM-dd",
                    "extended_bounds": {"min": _ms(window.start), "max": _ms(window.end) - 1},
                },
                "aggs": {"mentions": _brand_mentions(scope.brand, _pi_aggs())},
            }
        },
    }


def fetch_period(client: Elasticsearch, settings: Settings, scope: ReportScope, period: Period) -> dict[str, Any]:
    """Raw ES results for one period: {'aggs': ..., 'negatives': [hits], 'total': n}."""
    alias = articles_alias(settings)
    resp = client.search(index=alias, **period_request(scope, period))
    neg = client.search(index=alias, **negatives_request(scope, period))
    return {"aggs": resp["aggregations"], "negatives": neg["hits"]["hits"], "total": resp["hits"]["total"]["value"]}


def fetch_daily(client: Elasticsearch, settings: Settings, scope: ReportScope, window: Period) -> dict[str, Any]:
    """Raw daily series over the correlation window."""
    resp = client.search(index=articles_alias(settings), **daily_counts_request(scope, window))
    return resp["aggregations"]
