"""Unlabelled targets for distillation (a "transfer set"): named entities in training news the gold data leaves out.

Usage: python -m training.transfer_set RUSENTNE [--swaps N] [--out FILE.jsonl]
* RUSENTNE: RuSentNE-2023 `train_data.csv` or its folder. Sentences of the validation part are left out (the
  same split as `training.train_tone_student`, which also drops targets whose "group", the source sentence, is in
  its tuning part); natasha's NER marks the organisations, persons and places that have no gold row.
* --swaps N: also up to N copies of each one-word organisation or person target of the training part with the
  name replaced by another one of the same type from the training part, inflected to the same case and number
  by pymorphy3 («обвинения против [Младича]» → «… против [Караджича]»). These keep their gold label: tone
  towards a target does not depend on its name, and the model should not learn names' priors.
Each line is {"text", "start", "end", "source", "type", "group"} and, for swaps, "label" (0 negative, 1 neutral,
2 positive); the teacher labels every target during `training.train_tone_student --transfer FILE`.
factRuEval-2016's texts are not offered: some of their sentences are in RuSentNE's train split, so some may be in
RuSentNE's held-out test split, which no training step may read.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

from nlp import lemmas, ner
from training.train_tone import Item, rusentne_items

log = logging.getLogger("training.transfer_set")
MIN_CHARS, MAX_CHARS = 40, 600  # sentences outside this length say little or cost much


def _overlaps(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    """The span [a, b) overlaps one of `spans`."""
    return any(a < e and s < b for s, e in spans)


def rusentne_targets(items: list[Item]) -> list[dict]:
    """Entities without a gold row in the training part's sentences (items: `rusentne_items`)."""
    gold: dict[str, list[tuple[int, int]]] = {}
    held = {it.text for it in items if it.val}
    for it in items:
        gold.setdefault(it.text, []).append((it.start, it.end))
    texts = sorted(t for t in gold if t not in held and MIN_CHARS <= len(t) <= MAX_CHARS)
    out = []
    for text, ents in zip(texts, ner.entities_many(texts), strict=True):
        for e in ents:
            if not _overlaps(e.start, e.end, gold[text]):
                row = {"text": text, "start": e.start, "end": e.end, "source": "rusentne", "type": e.type}
                out.append(row | {"group": text})
    log.info("RuSentNE: %d training sentences, %d unlabelled entities", len(texts), len(out))
    return out


def _word_ok(word: str) -> bool:
    """A one-word Cyrillic name (an abbreviation or a capitalised word)."""
    return word.isalpha() and word[0].isupper() and all("а" <= c.lower() <= "я" or c in "ёЁ" for c in word)


def _inflect(lemma: str, like: str) -> str | None:
    """`lemma` in the case and number of the word `like`, capitalised; abbreviations stay as they are, and an
    abbreviation (no case to copy) is only replaced by another one."""
    if lemma.isupper():
        return lemma
    if like.isupper():
        return None
    morph = lemmas.morph()
    src = next((p for p in morph.parse(like) if p.tag.POS == "NOUN" and p.tag.case), None)
    dst = next((p for p in morph.parse(lemma) if p.tag.POS == "NOUN"), None)
    if src is None or dst is None:
        return None
    grams = {g for g in (src.tag.case, src.tag.number) if g}
    form = dst.inflect(grams)
    if form is None:
        return None
    word = form.word
    return word[:1].upper() + word[1:]


def swap_targets(items: list[Item], copies: int, seed: int = 11) -> list[dict]:
    """Gold rows of the training part (items: `rusentne_items`) with the target's name replaced by another name of
    the same type."""
    train = [it for it in items if not it.val and it.tag in ("ORGANIZATION", "PERSON")]
    morph = lemmas.morph()
    pools: dict[str, list[str]] = {}
    for it in train:
        word = it.text[it.start : it.end]
        if _word_ok(word):
            lemma = word if word.isupper() else morph.parse(word)[0].normal_form
            pools.setdefault(it.tag, []).append(lemma)
    pools = {tag: sorted(set(names)) for tag, names in pools.items()}
    rnd = random.Random(seed)
    out = []
    for it in train:
        word = it.text[it.start : it.end]
        if not _word_ok(word):
            continue
        for _ in range(copies):
            name = _inflect(rnd.choice(pools[it.tag]), word)
            if not name or name == word:
                continue
            text = it.text[: it.start] + name + it.text[it.end :]
            out.append(
                {
                    "text": text,
                    "start": it.start,
                    "end": it.start + len(name),
                    "source": "rusentne-swap",
                    "type": it.tag,
                    "label": it.label,
                    "group": it.group,
                }
            )
    log.info("swaps: %d copies (names: %s)", len(out), {k: len(v) for k, v in pools.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the transfer set."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--swaps", type=int, default=0, help="name-swapped copies of each one-word gold target")
    ap.add_argument("--out", type=Path, default=Path("transfer.jsonl"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    items = rusentne_items(args.data)
    rows = rusentne_targets(items)
    if args.swaps:
        rows += swap_targets(items, args.swaps)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    log.info("wrote %d targets to %s", len(rows), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
