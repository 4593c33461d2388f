"""Read RuSentiFrames (MIT, github.com/nicolay-r/RuSentiFrames, `collection.json`) into the tone model's frame table."""

from __future__ import annotations

import json
from pathlib import Path

from nlp.frames import FrameTable
from nlp.lemmas import tokenize, word_info


def _key(variant: str) -> str | None:
    """Lemma key of a variant: one word, or the first and last word of a short phrase («подать иск»)."""
    words = [t.text.lower() for t in tokenize(variant) if t.text.isalpha()]
    if not words or len(words) > 3:
        return None
    lemmas = [word_info(w).lemma for w in words]
    return lemmas[0] if len(lemmas) == 1 else f"{lemmas[0]} {lemmas[-1]}"


def read_frames(path: Path) -> FrameTable:
    """Frame entries per lemma key; the first variant listed wins when two frames share a key."""
    if path.is_dir():
        path = path / "collection.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    table: FrameTable = {}
    for frame_id, frame in data.items():
        fr = frame.get("frames", {})
        entries = [f"ID:{frame_id}"]
        for who, sign, conf in fr.get("effect", []):
            entries.append(f"E:{who}:{sign}:{conf}")
        for who, sign, conf in fr.get("state", []):
            entries.append(f"S:{who}:{sign}:{conf}")
        for src, dst, sign, conf in fr.get("polarity", []):
            entries.append(f"P:{src}:{dst}:{sign}:{conf}")
        for variant in frame.get("variants", []):
            key = _key(variant)
            if key and key not in table:
                table[key] = entries
    return table
