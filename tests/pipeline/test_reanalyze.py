"""Re-analysis gives a newly added brand its history, in place, without duplicates or lost clusters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.bulk import BulkWriter
from indexer.client import connect
from indexer.mappings import articles_alias
from nlp.analyzer import Analyzer
from pipeline.reanalyze import reanalyze
from rezonans.brands import parse_brands
from rezonans.model import Article, SourceRef

pytestmark = pytest.mark.es

OLD = """brands:
  - {id: sberbank, name: Сбербанк, aliases: [Сбер]}
"""
NEW = """brands:
  - {id: sberbank, name: Сбербанк, aliases: [Сбер], competitors: [vtb]}
  - {id: vtb, name: ВТБ, aliases: [Банк ВТБ]}
"""
TEXTS = [
    "Сбербанк и ВТБ снизили ставки по ипотеке для семей.",
    "Клиенты ВТБ жалуются на сбой мобильного приложения банка.",
    "Сбербанк открыл новый офис в Казани.",
    "Погода в Москве: без осадков, до плюс пяти.",
]


def test_new_brand_gets_history(es_settings, tmp_path, monkeypatch):
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-rea"})
    old = Analyzer(parse_brands(OLD), use_ner=False)
    src = SourceRef(name="Деловой вестник", weight=1.0, domain="vestnik.test")
    with BulkWriter(settings, refresh=True) as writer:
        for i, text in enumerate(TEXTS):
            art = Article(
                url=f"https://vestnik.test/{i}",
                source=src,
                title=text.split(",")[0],
                text=text,
                published_at=datetime(2026, 10 + i % 2, 5, 9, tzinfo=UTC),
            )
            old.analyze(art)
            art.cluster = f"story-{i}"
            writer.add(art)
    client = connect(settings)
    alias = articles_alias(settings)
    assert client.count(index=alias, query={"term": {"brands": "vtb"}})["count"] == 0

    new = Analyzer(parse_brands(NEW), use_ner=False)
    stats = reanalyze(client, settings, new, brand="vtb", refresh=True)
    assert stats.scanned == 2 and stats.written == 2 and stats.failed == 0  # only the two texts naming ВТБ
    assert (stats.with_brand_before, stats.with_brand_after) == (0, 2)
    assert client.count(index=alias)["count"] == 4  # written back in place, same ids
    hits = client.search(index=alias, query={"term": {"brands": "vtb"}}, sort=["id"])["hits"]["hits"]
    assert sorted(h["_source"]["url"][-1] for h in hits) == ["0", "1"]
    first = next(h["_source"] for h in hits if h["_source"]["url"].endswith("/0"))
    assert first["brands"] == ["sberbank", "vtb"] and first["cluster"] == "story-0"
    assert {t["brand"] for t in first["brand_tone"]} == {"sberbank", "vtb"}

    cards = tmp_path / "brands.yaml"
    cards.write_text(NEW, encoding="utf-8")
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)
    res = CliRunner().invoke(
        app, ["reanalyze", "--brand", "vtb", "--brands", str(cards), "--from", "2026-10-01", "--to", "2026-10-31"]
    )
    assert res.exit_code == 0, res.output
    assert "просмотрено 1, записано 1" in res.stdout and "vtb: статей до 1, после 1" in res.stdout
    res = CliRunner().invoke(app, ["reanalyze", "--brand", "nosuch", "--brands", str(cards)])
    assert res.exit_code == 2 and "not in the brand cards" in res.output


def test_reanalyze_brings_stored_articles_to_the_current_tone_model(es_settings, tmp_path, monkeypatch):
    import json

    from nlp.tone import configure, current_mode, linear_model
    from nlp.tone_student import StudentTone

    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-tonev"})
    transformer = StudentTone.load(linear=linear_model())
    old = Analyzer(parse_brands(OLD), tone=transformer, use_ner=False)
    with BulkWriter(settings, refresh=True) as writer:
        for i, text in enumerate(TEXTS[:3]):
            art = Article(url=f"https://vestnik.test/t{i}", source=SourceRef(name="Вестник"), title="", text=text)
            writer.add(old.analyze(art))
    client = connect(settings)
    alias = articles_alias(settings)

    def stored() -> list[str]:
        client.indices.refresh(index=alias)
        return [h["_source"]["tone_model"] for h in client.search(index=alias)["hits"]["hits"]]

    assert stored() == [transformer.version] * 3
    cards = tmp_path / "brands.yaml"
    cards.write_text(OLD, encoding="utf-8")
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)

    def run(*extra: str) -> int:
        res = CliRunner().invoke(app, ["reanalyze", "--all", "--brands", str(cards), "--json", *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)["outdated_tone"]

    before = current_mode()
    try:
        assert run("--tone", "fast") == 3 and stored() == [linear_model().version] * 3
        assert run("--tone", "fast") == 0
        assert run("--tone", "transformer") == 3 and stored() == [transformer.version] * 3
    finally:
        configure(before)  # the CLI switched this process's tone model
    res = CliRunner().invoke(app, ["reanalyze", "--all", "--brands", str(cards), "--tone", "slow"])
    assert res.exit_code == 2 and "tone" in res.output and "transformer" in res.output
