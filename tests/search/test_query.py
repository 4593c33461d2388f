"""The query language: parsing, precedence, errors with positions, DSL shape."""

from __future__ import annotations

import pytest

from search.query import And, FieldTerm, Not, Or, Phrase, QuerySyntaxError, Term, parse, to_dsl

pytestmark = pytest.mark.unit


def test_precedence_and_implicit_and():
    node = parse("a b OR c AND NOT d")
    assert node == Or([And([Term("a", 0), Term("b", 2)]), And([Term("c", 7), Not(Term("d", 17))])])


def test_parentheses_phrases_fields_and_minus():
    node = parse('(ставки OR "ключевая ставка") brand:sberbank -source:"Старая газета"')
    assert isinstance(node, And) and isinstance(node.children[0], Or)
    assert node.children[0].children[1] == Phrase("ключевая ставка", 11)
    assert node.children[1] == FieldTerm("brand", "sberbank", False, 30)
    assert node.children[2] == Not(FieldTerm("source", "Старая газета", True, 46))


def test_russian_operators_and_aliases():
    node = parse("Сбер ИЛИ ВТБ И НЕ тон:негатив")
    assert node == Or([Term("Сбер", 0), And([Term("ВТБ", 9), Not(FieldTerm("sentiment", "negative", False, 18))])])


@pytest.mark.parametrize(
    "query, position, fragment",
    [
        ("ставки AND", 10, "expected a word"),
        ("(a OR b", 7, "expected ')' to close the '(' at character 1"),
        ("a )", 2, "unbalanced ')'"),
        ('"ключевая ставка', 0, "unclosed quote"),
        ("foo:bar", 0, "unknown field 'foo'"),
        ("sentiment:awful", 10, "unknown sentiment"),
        ("type:blog", 5, "unknown source type"),
        ("brand:", 6, "expected a value after brand:"),
        ("a OR OR b", 5, "got 'OR'"),
        ("", 0, "empty query"),
        ("()", 1, "inside the parentheses"),
    ],
)
def test_errors_say_where_and_what(query, position, fragment):
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.position == position
    assert fragment in info.value.message
    assert info.value.pretty().splitlines()[-1].index("^") == position + 2


def test_word_matches_every_normal_form_and_exact_text():
    dsl = to_dsl(parse("ставки"))
    should = dsl["bool"]["should"]
    assert should[0] == {"terms": {"lemmas": ["ставка", "ставки", "ставок"]}}
    assert {"match": {"text": {"query": "ставки"}}} in should


def test_sentiment_is_scoped_to_the_query_brand():
    dsl = to_dsl(parse("brand:vtb sentiment:negative"))
    nested = dsl["bool"]["must"][1]["nested"]
    assert nested["path"] == "brand_tone"
    assert {"terms": {"brand_tone.brand": ["vtb"]}} in nested["query"]["bool"]["filter"]
