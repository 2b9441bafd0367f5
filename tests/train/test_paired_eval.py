"""train/paired_eval.py: the paired check of two adapters, case by case, on files written here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "train" / "paired_eval.py"
spec = importlib.util.spec_from_file_location("paired_eval", SCRIPT)
assert spec and spec.loader
paired_eval = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paired_eval)


def test_mcnemar_p_is_the_exact_two_sided_binomial_tail():
    assert paired_eval.mcnemar_p(0, 0) == 1.0 and paired_eval.mcnemar_p(5, 5) == 1.0
    assert paired_eval.mcnemar_p(21, 8) == pytest.approx(0.0241, abs=1e-4)  # the seventeenth's pairs
    assert paired_eval.mcnemar_p(8, 21) == paired_eval.mcnemar_p(21, 8)
    assert paired_eval.mcnemar_p(6, 0) == pytest.approx(2 / 64)


def test_the_no_tool_questions_come_from_the_shipped_record():
    record = json.loads((SCRIPT.parents[1] / "models" / "thau-smollm2-135m-tools.json").read_text())
    cases = paired_eval.no_tool_cases(record)
    assert len(cases) == 48 and len({c["id"] for c in cases}) == 48
    assert all(c["expected_calls"] == [] and c["messages"][0]["role"] == "user" for c in cases)
    assert {c["lang"] for c in cases} == {"en", "es"}


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_compare_counts_gains_and_losses_case_by_case(tmp_path, monkeypatch):
    """Two adapters with the same total (2 of 3 tool cases) still differ case by case."""
    call = {"name": "read_file", "arguments": {"path": "notes.txt"}}
    cases = [
        {"id": f"c{i}", "messages": [{"role": "user", "content": "read notes.txt"}], "expected_calls": [call]}
        for i in range(3)
    ]
    no_tool = [{"id": "n0", "messages": [{"role": "user", "content": "hi"}], "expected_calls": []}]
    _jsonl(tmp_path / "cases.jsonl", cases)
    _jsonl(tmp_path / "notool48.jsonl", no_tool)
    monkeypatch.setattr(
        paired_eval, "files", lambda sets: {"eval": sets / "cases.jsonl", "notool48": sets / "notool48.jsonl"}
    )
    monkeypatch.setattr(paired_eval, "PREDICTIONS", tmp_path / "ev")
    wrong = {"name": "read_file", "arguments": {"path": "other.txt"}}
    _jsonl(
        tmp_path / "ev/a/eval.jsonl",
        [{"id": "c0", "calls": [call]}, {"id": "c1", "calls": [call]}, {"id": "c2", "calls": [wrong]}],
    )
    _jsonl(
        tmp_path / "ev/b/eval.jsonl",
        [{"id": "c0", "calls": [wrong]}, {"id": "c1", "calls": [call]}, {"id": "c2", "calls": [call]}],
    )
    _jsonl(tmp_path / "ev/a/notool48.jsonl", [{"id": "n0", "calls": [call]}])
    _jsonl(tmp_path / "ev/b/notool48.jsonl", [{"id": "n0", "calls": []}])
    report = paired_eval.compare(["a", "b"], tmp_path)
    assert report["right"] == {"a": {"eval": 2, "notool48": 0}, "b": {"eval": 2, "notool48": 1}}
    pairs = report["paired"]["b vs a"]
    assert pairs["tool_cases"] == {"cases": 3, "gained": 1, "lost": 1, "exact_mcnemar_p": 1.0}
    assert pairs["with_no_tool"]["cases"] == 4 and pairs["with_no_tool"]["gained"] == 2
