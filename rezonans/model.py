"""The one article/mention model that passes through every stage (crawl → analyze → index → report)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SourceType = Literal["rss", "sitemap", "site", "telegram", "vk", "reviews", "forum", "manual"]
Sentiment = Literal["positive", "neutral", "negative"]
Placement = Literal["title", "lead", "body"]

_WS = re.compile(r"\s+")


def canonicalize_url(url: str) -> str:
    """Return a stable form of a URL: lower-case scheme/host, no fragment, no default port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if parts.port and not ((scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = "&".join(
        sorted(
            q for q in parts.query.split("&") if q and not q.lower().startswith(("utm_", "yclid", "gclid", "fbclid"))
        )
    )
    return urlunsplit((scheme, host, path, query, ""))


def article_id(canonical_url: str) -> str:
    """Stable document id: SHA-1 of the canonical URL, so indexing twice changes nothing."""
    return hashlib.sha1(canonicalize_url(canonical_url).encode("utf-8")).hexdigest()


def content_hash(text: str) -> str:
    """Hash of whitespace- and case-normalised text, used for exact-duplicate (reprint) detection."""
    norm = _WS.sub(" ", text or "").strip().lower()
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


class SourceRef(BaseModel):
    """Where an article came from, with the authority weight used by the publicity index."""

    model_config = ConfigDict(extra="ignore")

    name: str
    type: SourceType = "site"
    weight: float = 1.0
    domain: str = ""
    tags: list[str] = Field(default_factory=list)


class Mention(BaseModel):
    """One occurrence of a tracked brand in an article, with its tone and context."""

    model_config = ConfigDict(extra="ignore")

    brand: str
    start: int
    end: int
    text: str
    matched_form: str = ""
    placement: Placement = "body"
    sentiment: Sentiment = "neutral"
    sentiment_score: float = 0.0
    prominence: float = 0.0
    main_subject: bool = False
    confidence: float = 1.0
    topics: list[str] = Field(default_factory=list)
    promo_codes: list[str] = Field(default_factory=list)
    tone_reason: str = ""  # the words or frame that decided the tone («оштрафовать (− for A1)»); "" when not judged


class Target(BaseModel):
    """A caller-given character span whose tone is wanted regardless of brand cards."""

    start: int
    end: int
    sentiment: Sentiment | None = None
    sentiment_score: float | None = None


class BrandTone(BaseModel):
    """Tone of the whole article towards one brand."""

    brand: str
    sentiment: Sentiment
    score: float = 0.0
    mentions: int = 0
    tone_reason: str = ""  # placement and reason of the mention that decided it («title: сбой, пожаловаться»)
    tone_capped: bool = False  # more mentions than the per-brand cap: only the first (title, lead first) were judged


class ToneCorrection(BaseModel):
    """An analyst's tone for a brand in one article (or one mention of it), with who set it and when."""

    model_config = ConfigDict(extra="ignore")

    brand: str
    sentiment: Sentiment
    mention_start: int | None = None  # None: the article's tone towards the brand (and all its mentions)
    placement: Placement | None = None  # with mention_start: the field the offset points into
    by: str = ""
    at: datetime | None = None
    previous: Sentiment | None = None


class Rating(BaseModel):
    """A review's rating on the page's own scale and normalised to 1–5."""

    model_config = ConfigDict(extra="ignore")

    value: float
    best: float = 5.0
    worst: float = 1.0
    score: float  # 1–5


class Article(BaseModel):
    """An article or public post, filled in stage by stage."""

    model_config = ConfigDict(extra="ignore")

    id: str = ""
    url: str
    canonical_url: str = ""
    source: SourceRef
    title: str = ""
    lead: str = ""
    text: str = ""
    published_at: datetime | None = None
    crawled_at: datetime | None = None
    author: str | None = None
    language: str | None = None
    content_hash: str = ""
    # Engagement of a public post (Telegram, VK): None where the source does not show it.
    views: int | None = None
    forwards: int | None = None  # Telegram forwards, VK reposts
    likes: int | None = None
    comments: int | None = None
    engagement: int | None = None  # likes + forwards/reposts + comments (views are reach, not engagement)
    engagement_at: datetime | None = None  # when the counters were read (first crawl, or a later walk's refresh)
    links: list[str] = Field(default_factory=list)
    # Reviews (`type: reviews`): what is reviewed and how it was rated.
    product: str | None = None
    rating: Rating | None = None
    # Filled by the NLP stage.
    lemmas: str = ""
    mentions: list[Mention] = Field(default_factory=list)
    brand_sentiment: dict[str, Sentiment] = Field(default_factory=dict)
    brand_tone: list[BrandTone] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    promo_codes: list[str] = Field(default_factory=list)
    cluster: str | None = None
    is_original: bool = True
    targets: list[Target] | None = None
    analyzed_at: datetime | None = None
    tone_model: str = ""  # version of the tone model that judged the mentions ("" before it was recorded)
    # Set by people (web workspace, `rezonans tone set`); re-applied after every re-analysis.
    tone_corrections: list[ToneCorrection] = Field(default_factory=list)

    @field_validator("published_at", "crawled_at", "analyzed_at", "engagement_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """Dates without a zone are taken as UTC so that every stage compares like with like."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _derive(self) -> Article:
        """Fill canonical URL, id, domain and content hash when a stage left them empty."""
        if not self.canonical_url:
            self.canonical_url = canonicalize_url(self.url)
        if not self.id:
            self.id = article_id(self.canonical_url)
        if not self.source.domain:
            self.source.domain = (urlsplit(self.canonical_url).hostname or "").lower()
        if not self.content_hash and self.text:
            self.content_hash = content_hash(self.text)
        counters = (self.likes, self.forwards, self.comments)
        if self.engagement is None and any(c is not None for c in counters):
            self.engagement = sum(c or 0 for c in counters)
        if self.engagement_at is None and (self.engagement is not None or self.views is not None):
            self.engagement_at = self.crawled_at
        return self

    @property
    def brands(self) -> list[str]:
        """Brand ids mentioned in the article, in first-mention order."""
        return list(dict.fromkeys(m.brand for m in self.mentions))

    def to_json(self) -> str:
        """Serialise as one JSONL line (no nulls dropped, ISO 8601 dates with zone)."""
        return self.model_dump_json(exclude_none=False)


class EngagementUpdate(BaseModel):
    """Fresh counters of a post already stored (Telegram, VK), read when a later walk passes it again."""

    url: str
    id: str = ""
    published_at: datetime  # finds the post's monthly index
    views: int | None = None
    forwards: int | None = None
    likes: int | None = None
    comments: int | None = None
    read_at: datetime

    @field_validator("published_at", "read_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """Dates without a zone are UTC, as in Article."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _derive(self) -> EngagementUpdate:
        """The stored post's id, from its URL as Article derives it."""
        if not self.id:
            self.id = article_id(self.url)
        return self

    def fields(self) -> dict[str, object]:
        """The stored fields to change: the counters read (never a None over a stored value) and their time."""
        counters = {k: getattr(self, k) for k in ("views", "forwards", "likes", "comments")}
        out: dict[str, object] = {k: v for k, v in counters.items() if v is not None}
        engaged = [counters[k] for k in ("likes", "forwards", "comments")]
        if any(c is not None for c in engaged):
            out["engagement"] = sum(c or 0 for c in engaged)
        out["engagement_at"] = self.read_at.isoformat()
        return out
