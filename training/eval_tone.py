"""Validation F1 of a tone artifact per data set (the same validation parts as training.train_tone).

Usage: python -m training.eval_tone MODEL RUSENTNE [--sentirueval DIR]
MODEL: a linear `.npz` artifact, or the folder of the transformer's files (e.g. nlp/models), mixed with the
shipped linear model as at run time (--mix: the student's weight, 1 = the student alone; default: its file's).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nlp.tone import ToneModel, linear_model
from training.train_tone import evaluate, rusentne_items, sentirueval_items


def main(argv: list[str] | None = None) -> int:
    """Print validation F1_PN per data set."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--sentirueval", type=Path, default=None)
    ap.add_argument("--mix", type=float, default=None)
    args = ap.parse_args(argv)
    items = rusentne_items(args.data)
    if args.sentirueval:
        items += sentirueval_items(args.sentirueval)
    if args.model.is_dir():
        from nlp.tone_student import StudentTone

        model = StudentTone.load(args.model, linear=linear_model(), mix=args.mix)
        print(json.dumps(evaluate(model, [it for it in items if it.val]), ensure_ascii=False))  # type: ignore[arg-type]
        return 0
    print(json.dumps(evaluate(ToneModel.load(args.model), [it for it in items if it.val]), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
