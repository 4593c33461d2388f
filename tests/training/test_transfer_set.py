"""The distillation transfer set: name swaps keep grammar and label; held-out sentences never leak in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.train_tone import rusentne_items
from training.train_tone_student import NO_LABEL, transfer_items
from training.transfer_set import _inflect, swap_targets

pytestmark = pytest.mark.unit

HEADER = "sentence\tentity\tentity_tag\tentity_pos_start_rel\tentity_pos_end_rel\tlabel\n"


def row(sentence: str, entity: str, tag: str, label: str) -> str:
    """One RuSentNE-format line with the entity's offsets."""
    start = sentence.index(entity)
    return f"{sentence}\t{entity}\t{tag}\t{start}\t{start + len(entity)}\t{label}\n"


@pytest.mark.parametrize(
    ("lemma", "like", "expected"),
    [
        ("караджич", "Младича", "Караджича"),  # genitive singular
        ("газпром", "Сбербанком", "Газпромом"),  # instrumental
        ("ВТБ", "Сбербанку", "ВТБ"),  # abbreviations do not decline
        ("газпром", "МТБЮ", None),  # an abbreviation gives no case to copy: only another one replaces it
    ],
)
def test_inflect_copies_case_and_number(lemma: str, like: str, expected: str | None) -> None:
    """The replacement name takes the original's case and number and its capitalisation."""
    assert _inflect(lemma, like) == expected


def test_swaps_keep_label_and_span(tmp_path: Path) -> None:
    """Each swap replaces the target's name inside its sentence, the span covers the new name, the label stays."""
    lines = [
        row("Суд оштрафовал Сбербанк на миллион рублей.", "Сбербанк", "ORGANIZATION", "-1"),
        row("Газпром получил премию за открытость.", "Газпром", "ORGANIZATION", "1"),
        row("Клиенты пожаловались на Мегафон в соцсетях.", "Мегафон", "ORGANIZATION", "-1"),
        row("Иванов встретился с журналистами.", "Иванов", "PERSON", "0"),
        row("Петрова наградили орденом.", "Петрова", "PERSON", "1"),
    ]
    path = tmp_path / "train_data.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    swaps = swap_targets(rusentne_items(path), copies=3)
    assert swaps, "no swap made"
    for s in swaps:
        name = s["text"][s["start"] : s["end"]]
        original = next(ln.split("\t") for ln in lines if ln.split("\t")[0] == s["group"])
        assert name != original[1]
        assert s["text"] == s["group"].replace(original[1], name, 1)
        assert s["label"] == {"-1": 0, "0": 1, "1": 2}[original[5].strip()]
        assert s["type"] == original[2]


def test_transfer_items_drop_held_sentences(tmp_path: Path) -> None:
    """Targets whose text or source sentence is held out are dropped; targets without a gold label say so."""
    rows = [
        {"text": "A [x] b", "start": 3, "end": 4, "source": "rusentne", "type": "ORG", "group": "A x b"},
        {"text": "held text", "start": 0, "end": 4, "source": "rusentne", "type": "ORG", "group": "held text"},
        {
            "text": "swapped",
            "start": 0,
            "end": 3,
            "source": "rusentne-swap",
            "type": "PER",
            "group": "held",
            "label": 2,
        },
        {"text": "kept swap", "start": 0, "end": 4, "source": "rusentne-swap", "type": "PER", "group": "g", "label": 0},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    items = transfer_items(path, {"held text", "held"})
    assert [it.text for it in items] == ["A [x] b", "kept swap"]
    assert [it.label for it in items] == [NO_LABEL, 0]
