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
    assert "1 результат," in res.output and "/a10" in res.output
    res = runner.invoke(app, ["search", "brand:sberbank", "--json", "--from", "2026-11-16", "--to", "2026-11-22"])
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 9 and rows[0]["url"].endswith("/a7")
    res = runner.invoke(app, ["search", "ВТБ", "--csv"])
    assert res.stdout.startswith("\ufeff")  # UTF-8 with BOM for Excel
    table = list(csv.DictReader(io.StringIO(res.stdout.lstrip("\ufeff"))))
    assert [r["url"][-2:] for r in table] == ["a8", "a5", "a4", "p4"] and table[0]["source"] == "РБК"
    res = runner.invoke(app, ["search", "brand:sberbank AND (ставки OR"])
    assert res.exit_code == 2
    assert "bad query" in res.output and "expected" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["search", "ВТБ"])  # no brand cards: the word is a word, and the command says so
    assert "карточки брендов не заданы" in res.stderr


def test_phrases_and_title_match_every_form(seeded):
    # The text says «ключевая ставка» (a10) and «ставки» (a1-a3): other forms find them, exact: does not.
    assert ids(seeded, '"ключевую ставку"') == ["a10"]
    assert ids(seeded, '"ключевой ставкой"') == ["a10"]
    assert ids(seeded, '"ставка ключевая"') == []
    assert ids(seeded, "title:ставка") == ["a1", "a10", "a2", "a3"]
    assert ids(seeded, "title:ставки") == ["a1", "a10", "a2", "a3"]
    assert ids(seeded, 'title:"ключевую ставку"') == ["a10"]
    assert ids(seeded, 'exact:"ключевую ставку"') == []
    assert ids(seeded, 'exact:"ключевая ставка"') == ["a10"]
    assert ids(seeded, '"ключевую ставку"', exact=True) == []
    assert ids(seeded, "title:ставка", exact=True) == ["a10"]


def test_brand_and_source_names_resolve(seeded, tmp_path):
    from search.vocabulary import load_vocabulary
    from tests.search.cards import write_cards

    vocab = load_vocabulary(connect(seeded), seeded, write_cards(tmp_path))
    brand_ids = ids(seeded, "brand:vtb")
    assert brand_ids == ["a4", "a5", "a8", "p4"]
    assert ids(seeded, "brand:ВТБ", vocabulary=vocab) == brand_ids
    assert ids(seeded, 'brand:"банк втб"', vocabulary=vocab) == brand_ids
    assert ids(seeded, "ВТБ", vocabulary=vocab) == brand_ids  # a bare brand name means the brand
    assert ids(seeded, "Т-Банк", vocabulary=vocab) == ["a9"]
    assert ids(seeded, "Тинькофф", vocabulary=vocab) == ["a9"]
    assert ids(seeded, 'source:"региональные вести"', vocabulary=vocab) == ids(seeded, 'source:"Региональные вести"')
    assert ids(seeded, "source:RBC.ru", vocabulary=vocab) == ["a1", "a4", "a8", "late", "p1", "p4"]
    assert ids(seeded, "сбербанк", brands=["Сбер"], vocabulary=vocab) == ids(seeded, "brand:sberbank")
    _, notes = SearchRequest("Т-Банк ставки", vocabulary=vocab).resolved()
    assert [(n.word, n.brand, n.name) for n in notes] == [("Т-Банк", "tbank", "Т-Банк")]
    from search.query import QuerySyntaxError

    with pytest.raises(QuerySyntaxError, match="unknown brand 'sber'"):
        SearchRequest("brand:sber", vocabulary=vocab).body_query()
    with pytest.raises(QuerySyntaxError, match="did you mean 'рбк'"):
        SearchRequest("source:РБКК", vocabulary=vocab).body_query()


def test_cli_search_russian_names_forms_and_excel_csv(seeded, monkeypatch, tmp_path):
    from tests.search.cards import write_cards

    monkeypatch.setenv("REZONANS_INDEX_PREFIX", seeded.index_prefix)
    monkeypatch.setenv("REZONANS_BRANDS", str(write_cards(tmp_path)))
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    runner = CliRunner()
    res = runner.invoke(app, ["search", '"ключевую ставку"'])
    assert res.exit_code == 0, res.output
    assert "1 результат," in res.stdout and "/a10" in res.stdout and "Сбербанк: позитив" in res.stdout
    assert "17 ноября 2026, 09:00 (МСК)" in res.stdout  # a10 at 06:00 UTC, in Moscow time
    res = runner.invoke(app, ["search", "title:ставка", "--json"])
    assert sorted(json.loads(line)["url"][-3:] for line in res.stdout.splitlines()) == ["/a1", "/a2", "/a3", "a10"]
    res = runner.invoke(app, ["search", "Т-Банк", "--json"])
    (hit,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert hit["url"].endswith("/a9") and [hit["snippet"][s:e] for s, e in hit["highlights"]] == ["Т-Банк"]
    assert "«Т-Банк» понимается как бренд Т-Банк (brand:tbank)" in res.stderr
    res = runner.invoke(app, ["search", 'brand:втб source:"региональные вести"', "--json"])
    assert [json.loads(line)["url"][-2:] for line in res.stdout.splitlines()] == ["a5"]
    res = runner.invoke(app, ["search", "brand:sber"])
    assert res.exit_code == 2 and "unknown brand 'sber'" in res.stderr and "sberbank (Сбербанк)" in res.stderr
    out = tmp_path / "vtb.csv"
    res = runner.invoke(app, ["search", "brand:ВТБ", "--csv", "--sep", ";", "-o", str(out)])
    assert res.exit_code == 0 and "выгружено 4 результата" in res.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").splitlines()[0].startswith(
        "published_at;source;"
    )
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4 and {r["source"] for r in rows} == {"РБК", "Региональные вести"}
    res = runner.invoke(app, ["search", "brand:sberbank", "--json", "--from", "16.11.2026", "--to", "22.11.2026"])
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 9  # DD.MM.YYYY as well as ISO
    res = runner.invoke(app, ["search", "ставки"], env={"REZONANS_LANGUAGE": "en"})
    assert "4 results, page 1 of 1" in res.stdout
