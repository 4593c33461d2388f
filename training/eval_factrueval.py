"""Mention precision/recall on factRuEval-2016 development documents (organisations).

Usage: python -m training.eval_factrueval DEVSET_DIR [--no-ner]
Source: github.com/dialogue-evaluation/factRuEval-2016 (MIT), folder `devset/` (.txt, .spans, .objects).
Brand cards are built from the gold `Org` objects' `org_name` spans (one card per name, grouped by lemmas);
every document is then searched with those cards. A found span is correct when it overlaps a gold organisation
name; a gold name is found when a found span overlaps it. Figures are printed for the matcher alone and for
matcher + homonym checks (what `Analyzer` keeps).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from nlp.lemmas import lemmatize
from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from rezonans.brands import BrandCard, BrandSet


def read_doc(base: Path) -> tuple[str, list[tuple[int, int]]]:
    """Text and gold organisation-name spans of one document."""
    text = base.with_suffix(".txt").read_text(encoding="utf-8")
    spans: dict[str, tuple[str, int, int]] = {}
    for line in base.with_suffix(".spans").read_text(encoding="utf-8").splitlines():
        parts = line.split("#")[0].split()
        if len(parts) >= 4:
            spans[parts[0]] = (parts[1], int(parts[2]), int(parts[2]) + int(parts[3]))
    gold = []
    for line in base.with_suffix(".objects").read_text(encoding="utf-8").splitlines():
        parts = line.split("#")[0].split()
        if len(parts) >= 3 and parts[1] == "Org":
            names = [spans[s] for s in parts[2:] if s in spans and spans[s][0] == "org_name"]
            if names:
                gold.append((min(n[1] for n in names), max(n[2] for n in names)))
    return text, sorted(set(gold))


def build_cards(docs: list[tuple[str, list[tuple[int, int]]]]) -> BrandSet:
    """One card per distinct organisation name (grouped by lemmas)."""
    groups: dict[str, list[str]] = {}
    for text, gold in docs:
        for s, e in gold:
            name = re.sub(r"\s+", " ", text[s:e]).strip(' «»"')
            if name:
                groups.setdefault(" ".join(lemmatize(name)), []).append(name)
    cards = []
    for i, (_key, names) in enumerate(sorted(groups.items())):
        uniq = list(dict.fromkeys(names))
        cards.append(BrandCard(id=f"org{i}", name=uniq[0], aliases=uniq[1:]))
    return BrandSet(brands=cards)


def score(docs, brands: BrandSet, use_homonyms: bool, use_ner: bool) -> dict:
    """Overlap precision and recall over all documents."""
    matcher = BrandMatcher(brands)
    tp_pred = n_pred = tp_gold = n_gold = 0
    for text, gold in docs:
        if use_homonyms:
            pred = [(f.hit.start, f.hit.end) for f in find_mentions(text, brands, matcher, use_ner=use_ner).accepted]
        else:
            pred = [(h.start, h.end) for h in matcher.find(text)]
        n_pred += len(pred)
        n_gold += len(gold)
        tp_pred += sum(1 for s, e in pred if any(gs < e and s < ge for gs, ge in gold))
        tp_gold += sum(1 for gs, ge in gold if any(gs < e and s < ge for s, e in pred))
    p = tp_pred / n_pred if n_pred else 0.0
    r = tp_gold / n_gold if n_gold else 0.0
    return {
        "found": n_pred,
        "gold": n_gold,
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """Print figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("devset", type=Path)
    ap.add_argument("--no-ner", action="store_true")
    args = ap.parse_args(argv)
    bases = sorted({p.with_suffix("") for p in args.devset.glob("*.objects")})
    if not bases:
        print(f"no *.objects files in {args.devset}", file=sys.stderr)
        return 2
    docs = [read_doc(b) for b in bases]
    brands = build_cards(docs)
    out = {
        "documents": len(docs),
        "cards": len(brands.brands),
        "matcher": score(docs, brands, False, False),
        "matcher+homonyms": score(docs, brands, True, not args.no_ner),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
