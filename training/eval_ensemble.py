"""Would averaging trained tone networks help? Tuning mean of every subset of them, validation of the chosen ones.

Usage: python -m training.eval_ensemble RUSENTNE --sentirueval DIR RUN[:LAYERS] ... [--show NAME+NAME ...]
RUN: a folder with a `tone_student.pt` written by `training.train_tone_student` (LAYERS: its --layers, default 8).
Each network's fp32 log-probabilities on the tuning and validation parts are averaged over a subset; the offsets
are chosen on the tuning part as in training, and every subset's tuning mean F1_PN is printed (best first). The
validation part is scored only for the subsets named by --show (chosen beforehand, e.g. all of them).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from pathlib import Path

import numpy as np

from nlp import tone_window as tw
from training import e5_weights
from training.eval_challenge import read_challenge
from training.train_tone import Item, is_tune, rusentne_items, sentirueval_items, split_tune
from training.train_tone_student import best_offsets, build_tokenizer, log_softmax, make_model, predict_logits, scores

log = logging.getLogger("training.eval_ensemble")
STYLES = (("news", {"rusentne"}), ("posts", {"banks", "telecom"}))


def offsets(logp: np.ndarray, rows: list[Item]) -> dict[str, np.ndarray]:
    """Per-style offsets maximising F1_PN on these rows (the tuning part)."""
    y = np.array([it.label for it in rows])
    out = {}
    for style, sources in STYLES:
        idx = [i for i, it in enumerate(rows) if it.source in sources]
        out[style] = best_offsets(logp[idx], y[idx])[0]
    return out


def mean_f1(sc: dict[str, dict[str, float]]) -> float:
    """Mean F1_PN over the data sets present."""
    return float(np.mean([v["f1_pn"] for v in sc.values()]))


def main(argv: list[str] | None = None) -> int:
    """Print each subset's tuning figures, then the validation figures of the --show subsets."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--sentirueval", type=Path, required=True)
    ap.add_argument("runs", nargs="+", help="RUN[:LAYERS]")
    ap.add_argument("--show", nargs="*", default=[], help="subsets to score on the validation part (a+b+c)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    items = rusentne_items(args.data) + sentirueval_items(args.sentirueval)
    split_tune(items)
    items = [it for it in items if it.start >= 0 or it.val]
    train = [it for it in items if not it.val and not is_tune(it)]
    tune = [it for it in items if is_tune(it)]
    val = [it for it in items if it.val]
    w = e5_weights.read()
    texts = sorted({it.text for it in train}) + [c.sentence for c in read_challenge()]
    tok, old = build_tokenizer(w, texts, 20000)  # the vocabulary every run was trained with

    def windows(rows: list[Item]) -> list[tw.Window]:
        return [tw.window(tok, it.text, max(it.start, 0), max(it.end, 0)) for it in rows]

    w_tune, w_val = windows(tune), windows(val)
    lp_tune: dict[str, np.ndarray] = {}
    lp_val: dict[str, np.ndarray] = {}
    for run in args.runs:
        path, _, layers = run.partition(":")
        name = Path(path).name
        model = make_model(w, old, int(layers or 8))
        model.load_state_dict(torch.load(Path(path) / "tone_student.pt"))
        lp_tune[name] = log_softmax(predict_logits(model, w_tune))
        lp_val[name] = log_softmax(predict_logits(model, w_val))
        log.info("%s: logits done", name)
    rows = []
    for k in range(1, len(lp_tune) + 1):
        for combo in itertools.combinations(lp_tune, k):
            lp = np.mean([lp_tune[n] for n in combo], 0)
            sc = scores(lp, tune, offsets(lp, tune))
            rows.append((mean_f1(sc), "+".join(combo), sc))
    for mean, name, sc in sorted(rows, key=lambda r: -r[0]):
        print(f"{name}\ttune mean {mean:.1f}\t" + " ".join(f"{s} {v['f1_pn']}" for s, v in sc.items()))
    for combo_name in args.show:
        combo = combo_name.split("+")
        lp = np.mean([lp_tune[n] for n in combo], 0)
        sc = scores(np.mean([lp_val[n] for n in combo], 0), val, offsets(lp, tune))
        print(f"{combo_name}\tvalidation\t" + " ".join(f"{s} {v['f1_pn']}" for s, v in sc.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
