"""Versioned index templates: one document per article, mentions nested, monthly indices behind an alias."""

from __future__ import annotations

from typing import Any

from rezonans.config import Settings

#: Bump when the article mapping changes incompatibly; `rezonans index migrate` moves data to the new version.
MAPPING_VERSION = 1

KW = {"type": "keyword"}
KW_LONG = {"type": "keyword", "ignore_above": 1024}

MENTION_PROPERTIES: dict[str, Any] = {
    "brand": KW,
    "start": {"type": "integer"},
    "end": {"type": "integer"},
    "text": KW_LONG,
    "matched_form": KW_LONG,
    "placement": KW,
    "sentiment": KW,
    "sentiment_score": {"type": "float"},
    "prominence": {"type": "float"},
    "main_subject": {"type": "boolean"},
    "confidence": {"type": "float"},
    "topics": KW,
    "promo_codes": KW,
    "tone_reason": KW_LONG,
    # Copied from the article so that nested aggregations need no reverse_nested.
    "published_at": {"type": "date"},
    "source_name": KW,
    "source_domain": KW,
    "source_weight": {"type": "float"},
    "cluster": KW,
    "is_original": {"type": "boolean"},
}

ARTICLE_PROPERTIES: dict[str, Any] = {
    "id": KW,
    "url": KW_LONG,
    "canonical_url": KW_LONG,
    "source": {
        "properties": {
            "name": KW,
            "type": KW,
            "weight": {"type": "float"},
            "domain": KW,
            "tags": KW,
        }
    },
    "published_at": {"type": "date"},
    "crawled_at": {"type": "date"},
    "analyzed_at": {"type": "date"},
    "tone_model": KW,
    "title": {"type": "text", "analyzer": "standard", "fields": {"raw": KW_LONG}},
    "lead": {"type": "text", "analyzer": "standard"},
    "text": {"type": "text", "analyzer": "standard", "term_vector": "with_positions_offsets"},
    # pymorphy3 lemmas from the NLP stage, space-joined; the minimal server has no Russian analyzer.
    "lemmas": {"type": "text", "analyzer": "whitespace"},
    "language": KW,
    "author": KW_LONG,
    "content_hash": KW,
    "cluster": KW,
    "is_original": {"type": "boolean"},
    "views": {"type": "long"},
    "forwards": {"type": "long"},
    "likes": {"type": "long"},
    "comments": {"type": "long"},
    "engagement": {"type": "long"},
    "engagement_at": {"type": "date"},
    "links": {"type": "keyword", "index": False, "doc_values": False},
    "product": {"type": "text", "analyzer": "standard", "fields": {"raw": KW_LONG}},
    "rating": {
        "properties": {
            "value": {"type": "float"},
            "best": {"type": "float"},
            "worst": {"type": "float"},
            "score": {"type": "float"},
        }
    },
    "brands": KW,
    "topics": KW,
    "promo_codes": KW,
    "mentions": {"type": "nested", "properties": MENTION_PROPERTIES},
    "brand_tone": {
        "type": "nested",
        "properties": {
            "brand": KW,
            "sentiment": KW,
            "score": {"type": "float"},
            "mentions": {"type": "integer"},
            "tone_reason": KW_LONG,
            "tone_capped": {"type": "boolean"},
        },
    },
    "brand_sentiment": {"type": "object", "enabled": False},
    # Analysts' tone corrections (who/when); the corrected tone is also written into brand_tone and mentions.
    "tone_corrections": {
        "type": "nested",
        "properties": {
            "brand": KW,
            "sentiment": KW,
            "mention_start": {"type": "integer"},
            "placement": KW,
            "by": KW,
            "at": {"type": "date"},
            "previous": KW,
        },
    },
    "targets": {"type": "object", "enabled": False},
}


def articles_alias(settings: Settings) -> str:
    """Alias that reads every article index of every version."""
    return f"{settings.index_prefix}-articles"


def articles_pattern(settings: Settings, version: int = MAPPING_VERSION) -> str:
    """Index pattern of one mapping version."""
    return f"{settings.index_prefix}-articles-v{version}-*"


def template_name(settings: Settings, version: int = MAPPING_VERSION) -> str:
    """Name of the composable index template of one mapping version."""
    return f"{settings.index_prefix}-articles-v{version}"


def article_template(settings: Settings, version: int = MAPPING_VERSION) -> dict[str, Any]:
    """Body of the composable index template for article indices."""
    return {
        "index_patterns": [articles_pattern(settings, version)],
        "priority": 100 + version,
        "version": version,
        "_meta": {"rezonans_mapping_version": version, "managed_by": "rezonans"},
        "template": {
            "settings": {
                "number_of_shards": settings.es_shards,
                "number_of_replicas": settings.es_replicas,
                "refresh_interval": "1s",
                "max_result_window": 10000,
            },
            "mappings": {
                "dynamic": False,
                "_meta": {"rezonans_mapping_version": version},
                "properties": ARTICLE_PROPERTIES,
            },
            "aliases": {articles_alias(settings): {}},
        },
    }
