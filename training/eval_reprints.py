"""Choose the reprint threshold on real texts: similarity of edited copies vs. different articles.

Usage: python -m training.eval_reprints TEXT_DIR   (any folder of .txt news texts, e.g. factRuEval-2016 devset)
Each text gets a simulated reprint (a sentence dropped, a line added, a few words changed); MinHash Jaccard of
word 3-shingles is printed for copy pairs and for the most similar different pair, with the recall/precision of
thresholds 0.3..0.8.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from nlp.reprints import ReprintDetector, normalise


def reprint(text: str, rnd: random.Random) -> str:
    """A typical reprint: drop a sentence, change a few words, add the outlet's line."""
    sents = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sents) > 3:
        del sents[rnd.randrange(len(sents))]
    words = " ".join(sents).split()
    for _ in range(max(1, len(words) // 40)):
        words[rnd.randrange(len(words))] = rnd.choice(["сообщает", "также", "однако", "ранее"])
    return "Как сообщает наш корреспондент, " + " ".join(words) + " Подписывайтесь на наш канал."


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(args[0]).glob("*.txt"))]
    texts = [t for t in texts if len(normalise(t)) >= 40]
    rnd = random.Random(3)
    det = ReprintDetector()
    mh = [det._minhash(normalise(t)) for t in texts]
    copies = [m.jaccard(det._minhash(normalise(reprint(t, rnd)))) for t, m in zip(texts, mh, strict=False)]
    others = [max(mh[i].jaccard(mh[j]) for j in range(len(mh)) if j != i) for i in range(len(mh))]
    table = {}
    for th in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        table[th] = {
            "copies_found": round(sum(c >= th for c in copies) / len(copies), 3),
            "false_pairs": sum(o >= th for o in others),
        }
    print(
        json.dumps(
            {
                "texts": len(texts),
                "copy_jaccard_min": round(min(copies), 3),
                "copy_jaccard_median": round(sorted(copies)[len(copies) // 2], 3),
                "different_max": round(max(others), 3),
                "thresholds": table,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
