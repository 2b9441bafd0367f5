"""`thau train`'s runs as the CLI review (2026-12-07 night) found them: `--resume --recipe tiny`
went on with a `tiny-long` run, a start that failed before training was resumed over the
cancelled run beside it, a resume trained with `--no-score` kept the old adapter's scores after
training, and a second Ctrl-C's message named a step no checkpoint held."""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

from rich.console import Console
from tiny_training import tiny_recipe

from thau_tui.train.cli_outcome import finish_train
from thau_tui.train.recipe import load_recipe
from thau_tui.train.runs import STEP_TRAIN, finished_training, latest_run_dir, run_commands, scored_after
from thau_tui.train.trainer import latest_run_dir as trainer_latest_run_dir
from thau_tui.train.trainer import train
from thau_tui.train.training_run import RunState


def _run(runs: Path, folder: str, recipe_name: str, *, checkpoint: int | None, age_s: float) -> Path:
    """A run folder as the trainer leaves it: its recipe.yaml, metrics.jsonl and lock file, and
    with `checkpoint` a checkpoints/step-N holding its trainer state; modified `age_s` ago."""
    run = runs / folder
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"name: {recipe_name}\nmax_steps: 30\n", encoding="utf-8")
    (run / "metrics.jsonl").write_text(json.dumps({"event": "start", "total_steps": 30}) + "\n", encoding="utf-8")
    (run / ".trainer").write_bytes(b"")
    if checkpoint is not None:
        step = run / "checkpoints" / f"step-{checkpoint}"
        step.mkdir(parents=True)
        (step / "trainer_state.pt").write_bytes(b"state")
        (step / "adapter_config.json").write_text("{}", encoding="utf-8")
    when = run.stat().st_mtime - age_s
    os.utime(run, (when, when))
    return run


def test_resume_with_a_recipe_goes_on_with_that_recipes_runs_only(tmp_path):
    """`tiny` is a prefix of `tiny-long` (and the shipped `smollm2-tools` of `smollm2-tools-90min`):
    the newest `tiny-*` folder was the other recipe's cancelled run, which the resume marked
    finished at 2 of 2 steps."""
    runs = tmp_path / "runs"
    own = _run(runs, "tiny-20261207-200000", "tiny", checkpoint=1, age_s=600)
    other = _run(runs, "tiny-long-20261207-210000", "tiny-long", checkpoint=2, age_s=60)
    assert latest_run_dir(runs, "tiny") == own
    assert trainer_latest_run_dir(load_recipe(tiny_recipe(tmp_path)), runs) == own  # the trainer's own lookup
    assert latest_run_dir(runs, "tiny-long") == other
    # Named as `tiny`'s runs are, but its recipe.yaml is another's (a folder copied or renamed).
    _run(runs, "tiny-20261207-220000", "tiny-long", checkpoint=3, age_s=0)
    assert latest_run_dir(runs, "tiny") == own
    # Two runs in one second: new_run_dir's suffix is still the recipe's own.
    second = _run(runs, "tiny-20261207-200000-2", "tiny", checkpoint=1, age_s=30)
    assert latest_run_dir(runs, "tiny") == second


def test_resume_skips_a_newer_start_that_failed_before_training(tmp_path):
    """`device: cuda` on a CPU machine fails at once but leaves its folder (recipe.yaml,
    metrics.jsonl, .trainer); `--resume` took it, the newest, and failed again."""
    runs = tmp_path / "runs"
    cancelled = _run(runs, "tiny-20261207-200000", "tiny", checkpoint=2, age_s=600)
    failed = _run(runs, "tiny-20261207-210000", "tiny", checkpoint=None, age_s=0)
    with (failed / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": "error", "message": "TrainingError: device 'cuda' is not available"}) + "\n")
    assert latest_run_dir(runs, "tiny") == cancelled
    assert latest_run_dir(runs) == cancelled  # `thau train --resume` with no recipe named
    # A half-written checkpoint (step-N.tmp, no trainer state) is none either.
    (failed / "checkpoints" / "step-1.tmp").mkdir(parents=True)
    assert latest_run_dir(runs) == cancelled


def _tiny_llama_recipe(path: Path, tiny_gguf: Path, tiny_data: Path, max_steps: int) -> Path:
    """A recipe of `max_steps` LoRA steps on the conftest's tiny llama (it loads in well under a
    second), with no eval loss."""
    path.write_text(
        f"name: tiny\nbase_model: {tiny_gguf}\ndata_dir: {tiny_data}\nrank: 2\nalpha: 4\n"
        f"max_steps: {max_steps}\nbatch_size: 2\nmax_seq_len: 1024\neval_every: 0\neval_examples: 0\n"
        "checkpoint_every: 0\nwarmup_steps: 0\ndevice: cpu\nthreads: 1\n",
        encoding="utf-8",
    )
    return path


def test_a_resume_that_trains_after_the_scoring_drops_the_old_scores(tmp_path, tiny_gguf, tiny_data):
    """A run scored after its steps, resumed to more with `--no-score`: its summary.json kept
    `after` (and eval-after.jsonl) of the old adapter, shown as the new adapter's score, and
    `--resume` then found nothing left to do. The real trainer, two steps and two more."""
    recipe_file = _tiny_llama_recipe(tmp_path / "tiny.yaml", tiny_gguf, tiny_data, max_steps=2)
    run = tmp_path / "runs" / "tiny-20261207-200000"
    train(load_recipe(recipe_file), run)
    # What scoring after training leaves (evaluate.py's "after" and adapter_gguf; its predictions).
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    summary.update(before={"n": 1, "overall": 0.25}, after={"n": 1, "overall": 0.5})
    summary["adapter_gguf"] = str(run / "adapter.gguf")
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (run / "eval-after.jsonl").write_text(json.dumps({"id": "case-1"}) + "\n", encoding="utf-8")
    (run / "adapter.gguf").write_bytes(b"GGUF")
    assert scored_after(run)

    longer = _tiny_llama_recipe(tmp_path / "longer.yaml", tiny_gguf, tiny_data, max_steps=4)
    train(load_recipe(longer), run, resume=True)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 4 and summary["cancelled"] is False
    assert "after" not in summary and "adapter_gguf" not in summary, summary
    assert summary["before"] == {"n": 1, "overall": 0.25}  # the start's score still stands
    assert not (run / "eval-after.jsonl").exists() and not (run / "adapter.gguf").exists()
    assert not scored_after(run) and RunState(run).beats_current() is None
    # `--resume` now exports and scores it again, rather than "nothing left to do".
    assert finished_training(run) == (4, 4)
    again = run_commands(longer, run, trained=True, limit=1)
    assert [c[c.index("--stage") + 1] for c in again if "--stage" in c] == ["after"]


def _cancelled_line(run: Path, step: int, said_cancelled: bool = False) -> str:
    """finish_train's last line for a training stopped at `step` by Ctrl-C; `said_cancelled`: the
    trainer's own `cancelled` event came (after saving that step), not a second Ctrl-C's kill."""
    state = RunState(run)
    state.step_name, state.step = STEP_TRAIN, step
    if said_cancelled:
        state.apply({"event": "cancelled", "step": step})
    out = io.StringIO()
    code = finish_train(state, 0, run, Console(file=out, width=300), signal.SIGINT, run / "recipe.yaml", None)
    assert code == 128 + signal.SIGINT
    return " ".join(out.getvalue().split())


def test_a_cancel_names_the_step_the_resume_goes_on_from(tmp_path):
    """A second Ctrl-C stops the trainer before it saves the step it stood at: "Cancelled
    training at step 9" while the next resume said "resumed from step-6"."""
    run = _run(tmp_path / "runs", "tiny-20261207-200000", "tiny", checkpoint=6, age_s=0)
    said = _cancelled_line(run, 9)
    assert "at step 9" not in said, said
    assert said.startswith(
        "Cancelled training: trained to step 9; the last checkpoint is step 6, where --resume goes on. "
        f"Resume with: thau train --resume {run}"
    ), said
    # Saved where it stopped (one Ctrl-C): the plain line, as before.
    assert _cancelled_line(run, 6).startswith("Cancelled training at step 6. Resume with: ")
    assert _cancelled_line(run, 6, said_cancelled=True).startswith("Cancelled training at step 6. Resume with: ")
    # No checkpoint at all: the resume starts over.
    bare = _run(tmp_path / "runs", "tiny-20261207-210000", "tiny", checkpoint=None, age_s=0)
    assert "no checkpoint was saved; --resume starts from the beginning" in _cancelled_line(bare, 3)
    # Unless the trainer said `cancelled`, which it says after saving the step it stood at.
    assert _cancelled_line(bare, 3, said_cancelled=True).startswith("Cancelled training at step 3. Resume with: ")
