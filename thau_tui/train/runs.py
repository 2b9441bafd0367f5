"""Starting a training run: its folder, its child processes and their environment.

Shared by the `thau train` command and the training screen (which must not import
the CLI: it runs these commands as child processes and reads their JSON events).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def new_run_dir(runs_dir: str | Path, recipe_path: str | Path) -> Path:
    """train/runs/<recipe name>-<timestamp>: a fresh folder name for one run."""
    return Path(runs_dir) / f"{Path(recipe_path).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def trainer_command(recipe: str | Path, run_dir: str | Path, resume: bool = False) -> list[str]:
    """The child process that trains: it prints one JSON event a line on stdout."""
    command = [sys.executable, "-m", "thau_tui.train.trainer", "--recipe", str(recipe), "--run-dir", str(run_dir)]
    return command + ["--resume"] if resume else command


def run_commands(recipe: str | Path, run_dir: str | Path, *, resume: bool = False, score: bool = True,
                 limit: int | None = 64) -> list[list[str]]:
    """The children of one run, in order: score the eval split before, train, score after.

    A resumed run was scored before when it first started, so it is not scored again.
    """
    from .evaluate import score_command

    commands = [trainer_command(recipe, run_dir, resume)]
    if score:
        if not resume:
            commands.insert(0, score_command(run_dir, "before", recipe, limit))
        commands.append(score_command(run_dir, "after", None, limit))
    return commands


def trainer_env() -> dict[str, str]:
    """The child's environment: unbuffered, so each event line arrives as it is printed."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def check_recipe(path: str | Path) -> str | None:
    """None when the recipe loads; else the problem, in words."""
    path = Path(path)
    if not path.is_file():
        return f"recipe not found: {path} (recipes live in train/recipes/; pass --recipe PATH)"
    try:
        from .recipe import load_recipe

        load_recipe(path)
    except Exception as exc:  # pydantic or YAML errors: show them as they are, they name the key
        return f"bad recipe {path}:\n{exc}"
    return None
