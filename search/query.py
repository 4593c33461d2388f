"""The search query language: tokenizer, recursive-descent parser and translation to Elasticsearch bool DSL.

Grammar (AND binds tighter than OR; juxtaposition means AND)::

    query    := or_expr EOF
    or_expr  := and_expr ( OR and_expr )*
    and_expr := not_expr ( [AND] not_expr )*
    not_expr := ( NOT | '-' ) not_expr | primary
    primary  := '(' or_expr ')' | FIELD ':' value | PHRASE | WORD
    value    := WORD | PHRASE

Operators are the upper-case words AND / OR / NOT (also И / ИЛИ / НЕ); a leading '-' is NOT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from rezonans.errors import UserError
from rezonans.model import SourceType
from search.lemmas import inflections, normal_forms, words

FIELDS = {
    "brand": "brand id, e.g. brand:sberbank",
    "source": "source name or domain, e.g. source:rbc.ru",
    "sentiment": "tone towards the brand: positive, neutral or negative",
    "type": "source type: rss, sitemap, site, telegram or manual",
    "promo": "promo code mentioned, e.g. promo:SBER500",
    "title": "word or phrase in the title, in any grammatical form",
    "cluster": "story (reprint cluster) id",
    "exact": 'word or phrase in exactly this form, e.g. exact:"ключевую ставку"',
}
ALIASES = {
    "tone": "sentiment",
    "бренд": "brand",
    "источник": "source",
    "тон": "sentiment",
    "тип": "type",
    "заголовок": "title",
    "точно": "exact",
}
SENTIMENTS = {
    "positive": "positive",
    "neutral": "neutral",
    "negative": "negative",
    "pos": "positive",
    "neg": "negative",
    "позитив": "positive",
    "нейтрально": "neutral",
    "негатив": "negative",
}
SOURCE_TYPES = get_args(SourceType)  # every `type:` of the sources file, and "manual"
OPERATORS = {"AND": "AND", "И": "AND", "OR": "OR", "ИЛИ": "OR", "NOT": "NOT", "НЕ": "NOT"}
TEXT_FIELDS = ("title", "lead", "text")


class QuerySyntaxError(UserError):
    """A query that cannot be parsed; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int, query: str) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.query = query

    def pretty(self) -> str:
        """The message with the query and a caret under the problem."""
        return f"{self.message} (at character {self.position + 1})\n  {self.query}\n  {' ' * self.position}^"

    def display(self) -> str:
        """What a person sees: 'bad query:' and the caret picture."""
        return f"bad query: {self.pretty()}"


# ---------------------------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Token:
    """One lexical token: kind is WORD, PHRASE, FIELD, AND, OR, NOT, LPAREN, RPAREN or EOF."""

    kind: str
    value: str
    pos: int


_SPECIAL = set('()":')


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens; an unclosed quote is a QuerySyntaxError."""
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token("LPAREN" if ch == "(" else "RPAREN", ch, i))
            i += 1
        elif ch in '"«“':
            close = {'"': '"', "«": "»", "“": "”"}[ch]
            end = query.find(close, i + 1)
            if end < 0:
                raise QuerySyntaxError(f"unclosed quote: add the closing {close}", i, query)
            tokens.append(Token("PHRASE", query[i + 1 : end], i))
            i = end + 1
        elif (
            ch == "-"
            and (not tokens or tokens[-1].kind in ("LPAREN", "AND", "OR", "NOT") or query[i - 1].isspace())
            and i + 1 < n
            and not query[i + 1].isspace()
        ):
            tokens.append(Token("NOT", "-", i))
            i += 1
        elif ch == ":":
            raise QuerySyntaxError("':' must follow a field name such as brand: or source:", i, query)
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL and query[i] not in "«»“”":
                i += 1
            if i == start:  # a stray closing quote
                raise QuerySyntaxError(f"unexpected {query[i]!r}", i, query)
            word = query[start:i]
            if i < n and query[i] == ":":
                tokens.append(Token("FIELD", word, start))
                i += 1
            elif word in OPERATORS:
                tokens.append(Token(OPERATORS[word], word, start))
            else:
                tokens.append(Token("WORD", word, start))
    tokens.append(Token("EOF", "", n))
    return tokens


# ---------------------------------------------------------------------------------------------- AST
@dataclass
class Term:
    """A bare word: matches every grammatical form; a trailing * makes it a prefix."""

    word: str
    pos: int = 0


@dataclass
class Phrase:
    """A quoted phrase: its words in this order, each in any grammatical form (exact forms with exact:)."""

    text: str
    pos: int = 0


@dataclass
class FieldTerm:
    """A field condition such as brand:sberbank or title:"ключевая ставка"."""

    name: str
    value: str
    phrase: bool = False
    pos: int = 0


@dataclass
class Not:
    """Negation."""

    child: Node


@dataclass
class And:
    """All children must match."""

    children: list[Node] = field(default_factory=list)


@dataclass
class Or:
    """Any child may match."""

    children: list[Node] = field(default_factory=list)


Node = Term | Phrase | FieldTerm | Not | And | Or


class Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0

    @property
    def tok(self) -> Token:
        """The current token."""
        return self.tokens[self.i]

    def _advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _error(self, expected: str) -> QuerySyntaxError:
        got = "end of query" if self.tok.kind == "EOF" else repr(self.tok.value)
        return QuerySyntaxError(f"expected {expected}, got {got}", self.tok.pos, self.query)

    def parse(self) -> Node:
        """Parse the whole query."""
        if self.tok.kind == "EOF":
            raise QuerySyntaxError(
                'empty query: give words, "a phrase" or a field such as brand:sberbank', 0, self.query
            )
        node = self.or_expr()
        if self.tok.kind != "EOF":
            if self.tok.kind == "RPAREN":
                raise QuerySyntaxError("unbalanced ')': remove it or add a '(' before", self.tok.pos, self.query)
            raise self._error("AND, OR or the end of the query")
        return node

    def or_expr(self) -> Node:
        """Operands joined by OR."""
        parts = [self.and_expr()]
        while self.tok.kind == "OR":
            self._advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(parts)

    def and_expr(self) -> Node:
        """Operands joined by AND or plain juxtaposition."""
        parts = [self.not_expr()]
        while True:
            if self.tok.kind == "AND":
                self._advance()
                parts.append(self.not_expr())
            elif self.tok.kind in ("WORD", "PHRASE", "FIELD", "NOT", "LPAREN"):
                parts.append(self.not_expr())
            else:
                break
        return parts[0] if len(parts) == 1 else And(parts)

    def not_expr(self) -> Node:
        """NOT / '-' prefixes."""
        if self.tok.kind == "NOT":
            self._advance()
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        """A group, a field condition, a phrase or a word."""
        tok = self.tok
        if tok.kind == "LPAREN":
            self._advance()
            if self.tok.kind == "RPAREN":
                raise self._error("a word, phrase or field inside the parentheses")
            node = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise QuerySyntaxError(
                    f"expected ')' to close the '(' at character {tok.pos + 1}, got "
                    f"{'end of query' if self.tok.kind == 'EOF' else repr(self.tok.value)}",
                    self.tok.pos,
                    self.query,
                )
            self._advance()
            return node
        if tok.kind == "FIELD":
            return self.field_term()
        if tok.kind == "PHRASE":
            self._advance()
            if not words(tok.value):
                raise QuerySyntaxError("empty phrase: put words between the quotes", tok.pos, self.query)
            return Phrase(tok.value, tok.pos)
        if tok.kind == "WORD":
            self._advance()
            if not words(tok.value.rstrip("*")):
                raise QuerySyntaxError(f"{tok.value!r} has no letters or digits to search for", tok.pos, self.query)
            return Term(tok.value, tok.pos)
        raise self._error("a word, \"phrase\", field:value or '('")

    def field_term(self) -> Node:
        """field:value with the field name and value checked."""
        tok = self._advance()
        name = ALIASES.get(tok.value.lower(), tok.value.lower())
        if name not in FIELDS:
            known = ", ".join(f"{f}:" for f in FIELDS)
            raise QuerySyntaxError(f"unknown field {tok.value!r}: use one of {known}", tok.pos, self.query)
        val = self.tok
        if val.kind not in ("WORD", "PHRASE"):
            raise self._error(f"a value after {tok.value}: ({FIELDS[name]})")
        self._advance()
        value = val.value.strip()
        if not value:
            raise QuerySyntaxError(f"empty value for {name}:", val.pos, self.query)
        if name == "sentiment":
            if value.lower() not in SENTIMENTS:
                raise QuerySyntaxError(
                    f"unknown sentiment {value!r}: use positive, neutral or negative", val.pos, self.query
                )
            value = SENTIMENTS[value.lower()]
        if name == "type" and value.lower() not in SOURCE_TYPES:
            raise QuerySyntaxError(
                f"unknown source type {value!r}: use one of {', '.join(SOURCE_TYPES)}", val.pos, self.query
            )
        if name in ("type", "brand"):
            value = value.lower()
        return FieldTerm(name, value, val.kind == "PHRASE", tok.pos)


def parse(query: str) -> Node:
    """Parse a query string into an AST; raises QuerySyntaxError with position and what was expected."""
    return Parser(query).parse()


# ---------------------------------------------------------------------------------------------- to DSL
def context_brands(node: Node) -> list[str]:
    """Brands required by the whole query (brand: terms ANDed at the top), used to scope sentiment:."""
    if isinstance(node, FieldTerm) and node.name == "brand":
        return [node.value]
    if isinstance(node, And):
        return [b for child in node.children for b in context_brands(child)]
    return []


def _word_query(word: str) -> dict[str, Any]:
    """A word in any grammatical form: its lemmas in `lemmas`, or the exact form in title/lead/text."""
    if word.endswith("*") and len(word.rstrip("*")) >= 2:
        stem = word.rstrip("*").lower()
        should: list[dict[str, Any]] = [{"prefix": {"lemmas": stem}}]
        should += [{"prefix": {f: stem}} for f in TEXT_FIELDS]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    tokens = [w for _, _, w in words(word)]
    if len(tokens) > 1:  # e.g. "Т-Банка": one lemma token, but several words for the standard analyzer
        forms = sorted(normal_forms(word.strip(".,;!?")))
        should = [{"terms": {"lemmas": forms}}]
        should += [{"match_phrase": {f: {"query": word}}} for f in TEXT_FIELDS]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    forms = sorted(normal_forms(tokens[0]))
    should = [{"terms": {"lemmas": forms}}]
    should += [{"match": {f: {"query": tokens[0]}}} for f in TEXT_FIELDS]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _span_phrase(field: str, word_forms: list[frozenset[str]]) -> dict[str, Any]:
    """Consecutive words in order, each word any of its forms (span_near, slop 0)."""
    clauses = [
        {"span_or": {"clauses": [{"span_term": {field: f}} for f in sorted(forms)]}}
        if len(forms) > 1
        else {"span_term": {field: next(iter(forms))}}
        for forms in word_forms
    ]
    if len(clauses) == 1:
        return clauses[0]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


def _exact_phrase(text: str, fields: tuple[str, ...] = TEXT_FIELDS) -> dict[str, Any]:
    """The phrase as written (word order and forms, case-insensitive) in any of the fields."""
    should = [{"match_phrase": {f: {"query": text}}} for f in fields]
    return should[0] if len(should) == 1 else {"bool": {"should": should, "minimum_should_match": 1}}


def _phrase_query(text: str, exact: bool = False) -> dict[str, Any]:
    """A phrase in every grammatical form (through the lemmas field), or as written with `exact`."""
    if exact:
        return _exact_phrase(text)
    forms = [normal_forms(w) for _, _, w in words(text)]
    should = [_span_phrase("lemmas", forms), _exact_phrase(text)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _title_query(value: str, exact: bool = False) -> dict[str, Any]:
    """A word or phrase in the title in every grammatical form (inflections of each word), or as written."""
    tokens = [w for _, _, w in words(value)]
    if exact or any("-" in w or "'" in w for w in tokens):  # the title's analyser splits hyphenated words
        return _exact_phrase(value, ("title",))
    if len(tokens) == 1:
        return {"terms": {"title": sorted(inflections(tokens[0]))}}
    return _span_phrase("title", [inflections(w) for w in tokens])


def _field_query(node: FieldTerm, brands: list[str], exact: bool = False) -> dict[str, Any]:
    """DSL for one field condition."""
    if node.name == "brand":
        return {"term": {"brands": node.value}}
    if node.name == "source":
        return {
            "bool": {
                "should": [{"term": {"source.name": node.value}}, {"term": {"source.domain": node.value.lower()}}],
                "minimum_should_match": 1,
            }
        }
    if node.name == "type":
        return {"term": {"source.type": node.value}}
    if node.name == "promo":
        return {
            "bool": {
                "should": [{"term": {"promo_codes": node.value}}, {"term": {"promo_codes": node.value.upper()}}],
                "minimum_should_match": 1,
            }
        }
    if node.name == "cluster":
        return {"term": {"cluster": node.value}}
    if node.name == "title":
        return _title_query(node.value, exact)
    if node.name == "exact":
        return _exact_phrase(node.value)
    # sentiment: the article's tone towards the query's brand(s), or towards any brand when none is named.
    must: list[dict[str, Any]] = [{"term": {"brand_tone.sentiment": node.value}}]
    if brands:
        must.append({"terms": {"brand_tone.brand": sorted(set(brands))}})
    return {"nested": {"path": "brand_tone", "query": {"bool": {"filter": must}}}}


def to_dsl(node: Node, brands: list[str] | None = None, exact: bool = False) -> dict[str, Any]:
    """Translate an AST into an Elasticsearch bool query; `brands` scopes sentiment: conditions; `exact` makes
    phrases and title: match only the forms as written."""
    brands = brands if brands is not None else context_brands(node)
    if isinstance(node, Term):
        return _exact_phrase(node.word) if exact and not node.word.endswith("*") else _word_query(node.word)
    if isinstance(node, Phrase):
        return _phrase_query(node.text, exact)
    if isinstance(node, FieldTerm):
        return _field_query(node, brands, exact)
    if isinstance(node, Not):
        return {"bool": {"must_not": [to_dsl(node.child, brands, exact)]}}
    if isinstance(node, And):
        return {"bool": {"must": [to_dsl(c, brands, exact) for c in node.children]}}
    if isinstance(node, Or):
        return {"bool": {"should": [to_dsl(c, brands, exact) for c in node.children], "minimum_should_match": 1}}
    raise TypeError(f"unknown node {node!r}")


def highlight_terms(node: Node, negated: bool = False) -> tuple[set[str], list[str]]:
    """Lemmas and phrases to highlight in snippets (those under NOT are left out)."""
    lemmas: set[str] = set()
    phrases: list[str] = []
    if isinstance(node, Term) and not negated:
        if not node.word.endswith("*"):
            for _, _, w in words(node.word):
                lemmas |= normal_forms(w)
        else:
            phrases.append(node.word.rstrip("*"))
    elif isinstance(node, Phrase) and not negated:
        phrases.append(node.text)
        for _, _, w in words(node.text):  # the phrase in other forms: its words are marked one by one
            lemmas |= normal_forms(w)
    elif isinstance(node, FieldTerm) and node.name in ("title", "exact") and not negated:
        phrases.append(node.value)
    elif isinstance(node, Not):
        return highlight_terms(node.child, not negated)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            lem, ph = highlight_terms(child, negated)
            lemmas |= lem
            phrases += ph
    return lemmas, phrases
