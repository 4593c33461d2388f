"""Precision/recall of brand-vs-common-word decisions on the committed labelled set (nlp/data/homonyms.tsv).

Usage: python -m training.eval_homonyms [--file TSV] [--brands YAML] [--errors]
A line is `label<TAB>sentence` with the hit marked [[...]]; 1 = brand, 0 = not. A hit counts as predicted
'brand' when the matcher finds it and the homonym check accepts it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nlp.data
from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from rezonans.brands import BrandSet, default_brands_path, load_brands

DATA = Path(nlp.data.__file__).parent / "homonyms.tsv"
_MARK = re.compile(r"\[\[(.+?)\]\]")


def read_set(path: Path = DATA) -> list[tuple[int, str, int, int]]:
    """(label, sentence, start, end) of every labelled hit."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, marked = line.split("\t", 1)
        m = _MARK.search(marked)
        if not m:
            raise ValueError(f"no [[hit]] in line: {line}")
        sentence = marked[: m.start()] + m.group(1) + marked[m.end() :]
        sentence = _MARK.sub(r"\1", sentence)
        out.append((int(label), sentence, m.start(), m.start() + len(m.group(1))))
    return out


def evaluate(brands: BrandSet, path: Path = DATA, use_ner: bool = True) -> dict:
    """Precision, recall and F1 of the 'brand' class, plus the misjudged lines."""
    matcher = BrandMatcher(brands)
    tp = fp = fn = tn = 0
    errors = []
    for label, sentence, start, end in read_set(path):
        tm = find_mentions(sentence, brands, matcher, use_ner=use_ner)
        f = next((f for f in tm.found if f.hit.start < end and f.hit.end > start), None)
        pred = bool(f and f.is_brand)
        if pred and label:
            tp += 1
        elif pred:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
        if pred != bool(label):
            errors.append(
                {
                    "label": label,
                    "sentence": sentence,
                    "confidence": f.confidence if f else None,
                    "cues": f.cues if f else ["no match"],
                }
            )
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": tp + fp + fn + tn,
        "brand": tp + fn,
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
        "accuracy": round((tp + tn) / max(1, tp + fp + fn + tn), 3),
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures (and optionally the errors) as JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--file", type=Path, default=DATA)
    ap.add_argument("--brands", type=Path, default=None, help="brand cards (default: the shipped ones)")
    ap.add_argument("--no-ner", action="store_true", help="judge without natasha NER")
    ap.add_argument("--errors", action="store_true", help="also print misjudged lines")
    args = ap.parse_args(argv)
    res = evaluate(load_brands(args.brands or default_brands_path()), args.file, use_ner=not args.no_ner)
    if not args.errors:
        res.pop("errors")
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
