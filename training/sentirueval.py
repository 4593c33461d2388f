"""SentiRuEval-2016 reputation monitoring (tweets about banks and telecom companies, tone per company).

Research dataset of the SentiRuEval-2016 organisers (N. Loukachevitch, Y. Rubtsova: "SentiRuEval-2016:
overcoming time gap and data sparsity in tweet sentiment analysis", Dialogue 2016). Only the *train* splits
are used (`banks.train.tsv`, `telecom.train.tsv`: `text`, `entity`, `label` −1/0/1); a validation part of
each (20 % of the distinct texts, fixed seed) is kept out of training and tuning.

Usage: python -m training.sentirueval DATA_DIR [--errors N] [--split train|val]
prints brand recall: the share of rows whose company the analyzer finds in the text (with the cards in
training/data/sentirueval_brands.yaml).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from rezonans.brands import BrandSet, load_brands

CARDS = Path(__file__).parent / "data" / "sentirueval_brands.yaml"
DOMAINS = ("banks", "telecom")
ENTITY_ID = {
    "сбербанк": "sberbank",
    "втб": "vtb",
    "альфабанк": "alfabank",
    "россельхозбанк": "rosselkhozbank",
    "банкмосквы": "bankmoskvy",
    "газпромбанк": "gazprombank",
    "райффайзенбанк": "raiffeisen",
    "уралсиб": "uralsib",
    "билайн": "beeline",
    "мтс": "mts",
    "мегафон": "megafon",
    "ростелеком": "rostelecom",
    "теледва": "tele2",
    "скайлинк": "skylink",
    "комстар": "comstar",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled (post, company) pair."""

    domain: str
    text: str
    brand: str  # card id
    label: int  # -1, 0, 1


def read(data: Path, domain: str) -> list[Row]:
    """Rows of one domain's train split (HTML entities such as `&amp;quot;` decoded: crawled text has none)."""
    with (data / f"{domain}.train.tsv").open(encoding="utf-8") as f:
        return [
            Row(domain, html.unescape(html.unescape(r["text"])), ENTITY_ID[r["entity"]], int(r["label"]))
            for r in csv.DictReader(f, delimiter="\t")
            if r.get("entity") in ENTITY_ID and r.get("label") in {"-1", "0", "1"}
        ]


def split(rows: list[Row], val_share: float = 0.2, seed: int = 29) -> tuple[list[Row], list[Row]]:
    """Train and validation rows, grouped by text (a post and its retweets of the same text stay on one side)."""
    texts = sorted({r.text for r in rows})
    random.Random(seed).shuffle(texts)
    val = set(texts[: int(len(texts) * val_share)])
    return [r for r in rows if r.text not in val], [r for r in rows if r.text in val]


def brand_cards() -> BrandSet:
    """The cards of the data set's companies."""
    return load_brands(CARDS)


def recall(rows: list[Row], brands: BrandSet, use_ner: bool = True) -> tuple[float, list[Row]]:
    """Share of rows whose company is found (and accepted) in the text, and the missed rows."""
    matcher = BrandMatcher(brands)
    missed = []
    for r in rows:
        tm = find_mentions(r.text, brands, matcher, use_ner=use_ner)
        if not any(f.hit.brand == r.brand for f in tm.accepted):
            missed.append(r)
    return 1 - len(missed) / max(1, len(rows)), missed


def main(argv: list[str] | None = None) -> int:
    """Print brand recall per domain on the chosen part of the train splits."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="folder with banks.train.tsv and telecom.train.tsv")
    ap.add_argument("--split", choices=("train", "val"), default="val")
    ap.add_argument("--errors", type=int, default=0, help="print this many missed rows")
    args = ap.parse_args(argv)
    brands = brand_cards()
    out = {}
    for domain in DOMAINS:
        tr, va = split(read(args.data, domain))
        rows = tr if args.split == "train" else va
        r, missed = recall(rows, brands)
        out[domain] = {"rows": len(rows), "recall": round(100 * r, 1)}
        for m in missed[: args.errors]:
            print(m.brand, "|", m.text.replace("\n", " "))
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
