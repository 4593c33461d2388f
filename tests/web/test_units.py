"""Pure pieces of the workspace: filters in the query language, CSV for Excel, snippet marking, redirects."""

from __future__ import annotations

import pytest

from search.engine import Hit
from search.exports import to_csv
from search.query import parse
from search.saved import SearchFilters, build_request, full_query
from web.app import marked, safe_next, safe_url

pytestmark = pytest.mark.unit


def test_filters_become_query_language_that_parses() -> None:
    f = SearchFilters(brands=["sberbank"], tone="negative", source="Региональные вести", source_type="rss")
    text = full_query("ставки OR ипотека", f)
    assert text == '(ставки OR ипотека) AND sentiment:negative AND source:"Региональные вести" AND type:rss'
    parse(text)
    assert full_query("*", SearchFilters(brands=[])) == ""
    everything = build_request("", SearchFilters(brands=[]), None, None)
    assert everything.body_query()["bool"]["must"]  # a query that matches every article, not a syntax error
    folded = build_request("", SearchFilters(brands=["vtb"], fold_reprints=True), None, None).body_query()
    assert {"term": {"is_original": True}} in folded["bool"]["filter"]
    with pytest.raises(Exception, match="unknown tone"):
        full_query("x", SearchFilters(brands=[], tone="bad"))


def test_csv_is_excel_ready_and_formulas_stay_text() -> None:
    hit = Hit(
        id="1",
        url="https://x.ru/1",
        title='=HYPERLINK("http://evil")',
        published_at="2026-11-16T09:00:00+00:00",
        source="РБК; Москва",
        source_type="site",
        brands=["sberbank"],
        tone={"sberbank": "positive"},
        cluster=None,
        story_size=1,
        reprints=0,
        snippet="текст",
    )
    data = to_csv([hit])
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Дата;Источник;")
    assert "'=HYPERLINK" in text and '"РБК; Москва"' in text


def test_marking_escapes_around_highlights_and_links_and_redirects_are_safe() -> None:
    out = marked("<b>Сбер</b> & ВТБ", [(3, 7)])
    assert str(out) == "&lt;b&gt;<mark>Сбер</mark>&lt;/b&gt; &amp; ВТБ"
    assert safe_url("javascript:alert(1)") == "" and safe_url("https://rbc.ru/a") == "https://rbc.ru/a"
    assert safe_next("//evil.example/x") == "/feed" and safe_next("https://evil") == "/feed"
    assert safe_next("/report?brand=x") == "/report?brand=x"
