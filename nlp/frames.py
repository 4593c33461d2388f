"""Who does what to whom: RuSentiFrames predicate frames applied to the target's role in a dependency parse.

RuSentiFrames (MIT; Rusnachenko, Loukachevitch: github.com/nicolay-r/RuSentiFrames) lists predicates
(«оштрафовать», «уволить», «пожаловаться», «выиграть»…) with the polarity between their arguments (A0 the agent,
A1 the theme, the author), the effect on each and their state. The tone model gets, for the frame whose argument
the target is, features such as «the effect on the target is negative» or «the author is negative towards the
target», with negation («не оштрафовали») flipping the signs. The frame table ships inside the tone artifact
(built by training/frames_lexicon.py); this module only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nlp.lemmas import word_info

# Frame entries in the artifact: "E:a1:-:1.0" (effect on A1 negative), "S:a0:pos:0.7" (state of A0 positive),
# "P:author:a0:neg:0.7" (polarity of the author towards A0 negative).
FrameTable = dict[str, list[str]]  # lemma key ("оштрафовать", "подать иск") -> entries (first: "ID:frame id")

_ROLE_OF_REL = {
    "nsubj": "a0",
    "nsubj:pass": "a1",
    "obj": "a1",
    "iobj": "a1",
    "obl": "a1",
    "obl:agent": "a0",
    "nmod": "a1",
    "xcomp": "a1",
}
_NEG = {"не", "нет", "ни"}
_THEME_RELS = {"obj", "nsubj:pass", "iobj"}
# an agent acting against a wrongdoer («уволил мошенников», «поймал хакеров») is not in trouble itself
_WRONGDOERS = {"мошенник", "хакер", "вор", "преступник", "нарушитель", "взяточник", "коррупционер", "грабитель",
               "злоумышленник", "спамер", "аферист", "похититель", "коллектор", "спам", "мошенничество", "хищение"}  # fmt: skip
_SIGN = {"+": 1.0, "-": -1.0, "pos": 1.0, "neg": -1.0}


@dataclass(slots=True)
class FrameHit:
    """A frame found in the sentence and the target's role in it."""

    key: str
    role: str  # a0, a1, own_a0, own_a1 (the target owns the argument: «клиенты Сбера»), or "" (no role)
    negated: bool
    entries: list[str]
    themes: list[str] = field(
        default_factory=list
    )  # lemmas of the predicate's objects («мошенник» in «уволил мошенников»)


def _lemma(text: str) -> str:
    return word_info(text.lower()).lemma


def find_frames(toks: tuple, target_ids: set[str], table: FrameTable) -> list[FrameHit]:
    """Frames in a parsed sentence (natasha tokens) and the role the target plays in each."""
    if not toks or not table:
        return []
    lemmas = [_lemma(t.text) for t in toks]
    index = {t.id: i for i, t in enumerate(toks)}
    # frame occurrences: one token («оштрафовать») or a short phrase («подать иск»)
    occ: dict[int, tuple[str, set[int]]] = {}
    for i, lem in enumerate(lemmas):
        if lem in table:
            occ.setdefault(i, (lem, {i}))
        for j in range(i + 1, min(len(lemmas), i + 4)):
            key = f"{lem} {lemmas[j]}"
            if key in table:
                occ[i] = (key, {i, j})
    if not occ:
        return []
    member = {j: i for i, (_, toks_of) in occ.items() for j in toks_of}
    head = next((t for t in toks if t.id in target_ids and t.head_id not in target_ids), None)
    roles: dict[int, str] = {}
    target_pos = {index[t.id] for t in toks if t.id in target_ids}
    if head is not None:
        node, rel, owner = head, head.rel, False
        for _ in range(3):
            parent_i = index.get(node.head_id)
            if parent_i is None:
                break
            if parent_i in member and member[parent_i] not in target_pos:
                role = _ROLE_OF_REL.get(rel.split(":")[0] if rel not in _ROLE_OF_REL else rel, "")
                if role:
                    roles[member[parent_i]] = ("own_" if owner else "") + role
                break
            parent = toks[parent_i]
            if rel in {"conj", "appos", "flat", "flat:name"}:
                node, rel = parent, parent.rel  # «ВТБ и Сбербанк подали»: the first conjunct's role
            elif rel == "nmod" and not owner:
                node, rel, owner = parent, parent.rel, True  # «клиенты Сбера пожаловались»
            else:
                break
    out = []
    for i, (key, toks_of) in occ.items():
        negated = any(lemmas[k] in _NEG and index.get(toks[k].head_id) in toks_of for k in range(len(toks)))
        themes = [lemmas[k] for k in range(len(toks)) if index.get(toks[k].head_id) == i and toks[k].rel in _THEME_RELS]
        out.append(FrameHit(key, roles.get(i, ""), negated, table[key], themes))
    return out


def against_wrongdoer(h: FrameHit, lexicon: dict[str, float] | None = None) -> bool:
    """The target is the agent of a frame that harms its theme, and the theme is a wrongdoer («уволил мошенников»)."""
    if h.role != "a0" or h.negated or not any(e.startswith(("E:a1:-", "E:a2:-")) for e in h.entries):
        return False
    lexicon = lexicon or {}
    return any(t in _WRONGDOERS or lexicon.get(t, 0.0) <= -0.5 for t in h.themes)


def frame_features(hits: list[FrameHit], lexicon: dict[str, float] | None = None) -> dict[str, float]:
    """Sparse features of the frames around a target: effect, state and polarity concerning its role."""
    feats: dict[str, float] = {}

    def add(name: str, value: float) -> None:
        feats[name] = feats.get(name, 0.0) + value

    for h in hits:
        if against_wrongdoer(h, lexicon):
            feats["FBAD:a0"] = 1.0
        flip = -1.0 if h.negated else 1.0
        base = h.role.removeprefix("own_")
        for e in h.entries:
            parts = e.split(":")
            kind = parts[0]
            if kind == "ID":
                if h.role:
                    add(f"FID:{h.role}:{parts[1]}" + (":NEG" if h.negated else ""), 1.0)
                continue
            conf = float(parts[-1])
            if kind in {"E", "S"}:
                who, sign = parts[1], _SIGN.get(parts[2], 0.0) * flip
                if not sign:
                    continue
                label = "+" if sign > 0 else "-"
                if h.role and who == base:
                    add(f"F{kind}:{h.role}:{label}", conf)
                    add(f"F{kind}:target", sign * conf)
                elif not h.role:
                    add(f"F{kind}:any:{label}", 0.5 * conf)
            elif kind == "P":
                src, dst, sign = parts[1], parts[2], _SIGN.get(parts[3], 0.0) * flip
                if not sign or not h.role:
                    continue
                label = "+" if sign > 0 else "-"
                if dst == base:
                    add(f"FPto:{h.role}:{src}:{label}", conf)
                    if src == "author":
                        add("FPto:target", sign * conf)
                elif src == base:
                    add(f"FPfrom:{h.role}:{label}", conf)
    return feats


def frame_reason(hits: list[FrameHit]) -> str:
    """A short human-readable note on the frame that concerns the target («оштрафовать: effect on A1 −»)."""
    for h in hits:
        if not h.role:
            continue
        base = h.role.removeprefix("own_")
        for e in h.entries:
            parts = e.split(":")
            if parts[0] == "E" and parts[1] == base:
                sign = _SIGN.get(parts[2], 0.0) * (-1 if h.negated else 1)
                return f"{'не ' if h.negated else ''}{h.key} ({'+' if sign > 0 else '−'} for {h.role.upper()})"
    return ""
