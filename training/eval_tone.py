"""F1 of a tone artifact per data set on our validation part (or the transformer's tuning part).

Usage: python -m training.eval_tone MODEL RUSENTNE [--sentirueval DIR] [--mix W [W ...]] [--linear NPZ] [--part tune]
MODEL: a linear `.npz` artifact, or the folder of the transformer's files (e.g. nlp/models), mixed with the
shipped linear model as at run time (--mix: the student's weight, 1 = the student alone; default: its file's;
several values print one line each). --linear: mix with this linear artifact instead of the shipped one.
--part tune: score the transformer's tuning part (`training.train_tone.split_tune`) instead of the validation
part; with a linear model trained by `training.train_tone --exclude-tune` this chooses the mixing weight on rows
neither model was trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path

from nlp.tone import ToneModel, linear_model
from training.train_tone import evaluate, is_tune, rusentne_items, sentirueval_items, split_tune


def main(argv: list[str] | None = None) -> int:
    """Print F1_PN per data set (one JSON line per mixing weight)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--sentirueval", type=Path, default=None)
    ap.add_argument("--mix", type=float, nargs="+", default=[None])
    ap.add_argument("--mix-posts", type=float, default=None, help="post-style weight (default: the same as --mix)")
    ap.add_argument("--linear", type=Path, default=None, help="a linear .npz to mix with (default: the shipped one)")
    ap.add_argument("--part", choices=("validation", "tune"), default="validation")
    args = ap.parse_args(argv)
    items = rusentne_items(args.data)
    if args.sentirueval:
        items += sentirueval_items(args.sentirueval)
    if args.part == "tune":
        split_tune(items)
        rows = [it for it in items if is_tune(it) and it.start >= 0]  # as the student's tuning scores
    else:
        rows = [it for it in items if it.val]
    if not args.model.is_dir():
        print(json.dumps(evaluate(ToneModel.load(args.model), rows), ensure_ascii=False))
        return 0
    from nlp.tone_student import StudentTone

    linear = ToneModel.load(args.linear) if args.linear else linear_model()
    linear.parts = lru_cache(maxsize=None)(linear.parts)  # type: ignore[method-assign]  # same rows, every weight
    for mix in args.mix:
        weights = None if mix is None else {"news": mix, "posts": mix if args.mix_posts is None else args.mix_posts}
        model = StudentTone.load(args.model, linear=linear, mix=weights)
        scores = evaluate(model, rows)  # type: ignore[arg-type]
        sets = [scores[s]["f1_pn"] for s in ("rusentne", "banks", "telecom") if s in scores]
        mean = sum(sets) / len(sets)  # without --sentirueval: the news figure alone
        head = {"mix": {"news": model.mix_news, "posts": model.mix_posts}, "mean": round(mean, 2)}
        print(json.dumps(head | scores, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
