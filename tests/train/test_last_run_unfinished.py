"""A run whose trainer said `done` but that has no adapter.gguf is not finished: a cancel that
landed in its last training step skipped the scoring after training, which exports the adapter,
and after a restart the screen said "finished", offered no R, and the chat could not load it
(UX review, T1)."""

from __future__ import annotations

import json
from pathlib import Path

from thau_tui.train.runs import last_run


def _trained_run(runs: Path) -> Path:
    """A run folder as the trainer leaves it after its last step: a checkpoint, its recipe,
    metrics.jsonl ending in `done`, and summary.json; no adapter.gguf (nothing exported it)."""
    run = runs / "tiny-smoke-20261207-142838"
    (run / "checkpoints" / "step-2").mkdir(parents=True)
    (run / "checkpoints" / "step-2" / "trainer_state.pt").write_bytes(b"")
    (run / "recipe.yaml").write_text("name: tiny-smoke\n", encoding="utf-8")
    events = [{"event": "start", "total_steps": 2}, {"event": "step", "step": 1}, {"event": "step", "step": 2}]
    events.append({"event": "done", "adapter": str(run / "adapter")})
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    (run / "summary.json").write_text(json.dumps({"steps": 2, "cancelled": False}), encoding="utf-8")
    return run


def test_a_trained_run_without_its_gguf_is_resumable_not_finished(tmp_path):
    run = _trained_run(tmp_path / "runs")
    found = last_run(tmp_path / "runs")
    assert found is not None
    folder, how, resumable = found
    assert folder == run
    assert how != "finished" and "not exported" in how, how
    assert resumable  # R offers it: `--resume` exports and scores it


def test_a_run_with_its_gguf_is_finished(tmp_path):
    run = _trained_run(tmp_path / "runs")
    (run / "adapter.gguf").write_bytes(b"GGUF")
    assert last_run(tmp_path / "runs") == (run, "finished", False)


def test_a_gguf_named_in_the_summary_counts_too(tmp_path):
    """`thau export RUN --out elsewhere` records where it wrote the GGUF (summary's adapter_gguf)."""
    run = _trained_run(tmp_path / "runs")
    elsewhere = tmp_path / "exported.gguf"
    elsewhere.write_bytes(b"GGUF")
    (run / "summary.json").write_text(json.dumps({"steps": 2, "adapter_gguf": str(elsewhere)}), encoding="utf-8")
    assert last_run(tmp_path / "runs") == (run, "finished", False)
