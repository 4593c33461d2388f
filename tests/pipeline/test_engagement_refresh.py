"""Counters of stored posts are refreshed when a later crawl sees them again; nothing else of the post changes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from indexer.client import connect
from pipeline.corrections import set_tone
from rezonans.config import Settings
from rezonans.model import article_id
from tests.crawler.hostile import Site

BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands.yaml"


def channel_page(views: dict[str, str]) -> bytes:
    """A Telegram channel preview with one post per id, each with its view counter."""
    texts = {
        "7": "Сбербанк снизил ставки по вкладам для частных клиентов",
        "8": "Клиенты Сбербанка пожаловались на сбой в мобильном приложении",
        "9": "Сбербанк открыл новый офис в Казани",
    }
    dates = {"7": "2026-12-01T09:00:00+00:00", "8": "2026-12-01T15:00:00+00:00", "9": "2026-12-02T10:00:00+00:00"}
    posts = "".join(
        f'<div class="tgme_widget_message" data-post="chan/{pid}">'
        f'<div class="tgme_widget_message_text">{texts[pid]}</div>'
        f'<span class="tgme_widget_message_views">{count}</span>'
        f'<a class="tgme_widget_message_date" href="/chan/{pid}"><time datetime="{dates[pid]}"></time></a></div>'
        for pid, count in views.items()
    )
    return f'<html><head><meta charset="utf-8"></head><body>{posts}</body></html>'.encode()


def crawl(sources: Path) -> dict:
    """`rezonans crawl` into the index; its JSON summary (with the closing lines on stderr as "said")."""
    res = CliRunner().invoke(
        app,
        ["crawl", "--sources", str(sources), "--brands", str(BRANDS), "--fast", "--analysis-workers", "0"]
        + ["--no-progress", "--json"],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout[res.stdout.index("{") :]) | {"said": res.stderr}


def test_a_second_crawl_refreshes_views_and_keeps_the_analysts_tone(tmp_path, es_settings: Settings, monkeypatch):
    prefix = f"{es_settings.index_prefix}-engagement"
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    settings = es_settings.model_copy(update={"index_prefix": prefix, "home": tmp_path / "home"})
    client = connect(settings)
    with Site({"/s/chan": (200, {"Content-Type": "text/html"}, channel_page({"7": "1.2K", "8": "350"}))}) as tg:
        sources = tmp_path / "s.yaml"
        sources.write_text(f"sources:\n  - {{name: Канал, type: telegram, url: '{tg.url}/s/chan'}}\n", encoding="utf-8")
        first = crawl(sources)
        ids = {pid: article_id(f"{tg.url}/chan/{pid}") for pid in ("7", "8", "9")}
        client.indices.refresh(index=f"{prefix}-articles")
        set_tone(client, settings, ids["7"], "sberbank", "negative", by="аналитик")  # the model said otherwise
        client.indices.refresh(index=f"{prefix}-articles")
        before = {h["_id"]: h["_source"] for h in client.search(index=f"{prefix}-articles", size=10)["hits"]["hits"]}
        # a day later the channel shows more views, and a new post above
        tg.routes["/s/chan"] = (200, {"Content-Type": "text/html"}, channel_page({"9": "10", "7": "5.4K", "8": "2K"}))
        second = crawl(sources)
    client.indices.refresh(index=f"{prefix}-articles")
    after = {h["_id"]: h["_source"] for h in client.search(index=f"{prefix}-articles", size=10)["hits"]["hits"]}

    assert first["sources"]["Канал"]["articles"] == 2 and first["index"]["updated"] == 0
    assert second["sources"]["Канал"]["articles"] == 1  # only the new post is analysed and indexed
    assert second["sources"]["Канал"]["engagement_refreshed"] == 2 and second["index"]["updated"] == 2
    assert "в индексе: записано статей 1, обновлены счётчики постов 2, отложено в спул 0" in second["said"]
    assert set(after) == set(ids.values())  # nothing lost, nothing duplicated
    assert (before[ids["7"]]["views"], after[ids["7"]]["views"]) == (1200, 5400)
    assert (before[ids["8"]]["views"], after[ids["8"]]["views"]) == (350, 2000)
    for pid in ("7", "8"):
        old, new = before[ids[pid]], after[ids[pid]]
        assert datetime.fromisoformat(new["engagement_at"]) > datetime.fromisoformat(old["engagement_at"])
        assert old["engagement_at"] == old["crawled_at"]  # the first reading is the crawl's
        for field in ("crawled_at", "analyzed_at", "mentions", "brand_tone", "brand_sentiment", "tone_corrections"):
            assert new[field] == old[field], field
    assert after[ids["7"]]["brand_sentiment"]["sberbank"] == "negative"  # the analyst's correction stands
    assert after[ids["7"]]["tone_corrections"][0]["by"] == "аналитик"
