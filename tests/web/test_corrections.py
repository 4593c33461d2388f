"""Tone corrections and saved searches through the real server, the CLI and re-analysis; CSRF and access rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from alerts.rules import Rule
from alerts.source import bucket_counts
from cli.main import app
from indexer.client import connect
from nlp.analyzer import Analyzer
from pipeline.corrections import apply_corrections, correct, fetch_article
from pipeline.reanalyze import reanalyze
from rezonans.model import Article, BrandTone, Mention, SourceRef, article_id
from tests.web.conftest import Server, csrf_of, server_env, start_server, stop
from web.auth import check_binding, hash_password, verify_password

runner = CliRunner()
A1 = article_id("https://rbc.ru/news/a1")  # РБК, positive towards sberbank, week 47
A6 = article_id("https://kommersant.ru/news/a6")  # Коммерсантъ, neutral, two mentions


def report(http: httpx.Client) -> dict:
    resp = http.get("/api/report", params={"brand": "sberbank", "week": "2026-W47"})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.es
def test_a_correction_changes_the_next_report_and_is_exported(web_rw: Server) -> None:
    rule = Rule(name="sber-neg", brand="sberbank", metric="negative", bucket=86400)
    nov16 = int(datetime(2026, 11, 16, tzinfo=UTC).timestamp())
    es = connect(web_rw.settings)
    alert_before = bucket_counts(es, web_rw.settings, rule, nov16, nov16 + 86400)[0]
    with web_rw.client() as http:
        before = report(http)
        token = csrf_of(http.get("/feed", params={"q": "Сбербанк"}).text)
        resp = http.post(
            "/tone",
            data={"csrf": token, "article_id": A1, "brand": "sberbank", "sentiment": "negative", "next": "/feed?q=x"},
        )
        assert resp.status_code == 303 and resp.headers["location"] == "/feed?q=x"
        after = report(http)
        page = http.get("/feed", params={"q": "Сбербанк", "source": "РБК"}).text
        assert "✎ local" in page and "было: позитив" in page  # who corrected, shown beside the tone
        negatives = http.get("/api/search", params={"q": "brand:sberbank sentiment:negative", "size": 50}).json()
    assert before["tone"]["negative"]["value"] == 2 and after["tone"]["negative"]["value"] == 3
    assert after["tone"]["positive"]["value"] == before["tone"]["positive"]["value"] - 1
    # PI-1: a1's mention (weight 3, prominence 1.0) moves from +1 to −1: the index falls by 2 × 3 × 1.0 = 6
    assert after["publicity_index"]["value"] == pytest.approx(before["publicity_index"]["value"] - 6.0)
    assert A1 in {r["id"] for r in negatives["results"]}
    # what an alert rule counts: negative articles about the brand on 16 Nov (UTC) go from 0 to 1 (a1)
    alert_after = bucket_counts(es, web_rw.settings, rule, nov16, nov16 + 86400)[0]
    assert (alert_before.negative, alert_after.negative) == (0, 1)
    assert alert_before.total == alert_after.total == 2  # a1, a2
    out = runner.invoke(app, ["tone", "export"], env=server_env(web_rw.settings))
    assert out.exit_code == 0, out.output
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    row = next(r for r in rows if r["article_id"] == A1)
    assert (row["label"], row["previous"], row["by"], row["scope"]) == ("negative", "positive", "local", "article")
    assert row["mentions"][0]["text"] == "Сбербанк"


@pytest.mark.es
def test_cli_tone_set_and_its_errors(web_rw: Server) -> None:
    env = server_env(web_rw.settings)
    ok = runner.invoke(app, ["tone", "set", A6, "sberbank", "positive", "--by", "анна"], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"{A6}: тон по отношению к sberbank теперь «позитив»" in ok.stderr  # said in Russian by default
    _, stored = fetch_article(connect(web_rw.settings), web_rw.settings, A6)
    assert [m.sentiment for m in stored.mentions] == ["positive", "positive"]
    assert stored.tone_corrections[-1].by == "анна" and stored.tone_corrections[-1].previous == "neutral"
    bad_brand = runner.invoke(app, ["tone", "set", A6, "tbank", "positive"], env=env)
    bad_tone = runner.invoke(app, ["tone", "set", A6, "sberbank", "good"], env=env)
    bad_id = runner.invoke(app, ["tone", "set", "nope", "sberbank", "positive"], env=env)
    assert bad_brand.exit_code == bad_tone.exit_code == bad_id.exit_code == 2
    assert "does not mention brand 'tbank'" in bad_brand.stderr
    assert "no article with id 'nope'" in bad_id.stderr


@pytest.mark.es
def test_posts_without_the_csrf_token_are_refused(web_rw: Server) -> None:
    a4 = article_id("https://rbc.ru/news/a4")
    with web_rw.client() as http:
        http.get("/feed")  # a session with a token exists, but the forms below do not send it
        no_token = http.post("/tone", data={"article_id": a4, "brand": "sberbank", "sentiment": "positive"})
        wrong = http.post(
            "/tone", data={"csrf": "x" * 43, "article_id": a4, "brand": "sberbank", "sentiment": "positive"}
        )
        saved = http.post("/saved", data={"name": "x", "q": "Сбербанк"})
        api = http.post("/api/tone", json={"article_id": a4})
    with httpx.Client(base_url=web_rw.url) as fresh:  # another site's form: no session, no token
        foreign = fresh.post("/tone", data={"article_id": a4, "brand": "sberbank", "sentiment": "positive"})
    assert no_token.status_code == wrong.status_code == saved.status_code == foreign.status_code == 403
    assert api.status_code == 403
    _, stored = fetch_article(connect(web_rw.settings), web_rw.settings, a4)
    assert stored.brand_tone[0].sentiment == "negative" and not stored.tone_corrections


@pytest.mark.es
def test_saved_search_from_the_web_runs_in_the_cli(web_rw: Server) -> None:
    with web_rw.client() as http:
        token = csrf_of(http.get("/feed").text)
        resp = http.post(
            "/saved",
            data={
                "csrf": token,
                "name": "Сбер: негатив",
                "q": "",
                "brand": "sberbank",
                "tone": "negative",
                "from": "2026-11-16",
                "to": "2026-11-22",
            },
        )
        assert resp.status_code == 303
        listed = http.get("/api/saved").json()
        page = http.get("/feed", params={"saved": "Сбер: негатив"})
        api = http.get(
            "/api/search",
            params={
                "q": "",
                "brand": "sberbank",
                "tone": "negative",
                "from": "2026-11-16",
                "to": "2026-11-22",
                "format": "jsonl",
            },
        )
    assert [s["name"] for s in listed] == ["Сбер: негатив"]
    assert page.status_code == 200 and "Сбер: негатив" in page.text
    out = runner.invoke(app, ["search", "--saved", "Сбер: негатив", "--json"], env=server_env(web_rw.settings))
    assert out.exit_code == 0, out.output
    assert out.stdout == api.text and out.stdout.count("\n") >= 2
    with web_rw.client() as http:
        token = csrf_of(http.get("/feed").text)
        assert http.post("/saved/delete", data={"csrf": token, "name": "Сбер: негатив"}).status_code == 303
        assert http.get("/api/saved").json() == []
    missing = runner.invoke(app, ["search", "--saved", "нет такого"], env=server_env(web_rw.settings))
    assert missing.exit_code == 2 and "no saved search called 'нет такого'" in missing.stderr


@pytest.mark.es
def test_corrections_survive_reanalysis(es_settings, tmp_path) -> None:
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-webre"})
    client = connect(settings)
    analyzer = Analyzer.from_file(None)
    article = analyzer.analyze(
        Article(
            url="https://example.ru/news/1",
            source=SourceRef(name="Пример", weight=1.0),
            title="Сбербанк снизил ставки по ипотеке",
            text="Сбербанк снизил ставки по ипотеке для семей. Клиенты довольны.",
            published_at=datetime(2026, 11, 18, 9, tzinfo=UTC),
        )
    )
    from indexer.bulk import BulkWriter

    with BulkWriter(settings, refresh=True) as writer:
        writer.add(article)
    model_tone = next(t.sentiment for t in article.brand_tone if t.brand == "sberbank")
    wanted = "negative" if model_tone != "negative" else "positive"
    from pipeline.corrections import set_tone

    set_tone(client, settings, article.id, "sberbank", wanted, by="тест")
    stats = reanalyze(client, settings, Analyzer.from_file(None), everything=True, refresh=True)
    assert stats.written == 1
    _, stored = fetch_article(client, settings, article.id)
    assert next(t.sentiment for t in stored.brand_tone if t.brand == "sberbank") == wanted
    assert {m.sentiment for m in stored.mentions if m.brand == "sberbank"} == {wanted}
    assert stored.tone_corrections[0].by == "тест"


@pytest.mark.unit
def test_mention_corrections_override_the_article_correction_for_their_mention() -> None:
    text = "Сбер и снова Сбер."
    art = Article(
        url="https://x.ru/1",
        source=SourceRef(name="x"),
        text=text,
        mentions=[
            Mention(brand="sberbank", start=0, end=4, text="Сбер", sentiment="neutral"),
            Mention(brand="sberbank", start=13, end=17, text="Сбер", sentiment="neutral"),
        ],
        brand_tone=[BrandTone(brand="sberbank", sentiment="neutral", mentions=2)],
    )
    correct(art, "sberbank", "positive", "a", mention_start=13)
    correct(art, "sberbank", "negative", "b")
    assert [m.sentiment for m in art.mentions] == ["negative", "positive"]
    assert art.brand_tone[0].sentiment == "negative" and art.brand_sentiment == {"sberbank": "negative"}
    correct(art, "sberbank", "neutral", "c")  # replaces b's article-level correction, keeps a's
    assert len(art.tone_corrections) == 2
    for m in art.mentions:
        m.sentiment = "negative"  # what a re-analysis might say
    apply_corrections(art)
    assert [m.sentiment for m in art.mentions] == ["neutral", "positive"]


@pytest.mark.unit
def test_binding_rules_and_password_hashes() -> None:
    hashed = hash_password("секрет")
    assert verify_password("секрет", hashed) and not verify_password("секрет!", hashed)
    check_binding("127.0.0.1", {})
    check_binding("::1", {})
    check_binding("0.0.0.0", {"anna": hashed})
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(Exception, match="without users"):
            check_binding(host, {})
    with pytest.raises(Exception, match="not a hash"):
        check_binding("127.0.0.1", {"anna": "plain-password"})


@pytest.mark.unit
def test_serve_refuses_a_public_address_without_users(tmp_path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"], env={"REZONANS_CONFIG": str(config)})
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0" in result.stderr


@pytest.mark.es
def test_with_users_every_page_needs_a_login(web_ro: Server, tmp_path) -> None:
    settings = web_ro.settings
    users = json.dumps({"anna": hash_password("пароль-1")})
    server = start_server(settings, tmp_path / "auth.log", REZONANS_WEB_USERS=users, REZONANS_WEB_SECRET="s" * 32)
    try:
        with server.client() as http:
            assert http.get("/feed").status_code == 303
            assert http.get("/api/search", params={"q": "ВТБ"}).status_code == 401
            token = csrf_of(http.get("/login").text)
            bad = http.post("/login", data={"csrf": token, "user": "anna", "password": "нет", "next": "/feed"})
            assert bad.status_code == 401
            no_csrf = http.post("/login", data={"user": "anna", "password": "пароль-1"})
            assert no_csrf.status_code == 403
            good = http.post("/login", data={"csrf": token, "user": "anna", "password": "пароль-1", "next": "/report"})
            assert good.status_code == 303 and good.headers["location"] == "/report"
            page = http.get("/feed", params={"q": "ВТБ"})
            assert page.status_code == 200 and "anna" in page.text
            assert http.get("/api/search", params={"q": "ВТБ"}).status_code == 200
    finally:
        stop(server)


@pytest.mark.es
def test_api_tone_takes_json_with_the_session_token(web_rw: Server) -> None:
    a9 = article_id("https://kommersant.ru/news/a9")  # Т-Банк, negative
    with web_rw.client() as http:
        token = http.get("/api/csrf").json()["csrf"]
        resp = http.post(
            "/api/tone",
            json={"article_id": a9, "brand": "tbank", "sentiment": "neutral"},
            headers={"X-CSRF-Token": token},
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["brand_tone"][0]["sentiment"] == "neutral"


@pytest.mark.es
def test_a_recrawled_article_keeps_its_correction(es_settings, tmp_path) -> None:
    """A new version of a stored article (fresh crawl state, the same URL) replaces the document but not the
    analyst's tone: the writer's before_send hook of the ingest path puts the correction back."""
    from indexer.bulk import BulkWriter
    from pipeline.corrections import keep_corrections, set_tone

    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-recrawl", "home": tmp_path})
    client = connect(settings)
    analyzer = Analyzer.from_file(None)

    def version(text: str) -> Article:
        return analyzer.analyze(
            Article(
                url="https://example.ru/news/recrawl",
                source=SourceRef(name="Пример", weight=1.0),
                title="Сбербанк снизил ставки по ипотеке",
                text=text,
                published_at=datetime(2026, 11, 18, 9, tzinfo=UTC),
            )
        )

    first = version("Сбербанк снизил ставки по ипотеке для семей. Клиенты довольны.")
    with BulkWriter(settings, refresh=True) as writer:
        writer.add(first)
    model_tone = next(t.sentiment for t in first.brand_tone if t.brand == "sberbank")
    wanted = "negative" if model_tone != "negative" else "positive"
    set_tone(client, settings, first.id, "sberbank", wanted, by="аналитик")

    second = version("Сбербанк снизил ставки по ипотеке для семей. Клиенты довольны. Обновлено.")
    assert second.id == first.id and not second.tone_corrections
    with BulkWriter(settings, refresh=True, before_send=keep_corrections(client, settings)) as writer:
        writer.add(second)
    _, stored = fetch_article(client, settings, first.id)
    assert stored.text.endswith("Обновлено.")  # the new version replaced the document …
    assert next(t.sentiment for t in stored.brand_tone if t.brand == "sberbank") == wanted  # … but not the tone
    assert stored.tone_corrections[0].by == "аналитик"

    with BulkWriter(settings, refresh=True) as writer:  # without the hook the correction would be lost
        writer.add(second)
    _, lost = fetch_article(client, settings, first.id)
    assert not lost.tone_corrections


@pytest.mark.es
def test_index_load_and_spool_replay_keep_the_analysts_tone(es_settings, tmp_path, monkeypatch) -> None:
    """The JSONL stage (`rezonans index load`) and `rezonans index replay` write whole documents too: a stored
    article's correction survives both, as it does a re-crawl."""
    from indexer.bulk import BulkWriter, Spool
    from indexer.store import action_for
    from pipeline.corrections import set_tone

    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-keep", "home": tmp_path})
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("REZONANS_HOME", str(tmp_path))
    monkeypatch.setenv("REZONANS_ES_URL", settings.es_url)
    client = connect(settings)
    analyzer = Analyzer.from_file(None)
    article = analyzer.analyze(
        Article(
            url="https://example.ru/news/keep",
            source=SourceRef(name="Пример", weight=1.0),
            title="Сбербанк снизил ставки по ипотеке",
            text="Сбербанк снизил ставки по ипотеке для семей. Клиенты довольны.",
            published_at=datetime(2026, 11, 18, 9, tzinfo=UTC),
        )
    )
    with BulkWriter(settings, refresh=True) as writer:
        writer.add(article)
    model_tone = next(t.sentiment for t in article.brand_tone if t.brand == "sberbank")
    wanted = "negative" if model_tone != "negative" else "positive"
    set_tone(client, settings, article.id, "sberbank", wanted, by="аналитик")

    def stored_tone() -> tuple[str, list[str]]:
        _, stored = fetch_article(client, settings, article.id)
        tone = next(t.sentiment for t in stored.brand_tone if t.brand == "sberbank")
        return tone, [c.by for c in stored.tone_corrections]

    jsonl = tmp_path / "analysed.jsonl"  # the analysed JSONL of before the correction, indexed again
    jsonl.write_text(article.to_json() + "\n", encoding="utf-8")
    loaded = runner.invoke(app, ["index", "load", str(jsonl), "--refresh", "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout.strip().splitlines()[-1])["indexed"] == 1
    assert stored_tone() == (wanted, ["аналитик"])

    Spool(settings.spool_dir).write([action_for(article, settings)])  # spooled while the server was away
    replayed = runner.invoke(app, ["index", "replay", "--json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["indexed"] == 1 and Spool(settings.spool_dir).files() == []
    client.indices.refresh(index=f"{settings.index_prefix}-articles")
    assert stored_tone() == (wanted, ["аналитик"])
