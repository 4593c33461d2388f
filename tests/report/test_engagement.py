"""Engagement beside publicity in the report's «SMM и маркетинг» part, through the CLI in every format."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from indexer.bulk import BulkWriter
from report.labels import Labels
from rezonans.config import Settings
from rezonans.model import Article, BrandTone, Mention, SourceRef

pytestmark = pytest.mark.es

VK = SourceRef(name="Финансы VK", type="vk", weight=1.0, domain="vk.com")
TG = SourceRef(name="Банкста", type="telegram", weight=1.0, domain="t.me")
NEWS = SourceRef(name="РБК", type="site", weight=3.0, domain="rbc.ru")
L = Labels("ru")


def post(slug: str, src: SourceRef, day: int, text: str, tone: str | None, prominence: float, **counts) -> Article:
    """An article (a public post when the source is vk/telegram) mentioning Сбербанк with the given tone."""
    mentions = []
    if tone:
        start = text.index("Сбербанк")
        mentions = [
            Mention(
                brand="sberbank", start=start, end=start + 8, text="Сбербанк", sentiment=tone, prominence=prominence
            )
        ]
    return Article(
        url=f"https://{src.domain}/{slug}",
        source=src.model_copy(),
        title=text.split(".")[0],
        text=text,
        published_at=datetime(2026, 11, day, 9, tzinfo=UTC),
        mentions=mentions,
        brand_sentiment={"sberbank": tone} if tone else {},
        brand_tone=[BrandTone(brand="sberbank", sentiment=tone, mentions=1)] if tone else [],
        cluster=slug,
        **counts,
    )


def corpus() -> list[Article]:
    """Week 2026-W47: a viral VK post of little publicity, a modest VK post, a negative Telegram post, a news article."""
    return [
        post(
            "v1",
            VK,
            17,
            "Сбербанк раздаёт стикеры. Мемы недели.",
            "neutral",
            0.2,
            likes=5000,
            forwards=300,
            comments=700,
            views=90000,
        ),
        post(
            "v2",
            VK,
            18,
            "Сбербанк снизил ставки по вкладам.",
            "positive",
            1.0,
            likes=40,
            forwards=5,
            comments=3,
            views=2000,
        ),
        post("t1", TG, 19, "Сбербанк снова не работает у клиентов.", "negative", 0.5, views=10000, forwards=120),
        post("n1", NEWS, 18, "Сбербанк снизил ставки, пишут аналитики.", "positive", 1.0),
        post("v3", VK, 18, "Погода на выходные: без осадков.", None, 0.0, likes=9999, views=99999),  # no brand
        post("p1", VK, 10, "Сбербанк открыл офис.", "neutral", 0.5, likes=100, forwards=10, comments=10, views=5000),
    ]


@pytest.fixture(scope="module")
def engaged(es_settings: Settings) -> Settings:
    """A prefix holding exactly the corpus above."""
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-eng"})
    with BulkWriter(settings, refresh=True) as writer:
        for article in corpus():
            writer.add(article)
    assert writer.stats.indexed == len(corpus())
    return settings


def invoke(settings: Settings, monkeypatch, *extra: str):
    monkeypatch.setenv("REZONANS_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("REZONANS_ES_URL", settings.es_url)
    res = CliRunner().invoke(app, ["report", "--brand", "sberbank", "--week", "2026-W47", *extra])
    assert res.exit_code == 0, res.output
    return res


def test_markdown_engagement_totals_top_posts_and_their_publicity(engaged: Settings, monkeypatch) -> None:
    text = invoke(engaged, monkeypatch).stdout
    part = text[text.index("### Вовлечённость публичных постов о бренде (Telegram, ВКонтакте)") :]
    # three public posts about the brand (the news article and the post without the brand are not counted)
    assert f"Публикаций 3 (+2, +200\u00a0%): лайки {L.num(5040)} (+{L.num(4940)}" in part
    assert f"репосты и пересылки {L.num(425)} (+{L.num(415)}" in part and f"просмотры {L.num(102000)}" in part
    rows = [line for line in part.splitlines() if line.startswith("| [")]
    # by engagement (likes + reposts + comments): the viral post first, though its publicity is the smallest
    assert [r.split("](")[1].split(")")[0] for r in rows] == [
        "https://vk.com/v1",
        "https://t.me/t1",
        "https://vk.com/v2",
    ]
    assert rows[0].endswith(f"| {L.num(5000)} | {L.num(300)} | {L.num(700)} | {L.num(90000)} | 0,10 |")
    assert rows[1].endswith(f"| — | {L.num(120)} | — | {L.num(10000)} | −0,50 |")  # Telegram: no likes, comments
    assert rows[2].endswith("| 40 | 5 | 3 | 2\u00a0000 | 1,00 |")
    assert "Популярный пост — ещё не публичность, которая продаёт" in part
    assert "Счётчики — на момент последнего сбора поста" in part  # not final figures
    assert "Публичность (заработанные медиа): индекс 3,60" in text  # 0.1 + 1.0 − 0.5 + 3.0 beside it


def test_html_xlsx_and_pdf_show_the_same_part(engaged: Settings, monkeypatch, tmp_path) -> None:
    from openpyxl import load_workbook

    html = tmp_path / "r.html"
    invoke(engaged, monkeypatch, "--format", "html", "--out", str(html))
    page = html.read_text(encoding="utf-8")
    assert "<h3>Вовлечённость публичных постов о бренде (Telegram, ВКонтакте)</h3>" in page
    part = page[page.index("<h3>Вовлечённость") :]
    assert (
        part.index('href="https://vk.com/v1"')
        < part.index('href="https://t.me/t1"')
        < part.index('href="https://vk.com/v2"')
    )
    assert "Популярный пост — ещё не публичность" in page and "Счётчики — на момент последнего сбора" in page

    xlsx = tmp_path / "r.xlsx"
    invoke(engaged, monkeypatch, "--format", "xlsx", "--out", str(xlsx))
    ws = load_workbook(xlsx)["Вовлечённость"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert rows["Публикации"][:2] == (3, 1) and rows["Лайки"][:2] == (5040, 100)
    assert rows["Репосты и пересылки"][:2] == (425, 10) and rows["Комментарии"][:2] == (703, 10)
    assert rows["Индекс публичности PI-1"][0] == pytest.approx(3.6)
    header = next(r for r in ws.iter_rows() if r[0].value == "Опубликовано")
    first = ws[header[0].row + 1]
    assert first[3].hyperlink.target == "https://vk.com/v1" and first[4].value == 5000 and first[0].is_date
    assert first[8].value == pytest.approx(0.1) and first[8].number_format == "#,##0.00"
    assert any("не публичность" in str(r[0]) for r in ws.iter_rows(values_only=True) if r and r[0])
    assert any("на момент последнего сбора" in str(r[0]) for r in ws.iter_rows(values_only=True) if r and r[0])

    pdf = tmp_path / "r.pdf"
    invoke(engaged, monkeypatch, "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) not installed: scripts/setup.sh installs them")
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "Вовлечённость публичных постов о бренде" in text and "Популярный пост — ещё не публичность" in text


def test_english_labels(engaged: Settings, monkeypatch) -> None:
    monkeypatch.setenv("REZONANS_LANGUAGE", "en")
    text = invoke(engaged, monkeypatch).stdout
    assert "### Engagement of public posts about the brand (Telegram, VK)" in text
    assert "A popular post is not publicity that sells" in text


def test_counts_no_post_carries_are_shown_as_missing_not_zero(es_settings: Settings, monkeypatch) -> None:
    """Telegram posts have views and forwards but no likes or comments: the totals say «—», not «0»."""
    settings = es_settings.model_copy(update={"index_prefix": f"{es_settings.index_prefix}-engtg"})
    posts = [
        post("t2", TG, 17, "Сбербанк запустил новый вклад.", "positive", 1.0, views=3000, forwards=40),
        post("t3", TG, 19, "Сбербанк снова не работает у клиентов.", "negative", 0.5, views=10000, forwards=120),
    ]
    with BulkWriter(settings, refresh=True) as writer:
        for article in posts:
            writer.add(article)
    text = invoke(settings, monkeypatch).stdout
    part = text[text.index("### Вовлечённость публичных постов о бренде") :]
    assert "Публикаций 2 (+2, новое): лайки — (—), репосты и пересылки 160 (+160, новое)" in part
    assert "комментарии — (—)" in part and f"просмотры {L.num(13000)}" in part
