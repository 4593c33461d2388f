"""Article documents in time-based indices: templates, naming, documents, retention and migration."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from indexer.mappings import (
    ARTICLE_PROPERTIES,
    MAPPING_VERSION,
    article_template,
    articles_alias,
    articles_pattern,
    template_name,
)
from rezonans.config import Settings
from rezonans.model import Article, EngagementUpdate

log = logging.getLogger(__name__)

_MONTH_RE = re.compile(r"-articles-v(\d+)-(\d{4})\.(\d{2})$")


def ensure_templates(client: Elasticsearch, settings: Settings) -> None:
    """Install the current article template (idempotent); fields added to it since reach existing indices too."""
    body = article_template(settings)
    client.indices.put_index_template(name=template_name(settings), **body)
    # Adding a field (likes, comments, engagement…) needs no new mapping version: existing monthly indices of this
    # version get it too (new fields only; documents indexed before simply lack them).
    client.indices.put_mapping(index=articles_pattern(settings), properties=ARTICLE_PROPERTIES, allow_no_indices=True)


def index_for(article: Article, settings: Settings, version: int = MAPPING_VERSION) -> str:
    """Monthly index of an article, by publication date (crawl date, then now, if unknown)."""
    return monthly_index(article.published_at or article.crawled_at or datetime.now(UTC), settings, version)


def monthly_index(when: datetime, settings: Settings, version: int = MAPPING_VERSION) -> str:
    """The article index of the month (UTC) a date falls in."""
    return f"{settings.index_prefix}-articles-v{version}-{when.astimezone(UTC):%Y.%m}"


def to_document(article: Article) -> dict[str, Any]:
    """The stored form of an article: the model plus derived fields for search and aggregations."""
    doc = article.model_dump(mode="json")
    doc["brands"] = article.brands
    for mention in doc["mentions"]:
        mention["published_at"] = doc["published_at"]
        mention["source_name"] = article.source.name
        mention["source_domain"] = article.source.domain
        mention["source_weight"] = article.source.weight
        mention["cluster"] = article.cluster
        mention["is_original"] = article.is_original
    return doc


_DERIVED_MENTION_FIELDS = ("published_at", "source_name", "source_domain", "source_weight", "cluster", "is_original")


def from_document(source: dict[str, Any]) -> Article:
    """Rebuild the shared model from a stored document."""
    data = dict(source)
    data.pop("brands", None)
    data["mentions"] = [
        {k: v for k, v in m.items() if k not in _DERIVED_MENTION_FIELDS} for m in data.get("mentions") or []
    ]
    return Article.model_validate(data)


def action_for(article: Article, settings: Settings, index: str | None = None) -> dict[str, Any]:
    """A bulk `index` action with the stable id, so sending it twice changes nothing."""
    return {
        "_op_type": "index",
        "_index": index or index_for(article, settings),
        "_id": article.id,
        "_source": to_document(article),
    }


def engagement_action(update: EngagementUpdate, settings: Settings) -> dict[str, Any]:
    """A bulk partial `update` of a stored post's counters (its other fields, corrections included, stay)."""
    return {
        "_op_type": "update",
        "_index": monthly_index(update.published_at, settings),
        "_id": update.id,
        "doc": update.fields(),
    }


def article_indices(client: Elasticsearch, settings: Settings) -> list[dict[str, Any]]:
    """Concrete article indices of this prefix with version, month and document count, oldest first."""
    try:
        rows: list[dict[str, Any]] = client.cat.indices(  # type: ignore[assignment]
            index=f"{settings.index_prefix}-articles-v*",
            format="json",
            h="index,docs.count,store.size,health",
            expand_wildcards="open",
        )
    except NotFoundError:
        return []
    result = []
    for row in rows:
        m = _MONTH_RE.search(row["index"])
        if not m:
            continue
        result.append(
            {
                "index": row["index"],
                "version": int(m.group(1)),
                "month": f"{m.group(2)}-{m.group(3)}",
                "docs": int(client.count(index=row["index"])["count"]),  # cat counts nested docs too
                "size": row.get("store.size"),
                "health": row.get("health"),
            }
        )
    return sorted(result, key=lambda r: (r["month"], r["version"]))


def drop_older_than(
    client: Elasticsearch, settings: Settings, keep_months: int, now: datetime | None = None, dry_run: bool = False
) -> list[str]:
    """Retention: delete whole monthly indices older than `keep_months` months; return their names."""
    if keep_months < 1:
        raise ValueError("keep_months must be at least 1")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    first_kept = now.year * 12 + (now.month - 1) - (keep_months - 1)
    doomed = []
    for row in article_indices(client, settings):
        year, month = map(int, row["month"].split("-"))
        if year * 12 + (month - 1) < first_kept:
            doomed.append(row["index"])
    if doomed and not dry_run:
        client.indices.delete(index=",".join(doomed))
        log.info("retention dropped %s", ", ".join(doomed))
    return doomed


def scan_articles(
    client: Elasticsearch, settings: Settings, query: dict[str, Any] | None = None, size: int = 500
) -> Iterator[tuple[str, Article]]:
    """Scroll through stored articles (optionally filtered), yielding (index, article)."""
    body = {"query": query or {"match_all": {}}}
    for hit in helpers.scan(
        client, index=articles_alias(settings), query=body, size=size, scroll="5m", preserve_order=False
    ):
        yield hit["_index"], from_document(hit["_source"])


def migrate(client: Elasticsearch, settings: Settings, to_version: int = MAPPING_VERSION) -> dict[str, int]:
    """Copy older-version monthly indices into `to_version` ones with scroll + bulk, swap the alias, drop the old."""
    ensure_templates(client, settings)
    alias = articles_alias(settings)
    moved: dict[str, int] = {}
    for row in article_indices(client, settings):
        if row["version"] >= to_version:
            continue
        old = row["index"]
        new = old.replace(f"-articles-v{row['version']}-", f"-articles-v{to_version}-")
        if not client.indices.exists(index=new):
            client.indices.create(index=new, aliases={})  # template gives mappings; alias added at the swap
            client.indices.update_aliases(actions=[{"remove": {"index": new, "alias": alias}}])
        actions = (
            {
                "_op_type": "index",
                "_index": new,
                "_id": hit["_id"],
                "_source": to_document(from_document(hit["_source"])),
            }
            for hit in helpers.scan(client, index=old, query={"query": {"match_all": {}}}, size=500)
        )
        ok, errors = helpers.bulk(client, actions, chunk_size=500, raise_on_error=False, max_retries=3)
        if isinstance(errors, list) and errors:
            raise RuntimeError(
                f"migration of {old} left {len(errors)} documents behind; the old index is kept: {errors[:2]}"
            )
        client.indices.refresh(index=new)
        client.indices.update_aliases(
            actions=[
                {"add": {"index": new, "alias": alias}},
                {"remove_index": {"index": old}},
            ]
        )
        moved[old] = ok
        log.info("migrated %s → %s (%d documents)", old, new, ok)
    return moved
