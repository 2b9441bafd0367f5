"""`thau train --no-score` exports the GGUF adapter all the same, `--resume` of a run the
trainer finished says so and runs only what it lacks, and a cancel that leaves no
adapter.gguf offers `thau export`, not a `thau eval` line that cannot work (docs review,
2026-12-07 evening)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tiny_training import tiny_recipe

from thau_tui.train.cli import main
from thau_tui.train.runs import command_step, last_run, run_commands


def test_no_score_exports_the_adapter_and_resuming_the_trained_run_trains_nothing(tmp_path, capsys, monkeypatch):
    import thau_tui.train.cli as cli

    recipe = tiny_recipe(tmp_path, eval_every=0)
    runs = tmp_path / "train" / "runs"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_config_train_settings", lambda _f=None: (str(recipe), str(runs)))

    # Before: "Trained." with no adapter.gguf nor Modelfile; the export came only with scoring after.
    assert main(["train", "--recipe", str(recipe), "--no-score"]) == 0
    out = capsys.readouterr().out
    (run,) = runs.glob("tiny-*")
    assert (run / "adapter.gguf").is_file() and (run / "Modelfile").is_file(), out
    assert f"GGUF adapter for llama.cpp: {run / 'adapter.gguf'}" in " ".join(out.split())
    assert not (run / "eval-before.jsonl").exists() and not (run / "eval-after.jsonl").exists()  # still no scoring
    assert last_run(runs) == (run, "finished", False)  # the training screen's words: before "trained, but not exported"

    # Resumed, the finished run was trained again from nothing: the model loaded, the bar
    # stood at "training 0/2 loss 0.0000 · 0 tok/s", and it said "Trained.".
    metrics = (run / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(run), "--no-score"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"{run} is already trained (2 of 2 steps), exported to {run / 'adapter.gguf'}: nothing left to do." in out
    assert "training 0/2" not in out and "tok/s" not in out and "Trained." not in out
    assert (run / "metrics.jsonl").read_text() == metrics  # no trainer ran

    # A run trained before the fix (no GGUF): the resume exports it, and says that is what it does.
    (run / "adapter.gguf").unlink()
    (run / "Modelfile").unlink()
    assert main(["train", "--resume", str(run), "--no-score"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "is already trained (2 of 2 steps), but not exported to GGUF: exporting the adapter to GGUF." in out
    assert "tok/s" not in out and (run / "adapter.gguf").is_file() and (run / "Modelfile").is_file()
    assert (run / "metrics.jsonl").read_text() == metrics


def test_without_scoring_the_run_ends_with_an_export_step(tmp_path):
    """Scoring after training exported the adapter; with scoring off nothing did."""
    from thau_tui.train.runs import STEP_EXPORT

    plain = run_commands("r.yaml", tmp_path, score=False)
    assert [command_step(c) for c in plain] == ["training", STEP_EXPORT]
    assert plain[1][2:] == ["thau_tui.train.runs", "export", "--run-dir", str(tmp_path.resolve())]
    scored = run_commands("r.yaml", tmp_path, limit=2)  # scoring after exports first: no step of its own
    assert [command_step(c) for c in scored] == ["scoring before training", "training", "scoring after training"]
    # A finished run lacks only the export and the scores after; with both there, nothing.
    assert [command_step(c) for c in run_commands("r.yaml", tmp_path, trained=True, limit=2)] == [
        STEP_EXPORT,
        "scoring after training",
    ]
    (tmp_path / "adapter.gguf").write_bytes(b"GGUF")
    (tmp_path / "summary.json").write_text(json.dumps({"after": {"overall": 0.5}}))
    assert run_commands("r.yaml", tmp_path, trained=True, limit=2) == []


# `thau train` with its run's children scripted (test_train_cli_signals.py's way): the
# trainer gets the cancel in its last step, finishes it and reports `done`, leaving the
# adapter/ folder but no adapter.gguf, as the review's Ctrl-C after the first checkpoint did.
DRIVER = """
import signal, sys
from pathlib import Path
import thau_tui.train.cli as cli
child, runs, recipe = sys.argv[1:4]
def scripted(recipe, run_dir, **kwargs):
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    return [[sys.executable, child, str(run_dir), recipe]]
cli.run_commands = scripted
cli._config_train_settings = lambda _f=None: (recipe, runs)
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if pytest ignores SIGINT
sys.exit(cli.main(["train", "--recipe", recipe, "--no-score"]))
"""
CHILD = """
import json, pathlib, signal, sys, time
run, recipe = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def say(**event):
    print(json.dumps(event), flush=True)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
(run / "recipe.yaml").write_text(recipe.read_text())
(run / "adapter").mkdir()
say(event="start", run_dir=str(run), total_steps=2, device="cpu", examples=4)
say(event="step", step=1, total_steps=2, epoch=0.5, loss=1.0, tokens_per_s=50.0, eta_s=1)
say(event="log", message="READY")
deadline = time.monotonic() + 60  # never left running by a failed test
while not stop and time.monotonic() < deadline:
    time.sleep(0.05)
say(event="step", step=2, total_steps=2, epoch=1.0, loss=0.5, tokens_per_s=50.0, eta_s=0)
say(event="done", run_dir=str(run), adapter=str(run / "adapter"), summary={})
"""


def test_a_cancel_that_leaves_no_gguf_offers_thau_export_not_thau_eval(tmp_path):
    """It said "Score it later with: thau eval … --adapter RUN", which exits 2: "RUN holds no
    adapter.gguf … run `thau export RUN` first"."""
    (tmp_path / "child.py").write_text(CHILD, encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(f"name: tiny\nbase_model: bundled\ndata_dir: {tmp_path / 'data'}\neval_examples: 4\n")
    runs = tmp_path / "runs"
    command = [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "child.py"), str(runs), str(recipe)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "READY" in line and len([seen for seen in lines if "READY" in seen]) == 1:  # a second Ctrl-C kills
                process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    out = " ".join("".join(lines).split())
    (run,) = runs.iterdir()
    assert code == 130, out
    assert (
        f"Cancelled after training; the adapter is kept but not exported to GGUF. Export it with: thau export {run} "
        f"(or finish the run with: thau train --resume {run})" in out
    )
    assert "thau eval" not in out and not (run / "adapter.gguf").exists()
