"""Benchmark: documents/s bulk-indexed into the real server (2–5 KB articles) and the server's start-up time.

Usage: python bench/index_bulk.py [--docs 20000] [--skip-startup]
Needs the local server (`rezonans es start`) or REZONANS_ES_URL; uses its own index prefix and deletes it.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from indexer.bulk import BulkWriter
from indexer.client import connect, wait_for_health
from indexer.mappings import articles_alias
from indexer.server import LocalServer
from rezonans.config import Settings
from rezonans.model import Article, Mention, SourceRef

SUBJECTS = [
    "Сбербанк",
    "ВТБ",
    "Минфин",
    "Центробанк",
    "Правительство",
    "Магнит",
    "Аналитики",
    "Ритейлер",
    "Оператор связи",
    "Регулятор",
    "Компания",
    "Банк",
]
VERBS = ["объявил о", "сообщил о", "завершил", "начал", "отчитался о", "запустил", "приостановил", "одобрил"]
OBJECTS = [
    "снижении ставок по ипотеке",
    "росте чистой прибыли за третий квартал",
    "запуске нового сервиса",
    "программе лояльности для клиентов",
    "сделке по покупке сети магазинов",
    "выпуске облигаций",
    "расширении филиальной сети в регионах",
    "проверке антимонопольной службы",
    "сокращении издержек",
]
TAILS = [
    "по данным отчётности",
    "как следует из пресс-релиза",
    "сообщили в пресс-службе",
    "отметили эксперты рынка",
    "в понедельник",
    "по итогам девяти месяцев",
    "в Москве и Санкт-Петербурге",
]
SOURCES = [
    ("РБК", 2.0),
    ("Коммерсантъ", 2.0),
    ("Ведомости", 1.8),
    ("ТАСС", 1.5),
    ("Фонтанка", 1.0),
    ("E1.ru", 0.8),
    ("Банки.ру", 1.2),
    ("Telegram: Раньше всех", 0.6),
]


def sentence(rng: random.Random) -> str:
    """One news-like Russian sentence."""
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}, {rng.choice(TAILS)}."


def make_articles(n: int, seed: int = 7) -> list[Article]:
    """n articles with 2–5 KB of text, 1–4 mentions each, spread over three months."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        target = rng.randint(2000, 5000)
        parts: list[str] = []
        size = 0
        while size < target:
            s = sentence(rng)
            parts.append(s)
            size += len(s.encode("utf-8")) + 1
        text = " ".join(parts)
        name, weight = rng.choice(SOURCES)
        mentions = []
        for _ in range(rng.randint(1, 4)):
            pos = text.find("Сбербанк", rng.randint(0, max(0, len(text) - 200)))
            pos = pos if pos >= 0 else text.find("Сбербанк")
            if pos >= 0:
                mentions.append(
                    Mention(
                        brand="sberbank",
                        start=pos,
                        end=pos + 8,
                        text="Сбербанк",
                        sentiment=rng.choice(["positive", "neutral", "negative"]),
                        sentiment_score=rng.random(),
                        prominence=rng.random(),
                    )
                )
        out.append(
            Article(
                url=f"https://bench.example.ru/news/{i}",
                source=SourceRef(name=name, weight=weight),
                title=sentence(rng),
                text=text,
                lemmas=text.lower(),
                published_at=start + timedelta(minutes=13 * i),
                mentions=mentions,
                cluster=f"c{i // 3}",
            )
        )
    return out


def bench_bulk(settings: Settings, docs: int) -> None:
    """Index `docs` articles and print throughput."""
    client = connect(settings)
    wait_for_health(client)
    articles = make_articles(docs)
    avg_kb = sum(len(a.text.encode("utf-8")) for a in articles) / len(articles) / 1024
    t0 = time.perf_counter()
    with BulkWriter(settings, client=client, chunk_size=500) as writer:
        for article in articles:
            writer.add(article)
    elapsed = time.perf_counter() - t0
    client.indices.refresh(index=articles_alias(settings))
    stored = client.count(index=articles_alias(settings))["count"]
    print(
        f"bulk index: {writer.stats.indexed} docs (avg text {avg_kb:.1f} KB) in {elapsed:.1f}s "
        f"= {writer.stats.indexed / elapsed:.0f} docs/s; stored {stored}"
    )
    names = list(client.indices.get(index=f"{settings.index_prefix}-*").keys())
    if names:
        client.indices.delete(index=",".join(names))
    client.indices.delete_index_template(name=f"{settings.index_prefix}-*")


def bench_startup(settings: Settings, runs: int = 3) -> None:
    """Start and stop a separate local node a few times and print the start-up times."""
    server = LocalServer(settings, name="bench-startup", port=9271)
    server.install()
    times = []
    for _ in range(runs):
        times.append(server.start())
        server.stop()
    print(
        f"server start-up to yellow health: {', '.join(f'{t:.1f}s' for t in times)} "
        f"(median {sorted(times)[len(times) // 2]:.1f}s)"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args()
    settings = Settings(index_prefix="rzbench-bulk")
    bench_bulk(settings, args.docs)
    if not args.skip_startup:
        bench_startup(settings)


if __name__ == "__main__":
    main()
