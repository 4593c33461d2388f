"""Through the real server on 127.0.0.1 against the real Elasticsearch: API = CLI, escaping, filters, exports."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from rezonans.model import article_id
from tests.web.conftest import Server, server_env

pytestmark = pytest.mark.es

runner = CliRunner()
W47 = {"from": "2026-11-16", "to": "2026-11-22"}


def cli(server: Server, *args: str) -> str:
    """Run `rezonans ARGS` in-process against the server's index prefix; return stdout."""
    result = runner.invoke(app, list(args), env=server_env(server.settings))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_api_search_returns_the_records_of_cli_search_json(web_ro: Server) -> None:
    lines = cli(web_ro, "search", "Сбербанк", "--from", W47["from"], "--to", W47["to"], "--brand", "sberbank", "--json")
    with web_ro.client() as http:
        jsonl = http.get("/api/search", params={"q": "Сбербанк", "brand": "sberbank", "format": "jsonl", **W47})
        paged = http.get("/api/search", params={"q": "Сбербанк", "brand": "sberbank", "size": 100, **W47})
    assert jsonl.status_code == 200
    assert jsonl.text == lines
    records = [json.loads(x) for x in lines.splitlines()]
    # a1..a7, a10, a12 mention Сбербанк in week 47 (Moscow days); hand count from tests/report/corpus.py
    assert len(records) == 9
    body = paged.json()
    assert body["total"] == 9
    assert body["results"] == records


def test_api_report_equals_cli_report_json(web_ro: Server) -> None:
    text = cli(web_ro, "report", "--brand", "sberbank", "--week", "2026-W47", "--format", "json")
    with web_ro.client() as http:
        resp = http.get("/api/report", params={"brand": "sberbank", "week": "2026-W47"})
    assert resp.status_code == 200
    ours, theirs = resp.json(), json.loads(text)
    ours.pop("generated_at"), theirs.pop("generated_at")
    assert ours == theirs
    assert ours["articles"]["value"] == 9
    assert ours["tone"]["negative"]["value"] == 2  # a4, a5


def test_hostile_title_text_source_and_link_are_escaped(web_ro: Server) -> None:
    with web_ro.client() as http:
        page = http.get("/feed", params={"q": "ВТБ", **W47}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "<b>жирный</b>" not in page and "&lt;b&gt;жирный&lt;/b&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page
    assert "Злой <i>сайт</i>" not in page and "Злой &lt;i&gt;сайт&lt;/i&gt;" in page
    assert "<mark>ВТБ</mark>" in page  # our own highlight markup survives


def test_feed_filters_tone_brand_fold_and_source(web_ro: Server) -> None:
    ids = {k: article_id(f"https://{d}/news/{k}") for k, d in (("a4", "rbc.ru"), ("a5", "regvesti.ru"))}
    with web_ro.client() as http:
        neg = http.get("/api/search", params={"q": "", "brand": "sberbank", "tone": "negative", "size": 50, **W47})
        folded = http.get("/api/search", params={"q": "", "brand": "sberbank", "fold": "1", "size": 50, **W47})
        rbc = http.get("/api/search", params={"q": "", "brand": "sberbank", "source": "РБК", "size": 50, **W47})
        tg = http.get("/api/search", params={"q": "Сбербанк", "type": "telegram", "size": 50, **W47})
        page = http.get("/feed", params={"brand": "sberbank", "tone": "negative", **W47})
    assert {r["id"] for r in neg.json()["results"]} == set(ids.values())
    # originals only: a1, a4, a6, a7, a10, a12 (a2, a3, a5 are reprints)
    assert folded.json()["total"] == 6
    assert rbc.json()["total"] == 2  # a1, a4
    assert [r["source"] for r in tg.json()["results"]] == ["sberbank_official"]
    assert page.status_code == 200 and page.text.count('class="hit"') == 2
    assert "вес 3<" in page.text and "вес 0,5<" in page.text  # source weights shown (РБК 3.0, Региональные вести 0.5)


def test_exports_csv_for_excel_xlsx_and_jsonl(web_ro: Server) -> None:
    params = {"q": "Сбербанк", "brand": "sberbank", **W47}
    with web_ro.client() as http:
        got = {fmt: http.get(f"/feed/export.{fmt}", params=params) for fmt in ("csv", "xlsx", "jsonl")}
    raw = got["csv"].content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Дата" and len(rows) == 1 + 9
    assert got["jsonl"].text.count("\n") == 9
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(got["xlsx"].content)).active
    assert sheet.max_row == 1 + 9


def test_a_bad_query_is_a_message_not_a_crash(web_ro: Server) -> None:
    with web_ro.client() as http:
        page = http.get("/feed", params={"q": "(Сбербанк"})
        api = http.get("/api/search", params={"q": "brand:"})
    assert page.status_code == 400 and "bad query" in page.text
    assert api.status_code == 400 and "error" in api.json()


def test_report_page_shows_the_reports_figures_and_charts(web_ro: Server) -> None:
    with web_ro.client() as http:
        page = http.get("/report", params={"brand": "sberbank", "week": "2026-W47"}).text
        xlsx = http.get("/report/download", params={"brand": "sberbank", "week": "2026-W47", "format": "xlsx"})
        html = http.get("/report/download", params={"brand": "sberbank", "week": "2026-W47", "format": "html"})
    assert 'id="fig-articles">9<' in page and 'id="fig-negative">2<' in page
    assert page.count("<svg") >= 3
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert html.status_code == 200 and "<html" in html.text.lower()
    # nothing is fetched from elsewhere: every script and style comes from /static
    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/static/") for a in assets)


def test_alerts_page_shows_alerts_from_the_state_file_with_a_link_to_their_mentions(web_ro: Server) -> None:
    from alerts.check import state_path

    alert = {
        "rule": "сбер-негатив",
        "metric": "negative",
        "kind": "spike",
        "subject": "sberbank",
        "bucket_start": 1794981600,  # 2026-11-18 06:00 UTC
        "bucket_end": 1794985200,
        "event_start": 1794981600,
        "observed": 7,
        "expected": 1.5,
        "score": 4.2,
        "stories": [{"title": "<script>x</script> Сбербанк оштрафован", "url": "javascript:alert(3)"}],
        "bucket_start_iso": "2026-11-18T06:00:00+00:00",
    }
    path = state_path(web_ro.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"version": 1, "rules": {}, "held": [], "outbox": [{"key": "k", "alert": alert, "last_error": "smtp down"}]}
    path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    try:
        with web_ro.client() as http:
            page = http.get("/alerts").text
            link = re.search(r'href="(/feed\?[^"]+)">Публикации за этим всплеском', page)
            assert link, page
            feed = http.get(link.group(1).replace("&amp;", "&"))
    finally:
        path.unlink()
    assert "сбер-негатив" in page and "ждёт доставки" in page and "smtp down" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "javascript:alert(3)" not in page
    assert page.count("<svg") == 1
    # the mentions behind it: sberbank, negative, on 18.11 (Moscow) = a4 and a5
    assert feed.status_code == 200 and feed.text.count('class="hit"') == 2
