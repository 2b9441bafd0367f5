"""How `thau train` says a run ended, and the exit code it returns; the score table that
`thau eval` prints too. Split from train/cli.py."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .checkpoints import latest_checkpoint
from .recipe import load_recipe
from .runs import STEP_EXPORT, STEP_TRAIN, exported
from .training_run import RunState, read_summary, score_rows


def terminal_console() -> Console:
    """A rich console that never hard-wraps a line when stdout is not a terminal: at 80
    columns the resume hint split in CI logs, breaking copy-paste and grep (headless review)."""
    console = Console()
    console.soft_wrap = not console.is_terminal
    return console


def scores_table(
    after: dict[str, Any], before: dict[str, Any] | None = None, title: str = "Tool-calling score"
) -> Table:
    """The scorer's figures as a table; with `before`, side by side with the change."""
    table = Table(title=title)
    table.add_column("metric")
    if before is not None:
        table.add_column("before", justify="right")
    table.add_column("after" if before is not None else "value", justify="right")
    if before is not None:
        table.add_column("change", justify="right")
    for key, b, a, change in score_rows(after, before):
        table.add_row(*((key, b, a, change) if before is not None else (key, a)))
    return table


def score_later_command(run_dir: Path, limit: int | None) -> str:
    """The `thau eval` line that scores a trained run's adapter as `thau train` does after training."""
    output = ["--output", str(run_dir / "eval-after.jsonl")]
    try:
        recipe = load_recipe(run_dir / "recipe.yaml")
        words = [str(Path(recipe.data_dir) / "eval.jsonl"), "--model", str(recipe.base_model_path())]
        words += ["--adapter", str(run_dir), "--dialect", recipe.dialect, "--limit", str(limit or recipe.eval_examples)]
    except Exception:  # RecipeError, a recipe gone: the cases and model to name are the user's to pick
        words = ["CASES.jsonl", "--adapter", str(run_dir)]
    return "thau eval " + shlex.join(words + output)


def already_trained_line(run_dir: Path, steps: int, total: int, to_do: list[str]) -> str:
    """What `thau train --resume` says of a run the trainer finished: that it is trained, and
    what it lacks (`to_do`: the steps it runs now), or that nothing is left to do."""
    trained = f"{run_dir} is already trained ({steps} of {total} steps)"
    if to_do:
        lacks = {STEP_EXPORT: "not exported to GGUF"}
        missing = " and ".join(lacks.get(step, "not " + step.replace("scoring", "scored", 1)) for step in to_do)
        return f"{trained}, but {missing}: {', then '.join(to_do)}."
    gguf = RunState(run_dir).adapter_gguf()
    scored = ", scored after training" if isinstance((read_summary(run_dir) or {}).get("after"), dict) else ""
    return f"{trained}, exported to {gguf}{scored}: nothing left to do."


def _gguf_line(state: RunState, run_dir: Path) -> str:
    """Where the GGUF adapter the chat loads was written, or that it was not."""
    gguf = state.adapter_gguf()
    if gguf is not None:
        return f"GGUF adapter for llama.cpp: {gguf} (Ollama: {run_dir / 'Modelfile'})"
    return f"Not exported to GGUF; export it with: thau export {shlex.quote(str(run_dir))}"


def _cancelled_at(state: RunState, run_dir: Path) -> str:
    """Where a cancelled training stopped, as the step `--resume` goes on from: its newest
    checkpoint. A second Ctrl-C kills the trainer before it saves one, and "Cancelled training
    at step 9" was said when the resume went on from step 6 (CLI review, 2026-12-07 night). The
    trainer's own `cancelled` event comes only after it saved the step it stood at."""
    checkpoint = latest_checkpoint(run_dir)
    saved = int(checkpoint.name.split("-")[1]) if checkpoint is not None else 0
    if state.status == "cancelled":
        saved = max(saved, state.step)
    if saved >= state.step:
        return f" at step {saved}"
    if checkpoint is None:
        return f": trained to step {state.step}, but no checkpoint was saved; --resume starts from the beginning"
    return f": trained to step {state.step}; the last checkpoint is step {saved}, where --resume goes on"


def finish_train(
    state: RunState,
    code: int,
    run_dir: Path,
    console: Console,
    cancelled_by: int | None,
    recipe: Path,
    limit: int | None,
    trained_before: bool = False,
) -> int:
    """Say how the run ended; the exit code: 0 done, 1 failed, 128 + the signal when cancelled
    (it exited 0, so a CI job `timeout` ended looked green: headless review). `trained_before`:
    a resumed run the trainer had finished, of which only the export or the scoring ran now."""
    if state.trained:
        console.print(f"[green]{'Done' if trained_before else 'Trained'}.[/] Adapter: {state.adapter}")
        if cancelled_by is None or exported(run_dir):  # a cancel's own line says how to export
            console.print(_gguf_line(state, run_dir), markup=False, highlight=False)
        summary = read_summary(run_dir) or state.summary or {}
        if isinstance(summary.get("after"), dict):
            before = summary.get("before") if isinstance(summary.get("before"), dict) else None
            title = "Eval split: before and after training" if before else "Eval split after training"
            console.print(scores_table(summary["after"], before, title=title))
        if cancelled_by is not None:
            stopped = "Cancelled after training" if state.step_name == STEP_TRAIN else f"Cancelled {state.step_name}"
            if exported(run_dir):
                later = f"Score it later with: {score_later_command(run_dir, limit)}"
                console.print(f"{stopped}; the adapter is kept. {later}", markup=False)
            else:  # the `thau eval` line ended "holds no adapter.gguf ... run `thau export RUN` first" (docs review)
                run = shlex.quote(str(run_dir))
                console.print(
                    f"{stopped}; the adapter is kept but not exported to GGUF. Export it with: thau export {run} "
                    f"(or finish the run with: thau train --resume {run})",
                    markup=False,
                )
            return 128 + cancelled_by
        if state.error or code:
            print(f"thau: {state.step_name} failed: {state.error or f'exit code {code}'}", file=sys.stderr)
            return 1
        return 0
    if cancelled_by is not None:
        at = _cancelled_at(state, run_dir) if state.step_name == STEP_TRAIN else ""
        if (run_dir / "recipe.yaml").is_file():  # the trainer started: it resumes from its checkpoint
            again = f"Resume with: thau train --resume {shlex.quote(str(run_dir))}"
        else:
            again = f"Start it again with: thau train --recipe {shlex.quote(str(recipe))}"
        console.print(f"Cancelled {state.step_name or 'the run'}{at}. {again}", markup=False)
        return 128 + cancelled_by
    print(f"thau: training failed: {state.error or f'a child process exited with code {code}'}", file=sys.stderr)
    return 1
