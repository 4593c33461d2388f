"""What names mean: brand ids, display names and aliases from the brand cards, source names and domains from the
index; query values and command-line names are resolved through it, case-insensitively, unknown ones refused."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from indexer.client import es_errors
from indexer.mappings import articles_alias
from rezonans.brands import BrandSet, load_brands
from rezonans.config import Settings
from rezonans.errors import UserError
from search.lemmas import normal_forms, words

log = logging.getLogger(__name__)

VOCAB_SIZE = 5000  # distinct source names / brand ids read from the index


class UnknownNameError(UserError):
    """A brand, competitor, source or channel that neither the brand cards nor the index know."""


@dataclass
class Vocabulary:
    """Brand names (cards) and source names (index) for resolving what people type."""

    names: dict[str, str] = field(default_factory=dict)  # brand id → display name
    keys: dict[str, str] = field(default_factory=dict)  # lower-case id, name or alias → brand id
    forms: dict[frozenset[str], str] = field(default_factory=dict)  # normal forms of a one-word name → brand id
    indexed_brands: set[str] = field(default_factory=set)
    sources: dict[str, str] = field(default_factory=dict)  # lower-case source name → name as stored
    domains: dict[str, str] = field(default_factory=dict)  # lower-case domain → domain
    channels: dict[str, str] = field(default_factory=dict)  # lower-case Telegram source name → name
    spellings: dict[str, list[str]] = field(default_factory=dict)  # brand id → name and aliases (highlighting)
    cards: Path | None = None

    @classmethod
    def from_cards(cls, brand_set: BrandSet | None, cards: Path | None = None) -> Vocabulary:
        """Brand names and aliases of the cards (no index)."""
        vocab = cls(cards=cards)
        for card in brand_set.brands if brand_set else []:
            vocab.names[card.id] = card.name
            vocab.spellings[card.id] = list(card.names)
            vocab.keys[card.id] = card.id
            for name in card.names:
                vocab.keys.setdefault(name.lower(), card.id)
                tokens = words(name)
                if len(tokens) == 1:
                    vocab.forms.setdefault(normal_forms(tokens[0][2]), card.id)
        return vocab

    def display(self, brand: str) -> str:
        """The display name of a brand id (the id itself when no card names it)."""
        return self.names.get(brand, brand)

    def highlights(self, brands: list[str]) -> tuple[set[str], list[str]]:
        """Lemmas (one-word names) and phrases (longer names) that mark these brands in a snippet."""
        lemmas: set[str] = set()
        phrases: list[str] = []
        for brand in brands:
            for name in self.spellings.get(brand, []):
                tokens = words(name)
                if len(tokens) == 1 and "-" not in name:
                    lemmas |= normal_forms(tokens[0][2])
                else:
                    phrases.append(name)
        return lemmas, phrases

    def brand_of_word(self, word: str) -> str | None:
        """The brand a query word names (its id, name or alias, in any case form), if any."""
        low = word.lower()
        if low in self.keys:
            return self.keys[low]
        tokens = words(word)
        if len(tokens) == 1:
            lemmas = normal_forms(tokens[0][2])
            for forms, brand in self.forms.items():
                if lemmas & forms:
                    return brand
        return None

    def brand(self, value: str, what: str = "brand") -> str:
        """A brand id from an id, display name or alias (any case); unknown → UnknownNameError with a suggestion."""
        low = value.strip().lower()
        if low in self.keys:
            return self.keys[low]
        if low in self.indexed_brands:
            return low
        by_word = self.brand_of_word(value) if len(words(value)) == 1 else None
        if by_word:
            return by_word
        if not self.names and not self.indexed_brands:
            return low  # nothing to check against (empty index, no cards)
        known = sorted(set(self.names) | self.indexed_brands)
        shown = ", ".join(f"{b} ({self.names[b]})" if b in self.names else b for b in known)
        raise UnknownNameError(f"unknown {what} {value!r}{_suggest(low, list(self.keys) + known)}: known: {shown}")

    def source(self, value: str) -> str:
        """A stored source name or domain from any case; unknown → UnknownNameError with a suggestion."""
        low = value.strip().lower()
        if low in self.sources:
            return self.sources[low]
        if low in self.domains:
            return self.domains[low]
        if not self.sources:
            return value
        raise UnknownNameError(
            f"unknown source {value!r}{_suggest(low, list(self.sources) + list(self.domains))}: "
            f"no stored article comes from it (source: takes a source name or domain)"
        )

    def channel(self, value: str) -> str:
        """A stored Telegram channel's name from its name in any case (or its handle); unknown → UnknownNameError."""
        low = value.strip().lstrip("@").lower()
        if low in self.channels:
            return self.channels[low]
        known = ", ".join(sorted(self.channels.values())) or "none in the index"
        raise UnknownNameError(
            f"--own-channel {value!r} matches no Telegram source in the index"
            f"{_suggest(low, list(self.channels))}: known channels: {known}"
        )


def _suggest(value: str, choices: list[str]) -> str:
    """', did you mean X?' for a close match, else ''."""
    close = difflib.get_close_matches(value, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def index_names(client: Elasticsearch, settings: Settings) -> dict[str, list[str]]:
    """Distinct brand ids, source names, domains and Telegram source names stored in the index."""
    with es_errors("reading brand and source names"):
        resp = client.search(
            index=articles_alias(settings),
            size=0,
            aggs={
                "brands": {"terms": {"field": "brands", "size": VOCAB_SIZE}},
                "sources": {"terms": {"field": "source.name", "size": VOCAB_SIZE}},
                "domains": {"terms": {"field": "source.domain", "size": VOCAB_SIZE}},
                "channels": {
                    "filter": {"term": {"source.type": "telegram"}},
                    "aggs": {"names": {"terms": {"field": "source.name", "size": VOCAB_SIZE}}},
                },
            },
            ignore_unavailable=True,
            allow_no_indices=True,
        )
    aggs: dict[str, Any] = resp.get("aggregations") or {}

    def keys(agg: dict[str, Any] | None) -> list[str]:
        return [b["key"] for b in (agg or {}).get("buckets", [])]

    return {
        "brands": keys(aggs.get("brands")),
        "sources": keys(aggs.get("sources")),
        "domains": keys(aggs.get("domains")),
        "channels": keys((aggs.get("channels") or {}).get("names")),
    }


def load_vocabulary(client: Elasticsearch | None, settings: Settings, cards: Path | None) -> Vocabulary:
    """The vocabulary from the brand cards (if any) and, given a client, the names stored in the index."""
    vocab = Vocabulary.from_cards(load_brands(cards) if cards else None, cards)
    if client is not None:
        names = index_names(client, settings)
        vocab.indexed_brands = set(names["brands"])
        vocab.sources = {n.lower(): n for n in names["sources"]}
        vocab.domains = {d.lower(): d for d in names["domains"] if d}
        vocab.channels = {n.lower(): n for n in names["channels"]}
    return vocab
