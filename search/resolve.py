"""Resolve a parsed query against the vocabulary: brand names and aliases → ids, source names in any case → the
stored name, a bare word that names a brand → that brand; unknown brands and sources are a query error."""

from __future__ import annotations

from dataclasses import dataclass

from search.query import And, FieldTerm, Node, Not, Or, Phrase, QuerySyntaxError, Term
from search.vocabulary import UnknownNameError, Vocabulary


@dataclass(frozen=True)
class BrandWord:
    """A bare query word read as a brand (the CLI says so: quote the word to search the text instead)."""

    word: str
    brand: str
    name: str


def resolve(node: Node, vocab: Vocabulary, query: str) -> tuple[Node, list[BrandWord]]:
    """The query with names resolved, and the bare words that were read as brands."""
    notes: list[BrandWord] = []

    def walk(n: Node) -> Node:
        if isinstance(n, Term) and not n.word.endswith("*"):
            brand = vocab.brand_of_word(n.word)
            if brand is None:
                return n
            notes.append(BrandWord(n.word, brand, vocab.display(brand)))
            return FieldTerm("brand", brand, False, n.pos)
        if isinstance(n, FieldTerm) and n.name in ("brand", "source"):
            try:
                value = vocab.brand(n.value) if n.name == "brand" else vocab.source(n.value)
            except UnknownNameError as exc:
                raise QuerySyntaxError(str(exc), n.pos, query) from None
            return FieldTerm(n.name, value, n.phrase, n.pos)
        if isinstance(n, Not):
            return Not(walk(n.child))
        if isinstance(n, And):
            return And([walk(c) for c in n.children])
        if isinstance(n, Or):
            return Or([walk(c) for c in n.children])
        assert isinstance(n, (Term, Phrase, FieldTerm))
        return n

    return walk(node), notes
