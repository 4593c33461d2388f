"""The whole stage through `Analyzer` and `rezonans analyze` (CliRunner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.analyze import parse_line
from cli.main import app
from rezonans.model import Article
from tests.nlp.conftest import ROOT

pytestmark = pytest.mark.unit

TEXT = (
    "Сбер объявил о снижении ставок по вкладам. Клиенты Т-Банка жалуются на сбой приложения.\n"
    "В Магните по промокоду MAGNIT500 скидка. Кошка уронила магнит с холодильника. "
    "Суд оштрафовал Альфа-Банк за навязанные страховки."
)


def make(**kw) -> Article:
    data = {
        "url": "https://news.example.ru/a/1",
        "source": "Пример",
        "title": "Сбербанк снизил ставки",
        "text": TEXT,
        "published_at": "2025-03-01T10:00:00+03:00",
    }
    data.update(kw)
    return parse_line(data)


def test_analyze_fills_every_field(analyzer):
    art = analyzer.analyze(make())
    brands = [m.brand for m in art.mentions]
    assert brands == ["sberbank", "sberbank", "tbank", "magnit", "alfabank"]  # the fridge magnet is dropped
    title = art.mentions[0]
    assert title.placement == "title" and art.title[title.start : title.end] == "Сбербанк"
    for m in art.mentions[1:]:
        assert art.text[m.start : m.end] == m.text
        assert m.sentiment in {"positive", "neutral", "negative"} and -1 <= m.sentiment_score <= 1
        assert 0 <= m.prominence <= 1 and 0 < m.confidence <= 1
    assert [m.placement for m in art.mentions[1:]] == ["lead", "lead", "body", "body"]
    assert title.main_subject and title.prominence > art.mentions[-1].prominence
    assert not art.mentions[-1].main_subject
    assert "law" in art.mentions[-1].topics
    assert art.mentions[3].promo_codes == ["MAGNIT500"] and art.promo_codes == ["MAGNIT500"]
    assert set(art.brand_sentiment) == {"sberbank", "tbank", "magnit", "alfabank"}
    assert {t.brand: t.mentions for t in art.brand_tone}["sberbank"] == 2
    assert art.lemmas.startswith("сбербанк снизить ставка сбер объявить")
    assert art.cluster and art.is_original and art.analyzed_at is not None


def test_targets_and_reprints(analyzer):
    text = TEXT
    art = analyzer.analyze(make(url="https://b.example.ru/2", targets=[[0, 4], [500, 600]]))
    assert art.targets[0].sentiment in {"positive", "neutral", "negative"}
    assert art.targets[1].sentiment is None  # outside the text: left unjudged
    copy = analyzer.analyze(
        make(
            url="https://c.example.ru/3", published_at="2025-03-02T10:00:00+03:00", text=text + " Источник: агентство."
        )
    )
    assert copy.cluster == art.cluster and not copy.is_original


def test_article_without_brands(analyzer):
    art = analyzer.analyze(make(title="Погода", text="Завтра в Москве ожидается дождь и сильный ветер."))
    assert art.mentions == [] and art.brand_sentiment == {} and art.lemmas.startswith("погода завтра")


def test_cli_reads_jsonl_and_skips_bad_lines(tmp_path):
    good = {
        "url": "https://a.example.ru/1",
        "source": "РБК",
        "title": "МегаФон запустил 5G",
        "text": "Абоненты МегаФона довольны. Полицейский кричал в мегафон.",
        "published_at": "2025-03-01T10:00:00",
        "targets": [[0, 8]],
    }
    lines = json.dumps(good, ensure_ascii=False) + "\nnot json\n" + json.dumps({"url": 5}) + "\n[1]\n"
    state = tmp_path / "reprints.pkl"
    result = CliRunner().invoke(
        app, ["analyze", "--brands", str(ROOT / "examples" / "brands.yaml"), "--reprint-state", str(state)], input=lines
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert len(out) == 1
    rec = out[0]
    assert [(m["brand"], m["placement"]) for m in rec["mentions"]] == [("megafon", "title"), ("megafon", "lead")]
    assert rec["source"]["name"] == "РБК" and rec["targets"][0]["start"] == 0 and rec["targets"][0]["sentiment"]
    for key in ("brand_sentiment", "topics", "promo_codes", "lemmas", "cluster"):
        assert key in rec
    assert (
        "line 2: skipped" in result.stderr and "line 3: skipped" in result.stderr and "line 4: skipped" in result.stderr
    )
    assert state.is_file()


def test_cli_bad_brand_file(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("brands:\n  - id: x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", "--brands", str(bad)], input="")
    assert result.exit_code == 2
    assert "b.yaml:2" in result.stderr and "name" in result.stderr


def test_cli_tone_option_picks_the_model():
    from nlp import tone

    line = json.dumps(
        {"url": "https://a.example.ru/1", "source": "РБК", "title": "Суд оштрафовал МегаФон", "text": "Штраф 5 млн."},
        ensure_ascii=False,
    )
    cards = str(ROOT / "examples" / "brands.yaml")
    models = {}
    before = tone.current_mode()
    try:
        for mode in ("transformer", "fast"):
            result = CliRunner().invoke(app, ["analyze", "--brands", cards, "--tone", mode], input=line + "\n")
            assert result.exit_code == 0, result.output
            models[mode] = json.loads(result.stdout.splitlines()[0])["tone_model"]
    finally:
        tone.configure(before)  # the CLI switched this process's tone model
    assert models["fast"] == tone.linear_model().version and models["transformer"].startswith("student")
    bad = CliRunner().invoke(app, ["analyze", "--brands", cards, "--tone", "slow"], input=line + "\n")
    assert bad.exit_code == 2 and "tone" in bad.output and "transformer" in bad.output
