"""How `thau train` says a run ended, and the exit code it returns; the score table that
`thau eval` prints too. Split from train/cli.py."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .recipe import load_recipe
from .runs import STEP_TRAIN
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


def finish_train(
    state: RunState,
    code: int,
    run_dir: Path,
    console: Console,
    cancelled_by: int | None,
    recipe: Path,
    limit: int | None,
) -> int:
    """Say how the run ended; the exit code: 0 done, 1 failed, 128 + the signal when cancelled
    (it exited 0, so a CI job `timeout` ended looked green: headless review)."""
    if state.trained:
        console.print(f"[green]Trained.[/] Adapter: {state.adapter}")
        summary = read_summary(run_dir) or state.summary or {}
        if isinstance(summary.get("after"), dict):
            before = summary.get("before") if isinstance(summary.get("before"), dict) else None
            console.print(scores_table(summary["after"], before, title="Eval split: before and after training"))
        if cancelled_by is not None:
            stopped = f"Cancelled {state.step_name}" if state.scoring else "Cancelled after training"
            later = score_later_command(run_dir, limit)
            console.print(f"{stopped}; the adapter is kept. Score it later with: {later}", markup=False)
            return 128 + cancelled_by
        if state.error or code:
            print(f"thau: {state.step_name} failed: {state.error or f'exit code {code}'}", file=sys.stderr)
            return 1
        return 0
    if cancelled_by is not None:
        at = f" at step {state.step}" if state.step_name == STEP_TRAIN else ""
        if (run_dir / "recipe.yaml").is_file():  # the trainer started: it resumes from its checkpoint
            again = f"Resume with: thau train --resume {shlex.quote(str(run_dir))}"
        else:
            again = f"Start it again with: thau train --recipe {shlex.quote(str(recipe))}"
        console.print(f"Cancelled {state.step_name or 'the run'}{at}. {again}", markup=False)
        return 128 + cancelled_by
    print(f"thau: training failed: {state.error or f'a child process exited with code {code}'}", file=sys.stderr)
    return 1
