"""Parallel analysis on the crawl → index path: order, reprint clusters, error isolation, worker loss."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from nlp.analyzer import Analyzer
from pipeline.ingest import ParallelAnalysis
from rezonans.model import Article, SourceRef

BODY = (
    "Сбербанк снизил ставки по ипотеке для семей с детьми. Клиенты банка смогут оформить кредит онлайн, "
    "а ВТБ пока сохраняет прежние условия. Аналитики ожидают, что решение поддержит спрос на жильё "
    "в крупных городах и усилит конкуренцию между банками в ближайшие месяцы."
)


def article(n: int, text: str = BODY, source: str = "Пример") -> Article:
    """An article published n hours after a fixed start."""
    return Article(
        url=f"http://news.test/{source}/{n}",
        source=SourceRef(name=source),
        title=f"Новость {n}",
        text=text + f" Материал номер {n}." if text is not BODY else text,
        published_at=datetime(2026, 11, 20, tzinfo=UTC) + timedelta(hours=n),
    )


class ListWriter:
    """Collects what would be journalled; refuses one URL to show error isolation."""

    def __init__(self, refuse: str | None = None) -> None:
        self.added: list[Article] = []
        self.refuse = refuse

    def add(self, art: Article) -> None:
        if art.url == self.refuse:
            raise RuntimeError("refused")
        self.added.append(art)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.from_file(None)


def test_worker_results_in_order_with_clusters_and_isolated_errors(analyzer):
    arts = [
        article(1, source="A"),
        article(2, text="Совсем другой текст про погоду в Казани и выходные дни."),
        article(3, source="B"),
        article(4, text="ВТБ открыл новый офис в Самаре для клиентов малого бизнеса."),
    ]
    writer = ListWriter(refuse=arts[3].url)
    sink = ParallelAnalysis(analyzer, writer, None, workers=1, depth=2)
    try:
        outcomes = [o for a in arts for o in sink.submit(a)] + sink.drain()
    finally:
        sink.close()
    assert [a.url for a, _ in outcomes] == [a.url for a in arts]
    assert [err is None for _, err in outcomes] == [True, True, True, False]
    assert [a.url for a in writer.added] == [a.url for a in arts[:3]]
    first, other, reprint = writer.added
    assert {m.brand for m in first.mentions} == {"sberbank", "vtb"} and first.lemmas
    assert reprint.cluster == first.cluster and first.is_original and not reprint.is_original
    assert other.cluster != first.cluster
    # The worker's analysis equals the in-process one.
    local = analyzer.analyze(article(1, source="A").model_copy(deep=True), reprints=False)
    assert [(m.brand, m.start, m.sentiment) for m in local.mentions] == [
        (m.brand, m.start, m.sentiment) for m in first.mentions
    ]


def test_a_dead_worker_falls_back_to_the_crawl_process(analyzer):
    writer = ListWriter()
    sink = ParallelAnalysis(analyzer, writer, None, workers=1)
    try:
        assert sink.submit(article(10, source="C")) + sink.drain()
        for pid in list(sink.pool._processes):
            os.kill(pid, signal.SIGKILL)
        outcomes = sink.submit(article(11, source="D")) + sink.drain()
    finally:
        sink.close()
    assert [err for _, err in outcomes] == [None]
    assert len(writer.added) == 2 and writer.added[1].mentions
