"""`type: vk` against a loopback mock of the VK API: real crawls through the CLI (JSONL and the real index)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from crawler.options import CrawlOptions
from crawler.sources import SourcesError, parse_sources
from indexer.client import connect
from rezonans.config import Settings

from .vkmock import VkData, VkMock

TOKEN = "vk1.a.T0pS3cret-token-4f9c2e77aa"
BRANDS = Path(__file__).resolve().parents[2] / "examples" / "brands.yaml"
NOW = datetime.now(UTC).replace(microsecond=0)
PERSON = 555


def wall_data(posts: int = 130) -> VkData:
    """A community wall with a pinned old post, a repost, a person's post, a photo-only post; two refused walls."""
    data = VkData()
    data.community(101, "sber_test", "СберБанк Тест")
    data.community(202, "closed_club", "Закрытый клуб")
    data.community(303, "gone", "Удалённое сообщество")
    data.community(404, "other", "Другое сообщество")
    data.person(PERSON, "Иван", "Петров")
    data.refused[-202] = 30
    data.refused[-303] = 18
    original = data.post(-404, "Исходный текст новости про вклады", NOW - timedelta(days=5))
    data.post(-101, "Закреплённая старая запись", NOW - timedelta(days=400), pinned=True, likes=900)
    for n in range(posts):
        when = NOW - timedelta(hours=posts - n)
        data.post(-101, f"Запись номер {n}: Сбербанк снизил ставки", when, likes=n, reposts=n // 2, views=100 + n)
    data.post(-101, "Смотрите, что пишут", NOW - timedelta(minutes=30), repost_of=original, likes=7)
    data.post(-101, "Предложенная запись: мой вклад не открылся", NOW - timedelta(minutes=20), from_id=PERSON)
    data.post(-101, "", NOW - timedelta(minutes=10))  # photo only: no text, no article
    return data


WALL_SOURCES = """sources:
  - name: Сбер VK
    type: vk
    url: https://vk.com/sber_test
  - name: Закрытый клуб
    type: vk
    url: https://vk.com/club202
  - name: Удалённое
    type: vk
    url: https://vk.com/gone
"""


def run_cli(tmp_path: Path, monkeypatch, vk: VkMock, sources: str, *extra: str, token: str = TOKEN):
    """`rezonans crawl` through the CLI runner with the mock as the API."""
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REZONANS_VK_API_URL", vk.url)
    if token:
        monkeypatch.setenv("REZONANS_VK_TOKEN", token)
    else:
        monkeypatch.delenv("REZONANS_VK_TOKEN", raising=False)
    path = tmp_path / "sources.yaml"
    path.write_text(sources, encoding="utf-8")
    args = ["crawl", "--sources", str(path), "--state", str(tmp_path / "state.sqlite3"), "--fast", "--no-progress"]
    return CliRunner().invoke(app, [*args, "--json", *extra])


def summary_of(output: str) -> dict:
    """The --json summary at the end of the output."""
    return json.loads(output[output.index("{\n") :])


def lines(path: Path) -> list[dict]:
    """The articles of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_wall_posts_incremental_errors_counted_token_hidden(tmp_path: Path, monkeypatch) -> None:
    data = wall_data()
    out = tmp_path / "vk.jsonl"
    with VkMock(data, TOKEN) as vk:
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, "--out", str(out))
        assert res.exit_code == 0, res.output
        first = lines(out)
        by_url = {a["url"]: a for a in first}
        # every post with text: 130 + pinned + repost + person's post (the photo-only one has no text)
        assert len(first) == len(by_url) == 133
        assert all(u.startswith("https://vk.com/wall-101_") for u in by_url)
        post = next(a for a in first if a["text"].startswith("Запись номер 42:"))
        assert (post["likes"], post["forwards"], post["views"], post["comments"]) == (42, 21, 142, 0)
        assert post["source"]["name"] == "Сбер VK" and post["source"]["type"] == "vk"
        assert post["author"] == "СберБанк Тест"
        assert datetime.fromisoformat(post["published_at"]) == NOW - timedelta(hours=130 - 42)
        repost = next(a for a in first if a["text"].startswith("Смотрите"))
        assert "[Репост из «Другое сообщество»]\nИсходный текст новости про вклады" in repost["text"]
        person = next(a for a in first if "мой вклад" in a["text"])
        assert person["author"] is None and not person["links"]
        assert "Петров" not in json.dumps(first, ensure_ascii=False)
        summary = summary_of(res.stdout)
        kinds = {name: s["error_kinds"] for name, s in summary["sources"].items()}
        assert kinds["Закрытый клуб"] == {"vk error 30 (private profile)": 1}
        assert kinds["Удалённое"] == {"vk error 18 (page deleted or blocked)": 1}
        assert summary["sources"]["Сбер VK"]["errors"] == 0
        assert vk.methods().count("wall.get") == 4  # two pages of the big wall, one refusal each
        assert not any(call.token_in_url for call in vk.calls)

        # a rerun adds nothing and reads one page only
        before = len(vk.calls)
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, "--out", str(out))
        assert res.exit_code == 0, res.output
        assert len(lines(out)) == 133
        assert [c.params.get("domain") for c in vk.calls[before:] if c.method == "wall.get"].count("sber_test") == 1

        # three new posts: exactly those three
        for n in range(3):
            data.post(-101, f"Новая запись {n}", NOW + timedelta(minutes=n + 1), likes=1)
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, "--out", str(out))
        assert res.exit_code == 0, res.output
        assert sorted(a["text"] for a in lines(out)[133:]) == ["Новая запись 0", "Новая запись 1", "Новая запись 2"]

    for blob in (res.output, out.read_text(encoding="utf-8")):
        assert TOKEN not in blob
    for path in (tmp_path / "state.sqlite3", *(tmp_path / "home").rglob("*")):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_rate_limit_answers_are_waited_out_within_three_calls_a_second(tmp_path: Path, monkeypatch) -> None:
    data = wall_data(posts=350)
    out = tmp_path / "vk.jsonl"
    with VkMock(data, TOKEN, min_interval=0.2) as vk:
        vk.rate_limit_next = 2  # the first two calls: error 6
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES.split("  - name: Закрытый")[0], "--out", str(out))
    assert res.exit_code == 0, res.output
    assert len(lines(out)) == 353
    answers = [c.answer for c in vk.calls]
    assert answers[:2] == ["6", "6"] and answers[2:] == ["ok"] * 4  # retried, then four pages at the allowed pace
    assert summary_of(res.stdout)["sources"]["Сбер VK"]["errors"] == 0


@pytest.mark.parametrize("token", ["vk1.a.expired-0123456789", ""])
def test_a_refused_or_missing_token_is_one_line_and_exit_2(tmp_path: Path, monkeypatch, token: str) -> None:
    with VkMock(wall_data(posts=5), TOKEN) as vk:
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, "--out", str(tmp_path / "o.jsonl"), token=token)
    assert res.exit_code == 2, res.output
    assert "REZONANS_VK_TOKEN" in res.output and "Traceback" not in res.output
    problem = [line for line in res.output.splitlines() if "REZONANS_VK_TOKEN" in line]
    assert len(problem) == 1 and ("error 5" in problem[0] if token else "no access token" in problem[0])
    if token:
        assert token not in res.output
        assert vk.methods().count("wall.get") <= 3  # stopped at the refusal, no paging on
    else:
        assert vk.calls == []
    assert lines(tmp_path / "o.jsonl") == []


def search_data() -> VkData:
    """Posts about Сбербанк in two communities and on a person's own wall (250 matches: two search pages)."""
    data = VkData()
    data.community(11, "fin", "Финансы сегодня")
    data.community(12, "city", "Город онлайн")
    data.person(PERSON, "Иван", "Петров")
    for n in range(240):
        data.post(-11 if n % 2 else -12, f"Сбербанк и рынок, выпуск {n}", NOW - timedelta(hours=n + 1), views=n)
    for n in range(10):
        data.post(PERSON, f"Мой отзыв про Сбербанк номер {n}", NOW - timedelta(minutes=n + 5), likes=n)
    data.post(-12, "Про погоду, без банков", NOW - timedelta(hours=2))
    return data


SEARCH_SOURCES = "sources:\n  - name: VK поиск\n    type: vk\n"


def test_search_defaults_to_brand_names_pages_by_cursor_and_hides_persons(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "s.jsonl"
    with VkMock(search_data(), TOKEN) as vk:
        res = run_cli(tmp_path, monkeypatch, vk, SEARCH_SOURCES, "--out", str(out), "--brands", str(BRANDS))
        assert res.exit_code == 0, res.output
        found = lines(out)
        queries = {c.params["q"] for c in vk.calls if c.method == "newsfeed.search"}
        assert {"Сбербанк", "ВТБ", "Магнит"} <= queries  # the names on the brand cards
        sber = [c for c in vk.calls if c.params.get("q") == "Сбербанк"]
        assert len(sber) == 2 and "start_from" not in sber[0].params and sber[1].params["start_from"].startswith("200/")
        assert len(found) == 250
        by_source = {a["source"]["name"] for a in found}
        assert by_source == {"Финансы сегодня", "Город онлайн", "ВКонтакте — частное лицо"}
        persons = [a for a in found if a["url"].startswith(f"https://vk.com/wall{PERSON}_")]
        assert len(persons) == 10 and all(a["author"] is None and not a["links"] for a in persons)
        assert "Петров" not in out.read_text(encoding="utf-8")
        calls = len(vk.calls)
        res = run_cli(tmp_path, monkeypatch, vk, SEARCH_SOURCES, "--out", str(out), "--brands", str(BRANDS))
        assert res.exit_code == 0, res.output
        assert len(lines(out)) == 250  # a rerun adds nothing …
        assert len([c for c in vk.calls[calls:] if c.params.get("q") == "Сбербанк"]) == 1  # … from one page
    assert TOKEN not in res.output


def test_persons_kept_when_the_setting_allows_and_comments(tmp_path: Path, monkeypatch) -> None:
    data = VkData()
    data.community(7, "shop", "Магазин")
    data.person(PERSON, "Иван", "Петров")
    data.post(
        -7,
        "Новая акция Магнита",
        NOW - timedelta(hours=1),
        comments=[(PERSON, "Где купить?"), (-7, "В каждом магазине")],
    )
    data.post(PERSON, "Магнит: отличная акция", NOW - timedelta(hours=2))
    sources = (
        "sources:\n  - name: Магазин VK\n    type: vk\n    url: https://vk.com/shop\n    comments: true\n"
        "  - name: Поиск\n    type: vk\n    query: Магнит\n"
    )
    out = tmp_path / "c.jsonl"
    monkeypatch.setenv("REZONANS_VK_PERSONS", "true")
    with VkMock(data, TOKEN) as vk:
        res = run_cli(tmp_path, monkeypatch, vk, sources, "--out", str(out))
    assert res.exit_code == 0, res.output
    found = {a["url"]: a for a in lines(out)}
    assert found["https://vk.com/wall-7_1?reply=1001"]["author"] == "Иван Петров"
    assert found["https://vk.com/wall-7_1?reply=1001"]["links"] == [f"https://vk.com/id{PERSON}"]
    assert found["https://vk.com/wall-7_1?reply=1002"]["author"] == "Магазин"
    assert found["https://vk.com/wall-7_1?reply=1002"]["likes"] == 2
    assert found[f"https://vk.com/wall{PERSON}_1"]["author"] == "Иван Петров"
    assert found["https://vk.com/wall-7_1"]["comments"] == 2
    assert len(found) == 4  # the community post found by both sources is one article


def test_vk_into_the_real_index_rerun_adds_nothing_and_refreshes_counters(
    tmp_path: Path, es_settings: Settings, monkeypatch
) -> None:
    prefix = f"{es_settings.index_prefix}-vk"
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", prefix)
    monkeypatch.setenv("REZONANS_ES_URL", es_settings.es_url)
    extra = ("--brands", str(BRANDS), "--analysis-workers", "0")
    data = wall_data(posts=20)
    with VkMock(data, TOKEN) as vk:
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, *extra)
        assert res.exit_code == 0, res.output
        assert summary_of(res.stdout)["index"]["indexed"] == 23
        post8 = next(p for p in data.walls[-101] if p["text"].startswith("Запись номер 8:"))
        post8["likes"]["count"], post8["views"]["count"] = 80, 5000  # the post got more attention since
        res = run_cli(tmp_path, monkeypatch, vk, WALL_SOURCES, *extra)
        assert res.exit_code == 0, res.output
        summary = summary_of(res.stdout)
        assert summary["articles"] == 0
        # every stored post on the page read again gets its counters refreshed (a partial update of the document)
        refreshed = summary["sources"]["Сбер VK"]["engagement_refreshed"]
        assert refreshed == 23 and summary["index"]["updated"] == refreshed and summary["index"]["missing"] == 0
    client = connect(es_settings)
    client.indices.refresh(index=f"{prefix}-articles")
    hits = client.search(index=f"{prefix}-articles", size=100, query={"term": {"source.type": "vk"}})["hits"]["hits"]
    assert len(hits) == 23
    post = next(h["_source"] for h in hits if h["_source"]["text"].startswith("Запись номер 7:"))
    assert (post["likes"], post["forwards"], post["views"]) == (7, 3, 107) and "sberbank" in post["brands"]
    post = next(h["_source"] for h in hits if h["_source"]["text"].startswith("Запись номер 8:"))
    assert (post["likes"], post["forwards"], post["views"], post["engagement"]) == (80, 4, 5000, 84)
    assert TOKEN not in res.output


def test_the_crawl_process_log_at_debug_level_never_shows_the_token(tmp_path: Path) -> None:
    sources = [s.model_dump() for s in parse_sources(WALL_SOURCES)]
    with VkMock(wall_data(posts=120), TOKEN) as vk:
        vk.rate_limit_next = 1
        config = tmp_path / "config.json"
        options = CrawlOptions.fast(log_level="DEBUG", extract_workers=1).model_dump()
        state = str(tmp_path / "state.sqlite3")
        config.write_text(json.dumps({"sources": sources, "state_path": state, "options": options}), encoding="utf-8")
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "REZONANS_VK_TOKEN": TOKEN, "REZONANS_VK_API_URL": vk.url, "REZONANS_HOME": str(tmp_path)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.child", str(config), str(write_fd)],
            pass_fds=(write_fd,),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        os.close(write_fd)
        with os.fdopen(read_fd, encoding="utf-8") as stream:
            messages = stream.read()
        log = proc.communicate()[0].decode("utf-8", "replace")
    assert proc.returncode == 0, log[-2000:]
    assert "wall.get" in log and "vk error 30" in log  # the log does show the calls and the refusals …
    assert messages.count('"t":"article"') == 123
    assert TOKEN not in log and TOKEN not in messages  # … never the token


@pytest.mark.parametrize(
    "entry,problem",
    [
        ("url: https://vk.com/wall-1_2", "not a VK community address"),
        ("url: https://example.ru/club1", "not a VK community address"),
        ("url: https://vk.com/club1\n    query: Сбер", "either a wall"),
        ("url: https://vk.com/club1\n    coments: true", "unknown key"),
        ("query: Сбер\n    comments: maybe", "comments: Input should be a valid boolean"),
        ("query: [1, [2]]", "query"),
    ],
)
def test_vk_entries_are_checked_with_line_and_fix(entry: str, problem: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(f"sources:\n  - name: V\n    type: vk\n    {entry}\n", "s.yaml")
    assert problem in str(info.value) and "s.yaml:" in str(info.value) and "fix:" in str(info.value)
