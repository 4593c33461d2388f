"""Run a search: query language → Elasticsearch, snippets with highlights, reprint counts, uncapped export."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from elasticsearch import Elasticsearch

from indexer.client import es_errors
from indexer.mappings import articles_alias
from rezonans.config import Settings
from rezonans.errors import UserError
from search.lemmas import normal_forms, words
from search.query import And, FieldTerm, Node, Or, context_brands, highlight_terms, parse, to_dsl
from search.resolve import BrandWord, resolve
from search.vocabulary import Vocabulary

log = logging.getLogger(__name__)

SortOrder = Literal["date", "relevance"]
MAX_WINDOW = 10_000
SOURCE_FIELDS = [
    "id",
    "url",
    "title",
    "lead",
    "text",
    "source",
    "published_at",
    "brands",
    "brand_tone",
    "cluster",
    "is_original",
    "promo_codes",
]


class SearchError(UserError):
    """A search that cannot be asked that way (bad paging); the message says how to fix it."""


@dataclass
class Hit:
    """One search result as shown to people and exported."""

    id: str
    url: str
    title: str
    published_at: str | None
    source: str
    source_type: str
    brands: list[str]
    tone: dict[str, str]
    cluster: str | None
    story_size: int
    reprints: int
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/CSV."""
        data = asdict(self)
        data["highlights"] = [list(h) for h in self.highlights]
        return data


@dataclass
class SearchPage:
    """A page of results with the exact total."""

    total: int
    page: int
    size: int
    hits: list[Hit]
    took_ms: int = 0


@dataclass
class SearchRequest:
    """Everything a search needs besides the server."""

    query: str
    date_from: datetime | None = None
    date_to: datetime | None = None
    brands: list[str] = field(default_factory=list)
    sort: SortOrder = "date"
    exact: bool = False  # phrases, title: and words match only the forms as written
    vocabulary: Vocabulary | None = None  # resolves brand names/aliases and source names; None: taken as given

    def node(self) -> Node:
        """The parsed query with names resolved through the vocabulary (QuerySyntaxError on a bad or unknown one)."""
        return self.resolved()[0]

    def resolved(self) -> tuple[Node, list[BrandWord]]:
        """The resolved query and the bare words read as brands."""
        node = parse(self.query)
        if self.vocabulary is None:
            return node, []
        return resolve(node, self.vocabulary, self.query)

    def highlights(self) -> tuple[set[str], list[str]]:
        """Lemmas and phrases to mark in snippets: the query's words and phrases and the names of its brands."""
        node = self.node()
        lemmas, phrases = highlight_terms(node)
        if self.vocabulary is not None:
            brand_lemmas, brand_phrases = self.vocabulary.highlights(_positive_brands(node) + self.brand_ids())
            lemmas |= brand_lemmas
            phrases += brand_phrases
        return lemmas, phrases

    def brand_ids(self) -> list[str]:
        """The --brand filters as ids (names and aliases resolved)."""
        if self.vocabulary is None:
            return [b.lower() for b in self.brands]
        return [self.vocabulary.brand(b) for b in self.brands]

    def body_query(self) -> dict[str, Any]:
        """The ES query (raises QuerySyntaxError on a bad query)."""
        node = self.node()
        brands = self.brand_ids()
        scope = brands + context_brands(node)
        filters: list[dict[str, Any]] = []
        if self.date_from or self.date_to:
            rng: dict[str, Any] = {}
            if self.date_from:
                rng["gte"] = self.date_from.isoformat()
            if self.date_to:
                rng["lt"] = self.date_to.isoformat()
            filters.append({"range": {"published_at": rng}})
        if brands:
            filters.append({"terms": {"brands": brands}})
        return {"bool": {"must": [to_dsl(node, scope, self.exact)], "filter": filters}}

    def sort_clause(self) -> list[Any]:
        """Stable sort: by date (newest first) or score, always ending with the unique id."""
        by_date = [{"published_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
        return ([{"_score": "desc"}] + by_date) if self.sort == "relevance" else by_date


def _positive_brands(node: Node) -> list[str]:
    """Brands named by brand: conditions that are not negated."""
    if isinstance(node, FieldTerm):
        return [node.value] if node.name == "brand" else []
    if isinstance(node, And | Or):
        return [b for child in node.children for b in _positive_brands(child)]
    return []


def make_snippet(
    text: str, lemmas: set[str], phrases: list[str], width: int = 220
) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first match, with match offsets (lemma matches found by lemmatising words)."""
    text = " ".join(text.split())
    spans: list[tuple[int, int]] = []
    low = text.lower()
    for phrase in phrases:
        p = " ".join(phrase.lower().split())
        if not p:
            continue
        start = low.find(p)
        while start >= 0:
            spans.append((start, start + len(p)))
            start = low.find(p, start + len(p))
    if lemmas:
        for s, e, w in words(text):
            if normal_forms(w) & lemmas:
                spans.append((s, e))
    spans = sorted(set(spans))
    if not text:
        return "", []
    first = spans[0][0] if spans else 0
    begin = max(0, first - width // 3)
    if begin > 0:
        space = text.rfind(" ", 0, begin)
        begin = space + 1 if space >= 0 else begin
    end = min(len(text), begin + width)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin else end
    prefix = "…" if begin > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - begin
    kept = [(s + shift, e + shift) for s, e in spans if s >= begin and e <= end]
    return prefix + text[begin:end] + suffix, _merge(kept)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping spans."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def story_sizes(client: Elasticsearch, settings: Settings, clusters: list[str]) -> dict[str, int]:
    """How many articles share each cluster (the story size; reprints = size - 1)."""
    clusters = sorted({c for c in clusters if c})
    if not clusters:
        return {}
    resp = client.search(
        index=articles_alias(settings),
        size=0,
        query={"terms": {"cluster": clusters}},
        aggs={"c": {"terms": {"field": "cluster", "size": len(clusters)}}},
    )
    return {b["key"]: b["doc_count"] for b in resp["aggregations"]["c"]["buckets"]}


def _to_hit(raw: dict[str, Any], lemmas: set[str], phrases: list[str], sizes: dict[str, int]) -> Hit:
    """Turn one ES hit into a Hit."""
    src = raw["_source"]
    text = " ".join(x for x in (src.get("lead") or "", src.get("text") or "") if x) or src.get("title") or ""
    snippet, spans = make_snippet(text, lemmas, phrases)
    cluster = src.get("cluster")
    size = sizes.get(cluster, 1) if cluster else 1
    source = src.get("source") or {}
    return Hit(
        id=src.get("id") or raw["_id"],
        url=src.get("url", ""),
        title=src.get("title", ""),
        published_at=src.get("published_at"),
        source=source.get("name", ""),
        source_type=source.get("type", ""),
        brands=list(src.get("brands") or []),
        tone={t["brand"]: t["sentiment"] for t in src.get("brand_tone") or []},
        cluster=cluster,
        story_size=size,
        reprints=max(0, size - 1),
        snippet=snippet,
        highlights=spans,
        score=raw.get("_score"),
    )


def _call(func: Any, **kwargs: Any) -> dict[str, Any]:
    """Call the server; its failures become ESUnavailable / ESRefused with a hint."""
    with es_errors("the search"):
        return func(**kwargs)


def search(
    client: Elasticsearch, settings: Settings, request: SearchRequest, page: int = 1, size: int = 20
) -> SearchPage:
    """One page of results (page × size must stay within 10,000; use `export` beyond)."""
    if page < 1 or size < 1:
        raise SearchError("--page and --size must be at least 1")
    if page * size > MAX_WINDOW:
        raise SearchError(f"pages end at result {MAX_WINDOW}: narrow the query or export everything with --json/--csv")
    query = request.body_query()
    lemmas, phrases = request.highlights()
    resp = _call(
        client.search,
        index=articles_alias(settings),
        query=query,
        sort=request.sort_clause(),
        from_=(page - 1) * size,
        size=size,
        track_total_hits=True,
        source=SOURCE_FIELDS,
    )
    raw_hits = resp["hits"]["hits"]
    sizes = story_sizes(client, settings, [h["_source"].get("cluster") for h in raw_hits])
    hits = [_to_hit(h, lemmas, phrases, sizes) for h in raw_hits]
    return SearchPage(
        total=resp["hits"]["total"]["value"], page=page, size=size, hits=hits, took_ms=int(resp.get("took", 0))
    )


def export(client: Elasticsearch, settings: Settings, request: SearchRequest, batch: int = 1000) -> Iterator[Hit]:
    """Every matching article, without the 10,000 cap, paged with search_after on a stable sort."""
    query = request.body_query()
    lemmas, phrases = request.highlights()
    after: list[Any] | None = None
    while True:
        kwargs: dict[str, Any] = dict(
            index=articles_alias(settings),
            query=query,
            sort=request.sort_clause(),
            size=batch,
            source=SOURCE_FIELDS,
            track_total_hits=False,
        )
        if after is not None:
            kwargs["search_after"] = after
        resp = _call(client.search, **kwargs)
        raw_hits = resp["hits"]["hits"]
        if not raw_hits:
            return
        sizes = story_sizes(client, settings, [h["_source"].get("cluster") for h in raw_hits])
        for raw in raw_hits:
            yield _to_hit(raw, lemmas, phrases, sizes)
        after = raw_hits[-1]["sort"]
        if len(raw_hits) < batch:
            return
