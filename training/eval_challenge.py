"""Score a tone model on the PR challenge set (nlp/data/tone_challenge.tsv, written and labelled for Rezonans).

Usage: python -m training.eval_challenge [--model MODEL.npz | --student DIR] [--errors]
(--model: a linear artifact; --student: the folder of the transformer's files, e.g. nlp/models)
A line is `label<TAB>style<TAB>situation<TAB>sentence` with the target in [[...]] (further [[...]] marks are
dropped). It is a development set: held-out figures are measured elsewhere.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nlp.data
from nlp.tone import MODEL_PATH, ToneModel, linear_model

CHALLENGE = Path(nlp.data.__file__).parent / "tone_challenge.tsv"
_MARK = re.compile(r"\[\[(.+?)\]\]")
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled sentence of the challenge set."""

    label: str
    style: str
    situation: str
    sentence: str
    start: int
    end: int


def read_challenge(path: Path = CHALLENGE) -> list[Case]:
    """All cases of the challenge set."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, style, situation, marked = line.split("\t")
        m = _MARK.search(marked)
        if not m or label not in LABELS:
            raise ValueError(f"{path.name}:{n}: bad line: {line}")
        before = marked[: m.start()]
        after = _MARK.sub(r"\1", marked[m.end() :])
        out.append(
            Case(label, style, situation, before + m.group(1) + after, len(before), len(before) + len(m.group(1)))
        )
    return out


def f1(gold: Sequence[str], pred: Sequence[str], label: str) -> float:
    """F1 of one class."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if p == label != g)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label != p)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score(model: Any, cases: list[Case]) -> tuple[dict[str, Any], list[tuple[Case, str, str]]]:
    """Accuracy, F1_PN, macro-F1 overall, by style and by situation; and the misjudged cases with reasons."""
    preds = model.predict_batch([(c.sentence, c.start, c.end) for c in cases])
    labels: list[str] = [p.label for p in preds]

    def summary(idx: list[int]) -> dict:
        g = [cases[i].label for i in idx]
        p = [labels[i] for i in idx]
        return {
            "n": len(idx),
            "accuracy": round(100 * sum(a == b for a, b in zip(g, p, strict=True)) / max(1, len(idx)), 1),
            "f1_pn": round(100 * (f1(g, p, "negative") + f1(g, p, "positive")) / 2, 1),
            "f1_macro": round(100 * sum([f1(g, p, lb) for lb in LABELS]) / 3, 1),
        }

    by_style: dict[str, list[int]] = defaultdict(list)
    by_sit: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_style[c.style].append(i)
        by_sit[c.situation].append(i)
    report = {
        "all": summary(list(range(len(cases)))),
        "style": {k: summary(v) for k, v in sorted(by_style.items())},
        "situation": {k: summary(v)["accuracy"] for k, v in sorted(by_sit.items())},
    }
    errors: list[tuple[Case, str, str]] = [
        (c, p.label, p.reason) for c, p in zip(cases, preds, strict=True) if c.label != p.label
    ]
    return report, errors


def main(argv: list[str] | None = None) -> int:
    """Print the challenge-set scores (and the errors)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--student", type=Path, default=None, help="folder with the transformer's files")
    ap.add_argument("--mix", type=float, default=None, help="the student's weight (1: alone; default: its file's)")
    ap.add_argument("--file", type=Path, default=CHALLENGE)
    ap.add_argument("--errors", action="store_true")
    args = ap.parse_args(argv)
    if args.student:
        from nlp.tone_student import StudentTone

        model: Any = StudentTone.load(args.student, linear=linear_model(), mix=args.mix)
    else:
        model = ToneModel.load(args.model)
    report, errors = score(model, read_challenge(args.file))
    if args.errors:
        for c, label, reason in errors:
            print(f"{c.label}->{label}\t{c.situation}\t{c.sentence}\t[{c.sentence[c.start : c.end]}]\t{reason}")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
