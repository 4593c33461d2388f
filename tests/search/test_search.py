"""Search against the real server over the seeded corpus: forms, phrases, operators, fields, paging, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.client import connect
from search.engine import SearchError, SearchRequest, export, make_snippet, search

pytestmark = pytest.mark.es


def ids(settings, query, **kw):
    page = search(connect(settings), settings, SearchRequest(query=query, **kw), size=100)
    return sorted(h.url.rsplit("/", 1)[1] for h in page.hits)


def test_word_forms_through_lemmas(seeded):
    # «ставку» is in no text; every form of «ставка» matches through the lemma field.
    assert ids(seeded, "ставку") == ["a1", "a10", "a2", "a3"]
    assert ids(seeded, "сбербанку") == ids(seeded, "Сбербанк")
    assert "a7" in ids(seeded, "сбербанк")  # «Сбербанка» only


def test_phrase_is_exact(seeded):
    assert ids(seeded, '"ключевая ставка"') == ["a10"]
    assert ids(seeded, '"ставка ключевая"') == []


def test_operators_and_fields(seeded):
    assert ids(seeded, "брать OR ВТБ") == ids(seeded, "ВТБ")
    assert ids(seeded, "ВТБ NOT brand:sberbank") == ["a8", "p4"]
    assert ids(seeded, "brand:sberbank sentiment:negative") == ["a4", "a5", "p3"]
    assert ids(seeded, "brand:vtb sentiment:negative") == []
    assert ids(seeded, "type:telegram") == ["a10", "a11", "p5"]
    assert ids(seeded, "source:rbc.ru AND (ВТБ OR оштрафован)") == ["a4", "a8", "p4"]
    assert ids(seeded, "promo:vesna") == ["a7"]
    assert ids(seeded, 'title:"ключевая ставка"') == ["a10"]


def test_date_range_and_brand_filter(seeded):
    start = datetime(2026, 11, 16, tzinfo=UTC)
    end = datetime(2026, 11, 19, tzinfo=UTC)
    assert ids(seeded, "сбербанк", date_from=start, date_to=end) == ["a1", "a10", "a2", "a3", "a4", "a5"]
    assert ids(seeded, "банк*", brands=["tbank"]) == ["a9"]


def test_reprints_snippet_and_sorting(seeded):
    client = connect(seeded)
    page = search(client, seeded, SearchRequest("ипотеке", sort="date"), size=2)
    assert page.total == 3
    assert [h.url[-2:] for h in page.hits] == ["a3", "a2"]
    assert all(h.reprints == 2 and h.story_size == 3 for h in page.hits)
    hit = page.hits[0]
    assert [hit.snippet[s:e] for s, e in hit.highlights] == ["ипотеке"]
    page2 = search(client, seeded, SearchRequest("ипотеке"), page=2, size=2)
    assert [h.url[-2:] for h in page2.hits] == ["a1"]
    rel = search(client, seeded, SearchRequest("сбербанк", sort="relevance"), size=50)
    assert rel.hits[0].score >= rel.hits[-1].score


def test_client_side_highlight_of_other_forms():
    snippet, spans = make_snippet(
        "Клиенты Сбербанка получат скидку. Ключевая ставка выросла.", {"сбербанк", "ставка"}, ["ключевая ставка"]
    )
    assert [snippet[s:e] for s, e in spans] == ["Сбербанка", "Ключевая ставка"]


def test_export_pages_past_the_batch(seeded):
    hits = list(export(connect(seeded), seeded, SearchRequest("brand:sberbank OR brand:vtb OR brand:tbank"), batch=3))
    assert len(hits) == 16 and len({h.id for h in hits}) == 16
    dates = [h.published_at for h in hits]
    assert dates == sorted(dates, reverse=True)


def test_deep_page_is_refused(seeded):
    with pytest.raises(SearchError, match="export everything"):
        search(connect(seeded), seeded, SearchRequest("сбербанк"), page=101, size=100)


def test_cli_search_table_json_csv_and_errors(seeded, monkeypatch):
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    monkeypatch.setenv("REZONANS_HOME", str(seeded.home))
    runner = CliRunner()
    res = runner.invoke(app, ["search", '"ключевая ставка"'])
    assert res.exit_code == 0, res.output
    assert "1 results" in res.output and "/a10" in res.output
    res = runner.invoke(app, ["search", "brand:sberbank", "--json", "--from", "2026-11-16", "--to", "2026-11-22"])
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 9 and rows[0]["url"].endswith("/a7")
    res = runner.invoke(app, ["search", "ВТБ", "--csv"])
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["url"][-2:] for r in table] == ["a8", "a5", "a4", "p4"] and table[0]["source"] == "РБК"
    res = runner.invoke(app, ["search", "brand:sberbank AND (ставки OR"])
    assert res.exit_code == 2
    assert "bad query" in res.output and "expected" in res.output and "Traceback" not in res.output
