"""Indexing against the real server: templates, bulk, search, idempotency, spool/replay, retention, migration."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.bulk import BulkWriter, Spool, _replay_lock, replay
from indexer.mappings import articles_alias
from indexer.store import action_for, article_indices, drop_older_than, index_for, migrate, scan_articles
from rezonans.model import Article, Mention, SourceRef

pytestmark = pytest.mark.es


def make_article(n: int, month: int = 11, brand: str = "sberbank", sentiment: str = "neutral") -> Article:
    """A small analysed article."""
    text = f"Сбербанк открыл новое отделение номер {n} в Казани. Клиенты довольны обслуживанием."
    return Article(
        url=f"https://news.example.ru/economy/{n}?utm_source=tg",
        source=SourceRef(name="Пример Новости", type="rss", weight=1.5),
        title=f"Сбербанк открыл отделение {n}",
        text=text,
        lemmas="сбербанк открыть новый отделение номер казань клиент довольный обслуживание",
        published_at=datetime(2026, month, 10 + n % 10, 9, 0, tzinfo=UTC),
        mentions=[Mention(brand=brand, start=0, end=8, text="Сбербанк", sentiment=sentiment, sentiment_score=0.7)],
        cluster=f"c{n % 3}",
    )


def count(es, settings) -> int:
    """Articles visible through the alias."""
    es.indices.refresh(index=articles_alias(settings))
    return es.count(index=articles_alias(settings))["count"]


def test_bulk_index_search_and_idempotency(es, es_settings):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-a"})
    articles = [make_article(i) for i in range(30)]
    with BulkWriter(settings, refresh=True) as writer:
        for article in articles:
            writer.add(article)
    assert writer.stats.indexed == 30 and writer.stats.spooled == 0
    assert count(es, settings) == 30
    # Same articles again (another crawl of the same URLs without tracking parameters): nothing new.
    with BulkWriter(settings, refresh=True) as writer:
        for article in articles:
            writer.add(article.model_copy(update={"url": article.canonical_url}))
    assert count(es, settings) == 30
    # Lemma search finds other grammatical forms through the whitespace-analysed field.
    hits = es.search(index=articles_alias(settings), query={"match": {"lemmas": "отделение"}})
    assert hits["hits"]["total"]["value"] == 30
    # Nested mention aggregation with the copied date works on the minimal server.
    res = es.search(
        index=articles_alias(settings),
        size=0,
        aggs={
            "m": {
                "nested": {"path": "mentions"},
                "aggs": {
                    "brand": {
                        "terms": {"field": "mentions.brand"},
                        "aggs": {
                            "days": {"date_histogram": {"field": "mentions.published_at", "calendar_interval": "day"}}
                        },
                    }
                },
            }
        },
    )
    bucket = res["aggregations"]["m"]["brand"]["buckets"][0]
    assert bucket["key"] == "sberbank" and bucket["doc_count"] == 30
    assert sum(d["doc_count"] for d in bucket["days"]["buckets"]) == 30
    # Round trip: the stored document rebuilds the same model.
    stored = list(scan_articles(es, settings))
    back = [a for _, a in stored]
    assert len({index for index, _ in stored}) == 1 and {a.id for a in back} == {a.id for a in articles}
    original = {a.id: a for a in articles}
    for article in back:
        assert article.mentions == original[article.id].mentions
        assert article.published_at == original[article.id].published_at


def test_time_based_indices_and_retention(es, es_settings):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-r"})
    with BulkWriter(settings, refresh=True) as writer:
        for month in (8, 9, 10, 11):
            for i in range(3):
                writer.add(make_article(i, month=month))
    rows = article_indices(es, settings)
    assert [r["month"] for r in rows] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert all(r["docs"] == 3 for r in rows)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert drop_older_than(es, settings, 2, now=now, dry_run=True) == [rows[0]["index"], rows[1]["index"]]
    dropped = drop_older_than(es, settings, 2, now=now)
    assert len(dropped) == 2
    assert [r["month"] for r in article_indices(es, settings)] == ["2026-10", "2026-11"]
    assert count(es, settings) == 6


def test_spool_when_server_down_then_replay(es, es_settings, tmp_path):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-s", "home": tmp_path})
    down = settings.model_copy(update={"es_url": "http://127.0.0.1:1", "es_timeout": 2.0})
    articles = [make_article(i) for i in range(12)]
    writer = BulkWriter(down, chunk_size=5)
    for article in articles:
        writer.add(article)
    stats = writer.close()
    assert stats.indexed == 0 and stats.spooled == 12
    assert len(Spool(settings.spool_dir).files()) == 1
    # A torn last line (crash mid-write) must not block the rest.
    with open(stats.spool_files[0], "a", encoding="utf-8") as fh:
        fh.write('{"_op_type": "index", "_ind')
    result = replay(settings)
    assert result.indexed == 12 and result.spooled == 0
    assert Spool(settings.spool_dir).files() == []
    assert count(es, settings) == 12
    # Replaying again or re-sending duplicates nothing.
    assert replay(settings).indexed == 0
    with BulkWriter(settings, refresh=True) as again:
        for article in articles:
            again.add(article)
    assert count(es, settings) == 12


def test_replays_run_one_at_a_time(es, es_settings, tmp_path):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-1x", "home": tmp_path})
    Spool(settings.spool_dir).write([action_for(make_article(i), settings) for i in range(3)])
    results: list = []
    with _replay_lock(settings.spool_dir):  # another process is replaying
        waiting = threading.Thread(target=lambda: results.append(replay(settings)))
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and results == []  # it waits rather than sending the same files twice
    waiting.join(30)
    assert results[0].indexed == 3 and Spool(settings.spool_dir).files() == []
    assert replay(settings).indexed == 0 and count(es, settings) == 3


def test_rejected_documents_are_kept(es, es_settings, tmp_path):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-x", "home": tmp_path})
    good = make_article(1)
    writer = BulkWriter(settings, refresh=True)
    writer.add(good)
    bad = {
        "_op_type": "index",
        "_index": index_for(good, settings),
        "_id": "bad",
        "_source": {"published_at": "not a date", "url": "x"},
    }
    writer.add_action(bad)
    stats = writer.close()
    assert stats.indexed == 1 and stats.rejected == 1
    saved = [json.loads(line) for line in open(stats.rejected_file, encoding="utf-8")]
    assert saved[-1]["action"]["_id"] == "bad" and "date" in json.dumps(saved[-1]["error"])


def test_migration_to_new_mapping_version(es, es_settings, monkeypatch):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-m"})
    with BulkWriter(settings, refresh=True) as writer:
        for i in range(7):
            writer.add(make_article(i))
    import indexer.mappings as mappings
    import indexer.store as store

    monkeypatch.setattr(mappings, "MAPPING_VERSION", 2)
    monkeypatch.setattr(store, "template_name", lambda s, version=2: mappings.template_name(s, version))
    monkeypatch.setattr(store, "article_template", lambda s, version=2: mappings.article_template(s, version))
    moved = migrate(es, settings, to_version=2)
    assert list(moved.values()) == [7]
    rows = article_indices(es, settings)
    assert [r["version"] for r in rows] == [2] and rows[0]["docs"] == 7
    assert count(es, settings) == 7


def test_cli_load_status_and_export(es, es_settings, tmp_path, monkeypatch):
    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-c"})
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path))
    src = tmp_path / "in.jsonl"
    lines = [make_article(i).to_json() for i in range(4)] + ["{not json", json.dumps({"url": "x"})]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["index", "load", str(src), "--refresh", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    human = runner.invoke(app, ["index", "load", str(src)])  # the same articles again: stable ids, no duplicates
    assert human.exit_code == 0, human.output
    assert "записано 4, отложено в спул 0, отклонено 0, плохих строк 2" in human.stdout
    assert summary["indexed"] == 4 and summary["bad_lines"] == 2
    res = runner.invoke(app, ["es", "status", "--json"])
    assert res.exit_code == 0, res.output
    status = json.loads(res.stdout)
    assert status["version"].startswith("8.19") and status["health"] in ("green", "yellow")
    assert any(r["docs"] == 4 for r in status["indices"] if r["index"].startswith(settings.index_prefix))
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["index", "export", "--out", str(out)])
    assert res.exit_code == 0, res.output
    exported = [Article.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(a.id for a in exported) == sorted(make_article(i).id for i in range(4))


def test_cli_reports_server_down_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("REZONANS_ES_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path))
    res = CliRunner().invoke(app, ["es", "status"])
    assert res.exit_code == 1
    assert "rezonans es start" in res.output and "Traceback" not in res.output


def test_durable_writer_killed_before_flush_loses_nothing(es, es_settings, tmp_path):
    """kill -9 between add() and the bulk request: the journal is replayed, nothing lost or doubled."""
    import subprocess
    import sys
    import textwrap

    settings = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-k", "home": tmp_path})
    script = textwrap.dedent(f"""
        import os, signal
        from rezonans.config import Settings
        from indexer.bulk import BulkWriter
        from tests.indexer.test_index import make_article
        settings = Settings(index_prefix={settings.index_prefix!r}, home={str(tmp_path)!r}, es_url={settings.es_url!r})
        writer = BulkWriter(settings, chunk_size=4, durable=True)
        for i in range(10):
            writer.add(make_article(i))   # two batches of 4 are sent, 2 wait in the buffer
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert proc.returncode == -9
    assert count(es, settings) == 8
    journals = list(settings.spool_dir.glob("journal-*.jsonl"))
    assert len(journals) == 1 and len(journals[0].read_text(encoding="utf-8").splitlines()) == 2
    result = replay(settings)
    assert result.indexed == 2 and not list(settings.spool_dir.glob("*.jsonl"))
    assert count(es, settings) == 10


@pytest.mark.unit
def test_durable_writer_spools_its_journal_when_down(tmp_path):
    down = down_settings(tmp_path)
    writer = BulkWriter(down, chunk_size=3, durable=True)
    for i in range(7):
        writer.add(make_article(i))
    stats = writer.close()
    assert stats.spooled == 7 and stats.indexed == 0
    files = Spool(down.spool_dir).files()
    assert sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files) == 7
    assert not list(down.spool_dir.glob("journal-*"))


def down_settings(tmp_path):
    """Settings pointing at a closed port."""
    from rezonans.config import Settings

    return Settings(home=tmp_path, es_url="http://127.0.0.1:1", es_timeout=1.0, index_prefix="rzdown")
