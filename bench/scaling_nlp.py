"""Does analysis cost grow linearly? CPU time of `Analyzer.analyze` for one article with 1k and 10k brand mentions,
and for an ordinary article with 25, 100 and 400 brand cards, with the ratios (linear: 10k/1k ≈ 10, 400/100 ≤ 4).

    python bench/scaling_nlp.py [--runs 3] [--mentions 1000 10000] [--cards 25 100 400]

Prints JSON: per row the CPU seconds (min and median of --runs runs, models loaded beforehand), for each step the
ratio of the medians beside the ratio linear cost would give, and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# keep this folder off the import path (bench/nlp.py would shadow the nlp package)
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.analyzer import Analyzer  # noqa: E402
from rezonans.brands import BrandCard, BrandSet, default_brands_path, load_brands  # noqa: E402
from rezonans.model import Article, SourceRef  # noqa: E402

# Sentences with one brand mention each: ambiguous names (Магнит, МегаФон: homonym check, NER on the first
# sentences), unambiguous ones, promo codes, and filler between them.
MENTION_SENT = [
    "Сеть «Магнит» открыла магазин в городе номер {n}.",
    "Поднесите магнит к компасу и посмотрите на стрелку {n} раз.",
    "Оператор МегаФон повысил тарифы в регионе {n}.",
    "Полицейский через мегафон призвал людей разойтись у дома {n}.",
    "Сбербанк снизил ставки по вкладам на {n} базисных пунктов.",
    "Клиенты ВТБ пожаловались на сбой в приложении, промокод VTB{n} не работает.",
    "Т-Банк запустил новую карту, по промокоду TBANK{n} скидка.",
]
FILLER = [
    "Эксперты считают, что это поддержит спрос.",
    "Подробности пока не раскрываются.",
    "Решение вступит в силу с 1 января.",
]


def article_with_mentions(n: int, seed: int = 3) -> Article:
    """One article holding n brand mentions in paragraphs of five sentences."""
    rnd = random.Random(seed)
    sents = []
    for i in range(n):
        sents.append(rnd.choice(MENTION_SENT).format(n=i))
        if rnd.random() < 0.5:
            sents.append(rnd.choice(FILLER))
    paras = [" ".join(sents[j : j + 5]) for j in range(0, len(sents), 5)]
    return Article(
        url=f"http://127.0.0.1/scaling/{n}",
        source=SourceRef(name="bench"),
        title="Обзор: Магнит, МегаФон и банки",
        text="\n".join(paras),
    )


def ordinary_article() -> Article:
    """A news article of about 400 words with a few mentions and promo codes."""
    rnd = random.Random(5)
    sents = [rnd.choice(FILLER) for _ in range(40)]
    for i in range(6):
        sents.insert(rnd.randrange(len(sents)), MENTION_SENT[i % len(MENTION_SENT)].format(n=i))
    return Article(
        url="http://127.0.0.1/scaling/cards",
        source=SourceRef(name="bench"),
        title="Банки снизили ставки",
        text="\n".join(" ".join(sents[j : j + 6]) for j in range(0, len(sents), 6)),
    )


def cards(n: int) -> BrandSet:
    """The shipped cards plus generated ones up to n cards, each with two promo-code patterns."""
    shipped = load_brands(default_brands_path()).brands
    extra = [
        BrandCard(
            id=f"gen{k}",
            name=f"Компания Ромашка{k}",
            aliases=[f"Romashka{k}"],
            promo_codes=[f"ROMA{k}X\\w+", f"РОМ{k}Х\\d{{2,}}"],
        )
        for k in range(max(0, n - len(shipped)))
    ]
    return BrandSet(brands=[*shipped, *extra][:n])


def cpu_seconds(analyzer: Analyzer, article: Article, runs: int) -> tuple[float, float]:
    """Min and median CPU seconds of analysing a fresh copy of the article."""
    analyzer.analyze(article.model_copy(deep=True))  # warm: models, caches
    times = []
    for _ in range(runs):
        copy = article.model_copy(deep=True)
        gc.collect()  # the garbage of earlier rows (10k-mention articles) is not this row's cost
        t = time.process_time()
        analyzer.analyze(copy)
        times.append(time.process_time() - t)
    return min(times), statistics.median(times)


def main() -> int:
    """Run the rows and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mentions", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--cards", type=int, nargs="*", default=[25, 100, 400])
    args = parser.parse_args()
    load_before = os.getloadavg()
    out: dict = {"runs": args.runs, "load_before": [round(x, 2) for x in load_before]}
    analyzer = Analyzer(cards(25))
    rows: dict[str, dict[str, Any]] = {}
    for n in args.mentions:
        art = article_with_mentions(n)
        lo, med = cpu_seconds(analyzer, art, args.runs)
        found = len(analyzer.analyze(art.model_copy(deep=True)).mentions)
        rows[f"mentions_{n}"] = {"mentions_found": found, "chars": len(art.text), "cpu_s_min_median": [lo, med]}
    for n in args.cards:
        an = Analyzer(cards(n), tone=analyzer.tone)
        lo, med = cpu_seconds(an, ordinary_article(), args.runs)
        rows[f"cards_{n}"] = {"cards": len(an.brands.brands), "cpu_s_min_median": [lo, med]}
    for row in rows.values():
        row["cpu_s_min_median"] = [round(x, 4) for x in row["cpu_s_min_median"]]
    out["rows"] = rows

    def ratio(a: str, b: str) -> float | None:
        if a in rows and b in rows:
            return round(rows[a]["cpu_s_min_median"][1] / max(1e-9, rows[b]["cpu_s_min_median"][1]), 2)
        return None

    ms, cs = sorted(args.mentions), sorted(args.cards)
    for a, b in zip(ms, ms[1:], strict=False):  # each step, with the ratio linear cost would give
        out[f"ratio_mentions_{b}/{a}"] = [ratio(f"mentions_{b}", f"mentions_{a}"), round(b / a, 2)]
    for a, b in zip(cs, cs[1:], strict=False):
        out[f"ratio_cards_{b}/{a}"] = [ratio(f"cards_{b}", f"cards_{a}"), round(b / a, 2)]
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
