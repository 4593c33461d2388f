"""Realistic inputs and a snapshot of what the analyser makes of them (tone left out), for before/after checks.

`python -m tests.nlp.golden --write` records the snapshot (tests/nlp/data/analysis_golden.json); the test
`test_analysis_golden.py` checks that the analyser still gives exactly the same mentions, homonym verdicts
(confidence and cues), sentences, entities, topics, promo codes and lemmas.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.devsite.site import DevSite
from nlp.analyzer import Analyzer
from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from rezonans.brands import BrandCard, BrandSet, load_brands
from rezonans.model import Article, SourceRef
from training.eval_homonyms import read_set

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "data" / "analysis_golden.json"


@dataclass
class _Tone:
    label: str = "neutral"
    score: float = 0.0
    reason: str = ""


class FixedTone:
    """A tone model that always says neutral: the snapshot covers everything but tone."""

    version = "fixed-neutral"

    def predict(self, text: str, start: int, end: int) -> _Tone:
        """Neutral, whatever the sentence."""
        return _Tone()

    def predict_batch(self, items: list[tuple[str, int, int]]) -> list[_Tone]:
        """`predict` for each (sentence, start, end)."""
        return [self.predict(*item) for item in items]


def brand_set() -> BrandSet:
    """The shipped cards plus a few cards with promo-code patterns and exclusions (many patterns per article)."""
    shipped = load_brands(ROOT / "examples" / "brands.yaml")
    extra = [
        BrandCard(
            id=f"shop{k}",
            name=f"Ромашка{k}",
            aliases=[f"Romashka{k}"],
            promo_codes=[f"ROMA{k}\\w+", f"РОМ{k}\\d{{2,}}"],
            exclude=[f"поле Ромашка{k}"],
        )
        for k in range(12)
    ]
    return BrandSet(brands=[*shipped.brands, *extra])


def _article(n: int, title: str, lead: str, text: str) -> Article:
    return Article(
        id=f"g{n}", url=f"http://127.0.0.1/g/{n}", source=SourceRef(name="golden"), title=title, lead=lead, text=text
    )


def inputs() -> list[Article]:
    """Dev-site news (brands, promo codes, homonyms), the labelled homonym sentences grouped into articles,
    a long article with hundreds of mentions, and posts with hashtags, handles and many promo codes."""
    site = DevSite(articles=60, seed=7)
    out = [_article(i, a.title, a.lead if i % 3 == 0 else "", a.text) for i, a in enumerate(site.articles)]
    sents = [s for _, s, _, _ in read_set()]
    for k in range(0, len(sents), 9):
        group = sents[k : k + 9]
        out.append(_article(len(out), group[0], "", "\n".join(group[1:])))
    long_text = " ".join(sents[:120]) + "\n" + " ".join(sents[120:240])
    out.append(_article(len(out), "Обзор рынка: Магнит, МТС и Билайн", "", long_text * 3))
    posts = [
        "#билайн опять нет связи @Beeline_RUS что происходит?? пишу на pomogite@beeline.ru",
        "Промокод SBER2024 даёт скидку, а код VTBVESNA — кэшбэк. #Сбер #мтс",
        "Скидка по промокоду ROMA3LETO в Ромашка3, купон РОМ7123 в Ромашка7 и ROMA11ZIMA.",
        "Магнит и Пятёрочка: промокод MAGNIT500, PYATEROCHKA, X5CLUB и MF12345 от МегаФона, BL777 Билайн.",
        "Поле Ромашка5 зацвело. А магнит на холодильнике упал. Ромашка5 открыла магазин.",
    ]
    for k, post in enumerate(posts):
        out.append(_article(len(out), "", "", (post + " ") * (1 + 4 * k)))
    return out


def snapshot(brands: BrandSet | None = None) -> list[dict[str, Any]]:
    """What the analyser (fixed neutral tone) and find_mentions give for every input."""
    brands = brands or brand_set()
    analyzer = Analyzer(brands, tone=FixedTone())  # type: ignore[arg-type]
    matcher = BrandMatcher(brands)
    rows = []
    for article in inputs():
        fields = {}
        for name in ("title", "lead", "text"):
            value = getattr(article, name)
            tm = find_mentions(value, brands, matcher) if value else None
            fields[name] = (
                None
                if tm is None
                else {
                    "sentences": tm.sentences,
                    "ents": [list(e) for e in tm.ents],
                    "found": [
                        [f.hit.brand, f.hit.start, f.hit.end, f.hit.kind, f.hit.name, f.confidence, f.is_brand]
                        + [list(f.sentence), f.cues]
                        for f in tm.found
                    ],
                }
            )
        a = analyzer.analyze(article.model_copy(deep=True))
        rows.append(
            {
                "id": article.id,
                "fields": fields,
                "mentions": [
                    m.model_dump(mode="json", exclude={"sentiment", "sentiment_score", "tone_reason"})
                    for m in a.mentions
                ],
                "brand_tone": [
                    t.model_dump(mode="json", include={"brand", "mentions", "tone_capped"}) for t in a.brand_tone
                ],
                "topics": a.topics,
                "promo_codes": a.promo_codes,
                "lemmas": hashlib.sha1(a.lemmas.encode()).hexdigest(),
                "cluster": a.cluster,
            }
        )
    return json.loads(json.dumps(rows, ensure_ascii=False))  # tuples as lists, as in the file


def main() -> int:
    """Write (or check) the snapshot file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = snapshot()
    if args.write:
        GOLDEN.parent.mkdir(exist_ok=True)
        lines = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)  # one article a line
        GOLDEN.write_text("[\n" + lines + "\n]\n", encoding="utf-8")
        print(f"{len(rows)} articles, {sum(len(r['mentions']) for r in rows)} mentions -> {GOLDEN}")
        return 0
    return 0 if rows == json.loads(GOLDEN.read_text(encoding="utf-8")) else 1


if __name__ == "__main__":
    raise SystemExit(main())
