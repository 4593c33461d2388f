"""The sources file: which feeds, sitemaps, site sections, channels and other source types to crawl.

The common keys are checked here; each type's own keys and rules live in its plug-in (crawler.sourcetypes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler import sourcetypes
from rezonans.errors import UserError, read_text_file
from rezonans.model import SourceRef
from rezonans.yamldoc import load_with_nodes, node_line

DEFAULT_SOURCES = Path(__file__).with_name("sources_default.yaml")

_FIX_HINTS = {
    "name": "give every source a name, e.g. `name: Example News`",
    "url": "give an absolute http(s) URL, e.g. `url: https://example.ru/rss` (telegram: https://t.me/s/NAME)",
    "urls": "give a list of absolute http(s) URLs",
    "weight": "use a positive number such as 1.0",
    "tags": "use a list such as `tags: [federal, business]`",
    "max_pages": "use a whole number of pages such as 50",
    "depth": "use a whole number of link hops such as 1",
    "budget": "use a whole number of article pages per run such as 2000",
}


_KEYED = re.compile(r"^(\w+): (.*)$", re.S)


class SourcesError(UserError):
    """The sources file is wrong; the message names the line and the fix."""


class Source(BaseModel):
    """One source to crawl."""

    model_config = ConfigDict(extra="allow")  # keys beyond the common ones are checked by the type's plug-in

    name: str = Field(min_length=1)
    type: str = "rss"
    url: str = ""
    urls: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)
    tags: list[str] = Field(default_factory=list)
    depth: int = Field(default=1, ge=0, le=5)
    max_pages: int | None = Field(default=None, ge=1)
    budget: int | None = Field(default=None, ge=1)
    enabled: bool = True

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        """The type must be a registered plug-in."""
        if value not in sourcetypes.load():
            raise ValueError(f"unknown source type {value!r}")
        return value

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
    def _by_type(self) -> Source:
        """The type's plug-in checks its own keys and normalises the entry; most types need a URL."""
        kind = sourcetypes.get(self.type)
        kind.validate_extra(dict(self.model_extra or {}), type(self).model_fields)
        if kind.needs_url and not self.url and not self.urls:
            raise ValueError("url: a source needs `url` (or a list `urls`)")
        return kind.check(self)

    @property
    def start_urls(self) -> list[str]:
        """All start URLs of the source."""
        return ([self.url] if self.url else []) + [u for u in self.urls if u != self.url]

    @property
    def ref(self) -> SourceRef:
        """The SourceRef stamped on every article of this source."""
        return SourceRef(name=self.name, type=self.type, weight=self.weight, tags=list(self.tags))


def _line_of(root: yaml.Node | None, index: int, field: str | None) -> int | None:
    """1-based line of sources[index].field (or of the item) in the YAML node tree."""
    return node_line(root, ("sources", index, field) if field else ("sources", index))


def _problem(origin: str, root: yaml.Node | None, index: int, item: dict[str, Any], err: Any) -> str:
    """One validation error as 'file:line: source NAME: key: what — fix: how'."""
    field = str(err["loc"][0]) if err["loc"] else None
    message = str(err["msg"]).removeprefix("Value error, ")
    keyed = _KEYED.match(message)
    if field is None and keyed:  # a plug-in's check: "Value error, key: what is wrong"
        field, message = keyed.group(1), keyed.group(2)
    line = _line_of(root, index, field if field in item else None)
    label = item.get("name", f"#{index + 1}")
    kind = sourcetypes.load().get(str(item.get("type", "rss")))
    if field == "type":
        hint = "use one of " + " | ".join(sourcetypes.names())
    elif field == "url" and kind is not None:
        hint = kind.url_hint
    elif message.startswith("unknown key") or err["type"] == "extra_forbidden":
        hint = "remove or rename the key"
    else:
        hint = _FIX_HINTS.get(field or "", "see docs/sources.md for the keys of each source type")
    return f"{origin}:{line}: source {label!s}: {field or 'source'}: {message} — fix: {hint}"


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
            errors: list[Any] = list(exc.errors())
            kind = sourcetypes.load().get(str(item.get("type", "rss")))
            if kind is not None and not any(not e["loc"] for e in errors):  # the type's check did not run
                try:
                    kind.validate_extra(
                        {k: v for k, v in item.items() if k not in Source.model_fields}, Source.model_fields
                    )
                except ValueError as extra:
                    errors.append({"loc": (), "msg": str(extra), "type": "value_error"})
            problems.extend(_problem(origin, root, index, item, err) for err in errors)
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
