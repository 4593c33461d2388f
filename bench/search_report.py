"""Benchmark: search latency (p50/p95) and weekly-report time over ≥ 1,000,000 brand mentions.

Usage: python bench/search_report.py [--articles 250000] [--mentions 4] [--keep] [--reuse] [--prefix rzbench-search]
Generates news-like Russian articles (several brand mentions each, tones, sources with weights, reprint clusters,
promo codes) over twelve months, bulk-indexes them under their own prefix (indexing time is printed), then times
typical searches through `search.engine.search` and weekly reports through `report.build.build_report`.
Needs the local server (`rezonans es start`) or REZONANS_ES_URL. The prefix's indices are deleted at the end
unless --keep; --reuse skips generation when the prefix already holds the data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from elasticsearch import helpers

from indexer.client import connect, wait_for_health
from indexer.mappings import articles_alias
from indexer.store import action_for, ensure_templates
from report.aggs import ReportScope
from report.build import build_report
from report.periods import week_period
from rezonans.config import load_settings
from rezonans.model import Article, BrandTone, Mention, SourceRef
from search.engine import SearchRequest, export, search

BRANDS = {
    "sberbank": ["Сбербанк", "Сбербанка", "Сбербанку", "Сбер"],
    "vtb": ["ВТБ"],
    "tbank": ["Т-Банк", "Т-Банка"],
    "alfabank": ["Альфа-Банк", "Альфа-Банка"],
    "magnit": ["Магнит", "Магнита"],
    "pyaterochka": ["Пятёрочка", "Пятёрочки"],
    "megafon": ["МегаФон", "МегаФона"],
    "beeline": ["Билайн", "Билайна"],
}
COMPETITORS = {"sberbank": ["vtb", "tbank", "alfabank"], "magnit": ["pyaterochka"], "megafon": ["beeline"]}
VERBS = {
    "positive": ["увеличил прибыль", "снизил ставки по ипотеке", "запустил удобный сервис", "получил награду"],
    "neutral": [
        "опубликовал отчётность",
        "обновил условия для клиентов",
        "открыл офис в Казани",
        "провёл встречу с инвесторами",
    ],
    "negative": ["оштрафован регулятором", "допустил сбой в приложении", "закрыл отделения", "получил жалобы клиентов"],
}
FILLER = [
    "Аналитики ожидают роста спроса на кредиты во втором полугодии.",
    "Ключевая ставка остаётся на прежнем уровне, отметили в Центробанке.",
    "Эксперты рынка связывают изменения с сезонным фактором.",
    "Подробности сделки стороны не раскрывают.",
    "В пресс-службе сообщили, что работы завершатся до конца месяца.",
    "Представители компании отказались от комментариев.",
]
SOURCES = [
    ("РБК", 3.0, "rbc.ru", "site"),
    ("Коммерсантъ", 2.0, "kommersant.ru", "rss"),
    ("Ведомости", 1.8, "vedomosti.ru", "rss"),
    ("ТАСС", 1.5, "tass.ru", "rss"),
    ("Фонтанка", 1.0, "fontanka.ru", "site"),
    ("E1.ru", 0.8, "e1.ru", "site"),
    ("Банки.ру", 1.2, "banki.ru", "sitemap"),
    ("Раньше всех", 0.6, "t.me", "telegram"),
]
START = datetime(2025, 12, 1, tzinfo=UTC)
DAYS = 365


def _lemma_cache():  # type: ignore[no-untyped-def]
    from nlp.lemmas import lemma_string

    cache: dict[str, str] = {}

    def lem(sentence: str) -> str:
        if sentence not in cache:
            cache[sentence] = lemma_string(sentence)
        return cache[sentence]

    return lem


def make_article(i: int, rng: random.Random, per_article: int, lem) -> Article:  # type: ignore[no-untyped-def]
    """One article with `per_article` brand mentions (two or three brands), tone, cluster and maybe a promo code."""
    name, weight, domain, stype = rng.choice(SOURCES)
    brands = rng.sample(list(BRANDS), rng.choice([1, 2, 2, 3]))
    parts: list[str] = []
    mentions: list[Mention] = []
    pos = 0
    tones: dict[str, str] = {}
    for k in range(per_article):
        brand = brands[k % len(brands)]
        tone = tones.setdefault(brand, rng.choices(["positive", "neutral", "negative"], [3, 5, 2])[0])
        form = rng.choice(BRANDS[brand])
        promo = [f"{brand.upper()[:4]}{rng.choice([100, 300, 500])}"] if rng.random() < 0.03 else []
        sentence = f"{form} {rng.choice(VERBS[tone])}."
        if promo:
            sentence += f" Промокод {promo[0]} действует до конца месяца."
        filler = rng.choice(FILLER)
        parts += [sentence, filler]
        mentions.append(
            Mention(
                brand=brand,
                start=pos,
                end=pos + len(form),
                text=form,
                sentiment=tone,
                prominence=round(rng.choice([1.0, 0.7, 0.4, 0.2]) * (1.0 if k == 0 else 0.6), 2),
                placement="title" if k == 0 else "body",
                promo_codes=promo,
            )
        )
        pos += len(sentence) + 1 + len(filler) + 1
    text = " ".join(parts)
    story = i // 3 if rng.random() < 0.25 else i  # about a quarter are reprints of a neighbour's story
    published = START + timedelta(seconds=rng.randint(0, DAYS * 86400))
    return Article(
        url=f"https://{domain}/news/{i}",
        source=SourceRef(name=name, weight=weight, domain=domain, type=stype),
        title=parts[0],
        text=text,
        published_at=published,
        mentions=mentions,
        brand_sentiment=tones,
        brand_tone=[BrandTone(brand=b, sentiment=s) for b, s in tones.items()],
        cluster=f"s{story}",
        is_original=story == i,
        lemmas=" ".join(lem(p) for p in parts),
        promo_codes=sorted({c for m in mentions for c in m.promo_codes}),
        views=rng.randint(100, 50000) if stype == "telegram" else None,
    )


def index_corpus(settings, client, n: int, per_article: int) -> float:  # type: ignore[no-untyped-def]
    """Generate and bulk-index n articles; returns seconds."""
    ensure_templates(client, settings)
    rng = random.Random(42)
    lem = _lemma_cache()

    def actions():  # type: ignore[no-untyped-def]
        for i in range(n):
            yield action_for(make_article(i, rng, per_article, lem), settings)
            if i and i % 50000 == 0:
                print(f"  generated {i:,} articles ({time.monotonic() - t0:.0f}s)", flush=True)

    t0 = time.monotonic()
    ok = 0
    for success, _ in helpers.parallel_bulk(
        client, actions(), thread_count=2, chunk_size=1000, queue_size=4, raise_on_error=True
    ):
        ok += success
    client.indices.refresh(index=articles_alias(settings))
    elapsed = time.monotonic() - t0
    print(
        f"indexed {ok:,} articles ({n * per_article:,} mentions) in {elapsed:.1f}s "
        f"({ok / elapsed:,.0f} articles/s, {ok * per_article / elapsed:,.0f} mentions/s)"
    )
    return elapsed


def drop(client, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Delete the benchmark's article indices by name (wildcard deletes are refused by the server)."""
    names = list(client.indices.get(index=f"{prefix}-articles-*", expand_wildcards="all"))
    if names:
        client.indices.delete(index=",".join(names))


def prepare_corpus(prefix: str, articles: int, mentions: int, reuse: bool):  # type: ignore[no-untyped-def]
    """Settings and a client for the prefix, with the corpus indexed (or reused); and how many articles it holds."""
    settings = load_settings().model_copy(update={"index_prefix": prefix})
    client = connect(settings, request_timeout=120)
    wait_for_health(client, timeout=30)
    alias = articles_alias(settings)
    have = client.count(index=alias)["count"] if client.indices.exists_alias(name=alias) else 0
    if not (reuse and have >= articles):
        if have:
            drop(client, prefix)
        index_corpus(settings, client, articles, mentions)
    return settings, client, client.count(index=alias)["count"]


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=250_000)
    parser.add_argument("--mentions", type=int, default=4, help="mentions per article")
    parser.add_argument("--prefix", default="rzbench-search")
    parser.add_argument("--rounds", type=int, default=30, help="runs of each search type")
    parser.add_argument("--keep", action="store_true", help="keep the indices afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse existing data under the prefix")
    args = parser.parse_args()
    settings, client, total = prepare_corpus(args.prefix, args.articles, args.mentions, args.reuse)
    alias = articles_alias(settings)
    mentions = client.search(index=alias, size=0, aggs={"m": {"nested": {"path": "mentions"}}})["aggregations"]["m"]
    print(
        f"corpus: {total:,} articles, {mentions['doc_count']:,} mentions, "
        f"{len(client.indices.get(index=f'{args.prefix}-articles-*'))} monthly indices"
    )

    rng = random.Random(5)
    weeks = [f"2026-W{w:02d}" for w in range(2, 48)]

    def window() -> tuple[datetime, datetime]:
        start = START + timedelta(days=rng.randint(0, DAYS - 31))
        return start, start + timedelta(days=30)

    searches = {
        "word + brand + month": lambda: SearchRequest("ставки", *window(), brands=[rng.choice(list(BRANDS))]),
        "phrase + month": lambda: SearchRequest('"ключевая ставка"', *window()),
        "boolean + sentiment + source": lambda: SearchRequest(
            f"brand:{rng.choice(list(BRANDS))} sentiment:negative (сбой OR штраф OR жалоба) NOT source:ТАСС", *window()
        ),
        "relevance, no dates": lambda: SearchRequest("ипотека OR кредиты", sort="relevance"),
    }
    for make in list(searches.values()):
        search(client, settings, make(), size=20)  # warm-up
    all_ms: list[float] = []
    print(f"\nsearch latency ({args.rounds} runs each, page of 20 with reprint counts and snippets):")
    for name, make in searches.items():
        times = []
        for _ in range(args.rounds):
            req = make()
            t0 = time.perf_counter()
            page = search(client, settings, req, size=20)
            times.append((time.perf_counter() - t0) * 1000)
        all_ms += times
        print(
            f"  {name:32s} p50 {statistics.median(times):6.1f} ms  p95 {pct(times, 95):6.1f} ms  "
            f"(last: {page.total:,} hits)"
        )
    agg_times = []
    for _ in range(args.rounds):
        start, end = window()
        brand = rng.choice(list(BRANDS))
        t0 = time.perf_counter()
        client.search(
            index=alias,
            size=0,
            query={
                "bool": {
                    "filter": [
                        {"term": {"brands": brand}},
                        {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}},
                    ]
                }
            },
            aggs={
                "days": {"date_histogram": {"field": "published_at", "calendar_interval": "day"}},
                "sources": {"terms": {"field": "source.name", "size": 10}},
                "tone": {
                    "nested": {"path": "brand_tone"},
                    "aggs": {
                        "b": {
                            "filter": {"term": {"brand_tone.brand": brand}},
                            "aggs": {"s": {"terms": {"field": "brand_tone.sentiment"}}},
                        }
                    },
                },
            },
        )
        agg_times.append((time.perf_counter() - t0) * 1000)
    all_ms += agg_times
    print(
        f"  {'filters + aggregations (month)':32s} p50 {statistics.median(agg_times):6.1f} ms  "
        f"p95 {pct(agg_times, 95):6.1f} ms"
    )
    print(
        f"  ALL SEARCHES                     p50 {statistics.median(all_ms):6.1f} ms  p95 {pct(all_ms, 95):6.1f} ms"
        "  (target p95 < 100 ms)"
    )

    print("\nweekly report (two periods, 56-day correlation window, all sections):")
    report_times = []
    for brand in ("sberbank", "magnit", "megafon", "vtb", "beeline"):
        for week in rng.sample(weeks, 2):
            scope = ReportScope(brand=brand, competitors=COMPETITORS.get(brand, []), own_channels=["Раньше всех"])
            t0 = time.perf_counter()
            rep = build_report(client, settings, scope, week_period(week))
            report_times.append(time.perf_counter() - t0)
    print(
        f"  {len(report_times)} reports: median {statistics.median(report_times):.2f} s, max {max(report_times):.2f} s"
        f"  (last: {rep['brand']} {rep['period']}, {rep['articles']['value']:,} articles, "
        f"{rep['mentions']['value']:,} mentions; target < 3 s)"
    )

    t0 = time.perf_counter()
    start = START + timedelta(days=100)
    n = sum(1 for _ in export(client, settings, SearchRequest("brand:sberbank", start, start + timedelta(days=60))))
    print(f"\nexport past the 10,000 cap: {n:,} hits in {time.perf_counter() - t0:.1f} s (search_after)")
    if not args.keep:
        drop(client, args.prefix)
        client.indices.delete_index_template(name=f"{args.prefix}-articles-v1")
        print("deleted the benchmark indices")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
