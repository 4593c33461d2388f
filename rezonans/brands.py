"""Brand cards: a YAML list of brands with aliases, competitors, exclusions and promo-code patterns.

Every stage shows brands by the names on these cards; the NLP stage compiles its matchers from them.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rezonans.errors import UserError, read_text_file
from rezonans.yamldoc import load_with_nodes, node_line

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


class BrandError(UserError):
    """A brand-card file is wrong; the message names the file, the line and the fix."""


class BrandCard(BaseModel):
    """One tracked brand: its names, its competitors and the phrases that void a match."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    competitors: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    promo_codes: list[str] = Field(default_factory=list)
    own_channels: list[str] = Field(default_factory=list)  # source names of the brand's own channels (SMM view)
    ambiguous: bool | None = None  # None: decided per name from the dictionary (common word or surname)
    slang: list[str] = Field(default_factory=list)  # informal spellings seen in posts («сбер», «билаин»)
    handles: list[str] = Field(default_factory=list)  # social handles / hashtags without @ or # («Beeline_RUS»)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        """Ids are stable lower-case keys used in the index and reports."""
        if not _ID.match(value):
            raise ValueError(f"id {value!r} must be lower-case latin letters, digits, '_' or '-' (e.g. 'sberbank')")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        """A brand needs a non-empty display name."""
        if not value.strip():
            raise ValueError("name must not be empty (e.g. name: Сбербанк)")
        return value.strip()

    @field_validator("aliases", "exclude", "slang")
    @classmethod
    def _strings(cls, value: list[str]) -> list[str]:
        """Drop empty strings and duplicates, keep order."""
        return list(dict.fromkeys(v.strip() for v in value if v and v.strip()))

    @field_validator("promo_codes")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        """Each promo-code pattern must be a valid regular expression."""
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"promo code pattern {pattern!r} is not a valid regex ({exc}); escape \\ as \\\\ in YAML double quotes"
                ) from exc
        return value

    @field_validator("handles")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        """Handles are kept without their leading @ or #; empty ones are dropped."""
        return list(dict.fromkeys(v.strip().lstrip("@#") for v in value if v and v.strip().lstrip("@#")))

    @property
    def names(self) -> list[str]:
        """The name and all aliases, without duplicates."""
        return list(dict.fromkeys([self.name, *self.aliases]))

    @property
    def match_names(self) -> list[str]:
        """Everything matched as words in a text: name, aliases and slang forms."""
        return list(dict.fromkeys([*self.names, *self.slang]))


class BrandSet(BaseModel):
    """The whole brand-card file."""

    model_config = ConfigDict(extra="forbid")

    brands: list[BrandCard]

    @model_validator(mode="after")
    def _check_refs(self) -> BrandSet:
        """Ids are unique; unknown competitor ids are allowed (they may be tracked elsewhere) but not self-references."""
        seen: set[str] = set()
        for card in self.brands:
            if card.id in seen:
                raise ValueError(f"brand id {card.id!r} appears twice: ids must be unique")
            seen.add(card.id)
            if card.id in card.competitors:
                raise ValueError(f"brand {card.id!r} lists itself as a competitor: remove it from competitors")
        return self

    def get(self, brand_id: str) -> BrandCard | None:
        """The card with this id, if any."""
        return next((c for c in self.brands if c.id == brand_id), None)


def parse_brands(text: str, source: str = "<brands>") -> BrandSet:
    """Validate brand cards from YAML text; errors say where (file:line) and how to fix."""
    node, data = load_with_nodes(text, source, BrandError)
    if isinstance(data, list):  # a bare list of cards is accepted too
        data = {"brands": data}
        node = yaml.MappingNode("tag:yaml.org,2002:map", [(yaml.ScalarNode("tag:yaml.org,2002:str", "brands"), node)])
    if not isinstance(data, dict) or "brands" not in data:
        raise BrandError(
            f"{source}:1: expected a mapping with a 'brands:' list, e.g.\nbrands:\n  - id: sberbank\n    name: Сбербанк"
        )
    try:
        return BrandSet.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = node_line(node, loc)
            field = ".".join(str(p) for p in loc) or "brands"
            msg = err["msg"]
            if err["type"] == "missing":
                msg = f"field '{loc[-1]}' is required (add '{loc[-1]}: ...' to this card)"
            elif err["type"] == "extra_forbidden":
                msg = f"unknown field '{loc[-1]}' (allowed: id, name, aliases, competitors, exclude, promo_codes, own_channels, ambiguous, slang, handles)"
            problems.append(f"{source}:{line}: {field}: {msg}")
        raise BrandError("bad brand cards:\n" + "\n".join(problems)) from exc


def load_brands(path: str | Path) -> BrandSet:
    """Read and validate a brand-card YAML file."""
    path = Path(path)
    if not path.exists():
        raise BrandError(f"brand file {path} does not exist: pass --brands FILE or set REZONANS_BRANDS")
    return parse_brands(read_text_file(path, "brand file"), str(path))


EXAMPLE_BRANDS = Path(__file__).parent / "data" / "brands.yaml"
"""The example cards shipped with the package (three banks, two retailers, two telecoms)."""


def default_brands_path(configured: Path | None = None) -> Path:
    """Brand file in use: the configured one (`brands` setting, $REZONANS_BRANDS), else the shipped example."""
    return Path(configured) if configured else EXAMPLE_BRANDS
