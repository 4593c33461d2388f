"""`analyze --reprint-state FILE`: the state is JSON data; a pickle (which could run code) is never loaded."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from nlp.reprints import ReprintDetector

from .test_context_reprints import BASE, art

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this runs `os.system` (creates a marker file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_state_is_json_and_round_trips(tmp_path):
    det = ReprintDetector()
    orig = art(1, BASE, 5)
    det.assign([orig, art(2, BASE + " Источник: агентство.", 6)])
    for name in ("state.json", "state.json.gz"):
        path = tmp_path / name
        det.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        again = ReprintDetector.load(path)
        assert again.add(art(3, "Ещё одна перепечатка: " + BASE, 7))[0] == orig.cluster
        assert again.to_dict()["clusters"] == det.to_dict()["clusters"]
    assert json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))["format"] == "rezonans-reprints/1"


def test_a_pickle_state_file_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    state = tmp_path / "reprints.state"
    state.write_bytes(pickle.dumps(_Payload(marker)))
    line = json.dumps({"url": "https://a.example.ru/1", "source": "РБК", "title": "Тест", "text": BASE})
    result = CliRunner().invoke(
        app,
        ["analyze", "--brands", str(ROOT / "examples" / "brands.yaml"), "--reprint-state", str(state), "--no-ner"],
        input=line + "\n",
    )
    assert result.exit_code == 0, result.output
    assert not marker.exists()  # the pickle was never unpickled
    assert json.loads(state.read_text(encoding="utf-8"))["format"] == "rezonans-reprints/1"  # replaced by JSON
