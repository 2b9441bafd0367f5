"""train/hard_examples.py: fresh training-side examples, scored, and the missed ones kept."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "train" / "hard_examples.py"
spec = importlib.util.spec_from_file_location("hard_examples", SCRIPT)
assert spec and spec.loader
hard_examples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hard_examples)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_select_keeps_every_missed_example_and_a_share_of_the_right_ones(tmp_path):
    call = {"name": "read_file", "arguments": {"path": "notes.txt"}}
    examples, cases, predictions = [], [], []
    for k in range(10):
        kind = "named_command" if k == 9 else "call"
        examples.append({"id": f"train-{k}", "kind": kind, "messages": [{"role": "user", "content": f"q{k}"}]})
        cases.append({"id": f"train-{k}", "kind": kind, "messages": [], "expected_calls": [call]})
        wrong = k in (0, 1, 9)  # two missed; the named command is not scored at all
        predictions.append({"id": f"train-{k}", "calls": [] if wrong else [call]})
    _jsonl(tmp_path / "examples.jsonl", examples)
    _jsonl(tmp_path / "cases-0.jsonl", cases)
    _jsonl(tmp_path / "predictions-0.jsonl", predictions)

    summary = hard_examples.select(tmp_path, replay=1.5, repeat=2, seed=0)
    assert (summary["scored"], summary["missed"], summary["replayed"]) == (9, 2, 3)
    rows = [json.loads(line) for line in (tmp_path / "data" / "train.jsonl").read_text().splitlines()]
    ids = [r["id"] for r in rows]
    assert ids.count("train-0") == 2 and ids.count("train-1") == 2  # each miss twice
    assert len(ids) == 7 and "train-9" not in ids
    replayed = set(ids) - {"train-0", "train-1"}
    assert len(replayed) == 3 and all(ids.count(i) == 1 for i in replayed)
    assert (tmp_path / "data" / "eval.jsonl").read_text() == (SCRIPT.parents[1] / "train/data/eval.jsonl").read_text()
