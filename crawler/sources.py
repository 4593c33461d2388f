"""The sources file: which feeds, sitemaps, site sections and Telegram channels to crawl."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rezonans.errors import UserError, read_text_file
from rezonans.model import SourceRef
from rezonans.yamldoc import load_with_nodes, node_line

DEFAULT_SOURCES = Path(__file__).with_name("sources_default.yaml")

_FIX_HINTS = {
    "name": "give every source a name, e.g. `name: Example News`",
    "type": "use one of rss | sitemap | site | telegram",
    "url": "give an absolute http(s) URL, e.g. `url: https://example.ru/rss` (telegram: https://t.me/s/NAME)",
    "urls": "give a list of absolute http(s) URLs",
    "weight": "use a positive number such as 1.0",
    "tags": "use a list such as `tags: [federal, business]`",
    "max_pages": "use a whole number of pages such as 50",
    "depth": "use a whole number of link hops such as 1",
    "budget": "use a whole number of article pages per run such as 2000",
}


class SourcesError(UserError):
    """The sources file is wrong; the message names the line and the fix."""


class Source(BaseModel):
    """One source to crawl."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    type: Literal["rss", "sitemap", "site", "telegram"] = "rss"
    url: str = ""
    urls: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)
    tags: list[str] = Field(default_factory=list)
    depth: int = Field(default=1, ge=0, le=5)
    max_pages: int | None = Field(default=None, ge=1)
    budget: int | None = Field(default=None, ge=1)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        """URLs must be absolute http(s)."""
        value = value.strip()
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return value

    @field_validator("urls")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        """Every extra start URL must be absolute http(s)."""
        for value in values:
            if urlsplit(value.strip()).scheme not in ("http", "https"):
                raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return [v.strip() for v in values]

    @model_validator(mode="after")
    def _need_url(self) -> Source:
        """A source needs at least one URL; Telegram URLs are normalised to the t.me/s/ preview."""
        if not self.url and not self.urls:
            raise ValueError("url: a source needs `url` (or a list `urls`)")
        if self.type == "telegram":
            self.url, self.urls = (
                telegram_preview(self.url) if self.url else "",
                [telegram_preview(u) for u in self.urls],
            )
        return self

    @property
    def start_urls(self) -> list[str]:
        """All start URLs of the source."""
        return ([self.url] if self.url else []) + [u for u in self.urls if u != self.url]

    @property
    def ref(self) -> SourceRef:
        """The SourceRef stamped on every article of this source."""
        return SourceRef(name=self.name, type=self.type, weight=self.weight, tags=list(self.tags))


def telegram_preview(url: str) -> str:
    """Turn t.me/NAME, t.me/s/NAME or @NAME into the web preview URL https://t.me/s/NAME (host kept for tests)."""
    url = url.strip()
    if url.startswith("@"):
        return f"https://t.me/s/{url[1:]}"
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if not path.startswith("s/"):
        path = f"s/{path}"
    return f"{parts.scheme}://{parts.netloc}/{path}"


def _line_of(root: yaml.Node | None, index: int, field: str | None) -> int | None:
    """1-based line of sources[index].field (or of the item) in the YAML node tree."""
    return node_line(root, ("sources", index, field) if field else ("sources", index))


def parse_sources(text: str, origin: str = "<sources>") -> list[Source]:
    """Parse and validate a sources YAML document; errors say file:line, what is wrong and how to fix it."""
    root, data = load_with_nodes(text, origin, SourcesError)
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourcesError(
            f"{origin}:1: expected a top-level `sources:` list, e.g.\nsources:\n  - name: Example\n    type: rss\n    url: https://example.ru/rss"
        )
    sources: list[Source] = []
    problems: list[str] = []
    names: set[str] = set()
    for index, item in enumerate(data["sources"]):
        if not isinstance(item, dict):
            problems.append(
                f"{origin}:{_line_of(root, index, None)}: source #{index + 1} must be a mapping with name/type/url"
            )
            continue
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else None
                if field is None and "url:" in err["msg"]:
                    field = "url"
                line = _line_of(root, index, field if field in item else None)
                label = item.get("name", f"#{index + 1}")
                hint = _FIX_HINTS.get(field or "", "remove unknown keys; allowed: " + ", ".join(Source.model_fields))
                if err["type"] == "extra_forbidden":
                    hint = "unknown key; allowed keys: " + ", ".join(Source.model_fields)
                problems.append(f"{origin}:{line}: source {label!s}: {field or 'source'}: {err['msg']} — fix: {hint}")
            continue
        if source.name in names:
            problems.append(
                f"{origin}:{_line_of(root, index, 'name')}: source name {source.name!r} is used twice — fix: give each source a unique name"
            )
            continue
        names.add(source.name)
        sources.append(source)
    if problems:
        raise SourcesError("\n".join(problems))
    return [s for s in sources if s.enabled]


def load_sources(path: Path | str | None = None) -> list[Source]:
    """Read a sources file (the shipped default list when no path is given)."""
    path = Path(path) if path else DEFAULT_SOURCES
    if not path.is_file():
        raise SourcesError(
            f"sources file {path} does not exist: pass --sources FILE or create it (see docs/crawler.md)"
        )
    return parse_sources(read_text_file(path, "sources file"), str(path))
