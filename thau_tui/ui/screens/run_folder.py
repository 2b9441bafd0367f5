"""What the training screen reads from run folders on disk, beside what a run in this window
says: a live trainer elsewhere in the runs folder, a resumed run's earlier losses, and a run
whose scoring after training never finished. No Textual here; train/ writes these files."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...train.checkpoints import latest_checkpoint, trained_now
from ...train.runs import last_run, scored_after  # summary.json's after scores; an empty eval-after.jsonl is none
from ...train.training_run import RunState
from .training_lines import SCORING_AFTER, unscored_words

TRAINER_LOCK = ".trainer"  # train/checkpoints.alone_in's lock file in a run folder


def trained_elsewhere(runs_folder: Path) -> Path | None:
    """A run folder under `runs_folder` that a live trainer holds now (`thau train`, or a
    trainer another thau window started), the newest first; None when there is none. Only
    folders a trainer ever ran in are looked at: checking one creates its lock file."""
    try:
        folders = [p for p in runs_folder.iterdir() if (p / TRAINER_LOCK).is_file() and not p.is_symlink()]
    except OSError:  # no runs folder yet, or not readable: nobody trains there that we can see
        return None
    for folder in sorted(folders, key=_mtime, reverse=True):
        if trained_now(folder):
            return folder
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass
class EarlierLosses:
    """The losses a run folder's metrics.jsonl holds from before this window's run: by step,
    the last value said for each (a resume trains again the steps after its checkpoint)."""

    train: list[tuple[int, float]] = field(default_factory=list)
    eval: list[tuple[int, float]] = field(default_factory=list)
    resumed_from: int = 0  # the checkpoint's step a resume goes on from, when read

    def before(self, first_step: int | None) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """The train and eval points before `first_step` (the run's own first step; None: none
        yet, so up to the checkpoint it resumes from)."""
        cut = first_step if first_step is not None else self.resumed_from + 1
        return [p for p in self.train if p[0] < cut], [p for p in self.eval if p[0] < cut]


def earlier_losses(run_dir: Path) -> EarlierLosses:
    """RUN_DIR/metrics.jsonl's step and eval losses, and the step of its newest checkpoint."""
    train: dict[int, float] = {}
    evals: dict[int, float] = {}
    lines: list[str] = []
    with contextlib.suppress(OSError, UnicodeDecodeError):
        lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        event = _event(line)
        with contextlib.suppress(KeyError, TypeError, ValueError):
            if event.get("event") == "step" and event.get("loss") is not None:
                train[int(event["step"])] = float(event["loss"])
            elif event.get("event") == "eval":
                evals[int(event["step"])] = float(event["eval_loss"])
    checkpoint = latest_checkpoint(run_dir)
    resumed_from = int(checkpoint.name.split("-")[1]) if checkpoint is not None else 0
    return EarlierLosses(sorted(train.items()), sorted(evals.items()), resumed_from)


def _event(line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def scoring_started(run_dir: Path) -> bool:
    """The scoring after training began in RUN_DIR (its predictions file exists, even empty)."""
    return (run_dir / "eval-after.jsonl").exists()


def last_run_here(runs_folder: Path) -> tuple[tuple[Path, str, bool] | None, Path | None]:
    """runs.last_run, and the run R scores: one it calls finished, but that summary.json holds
    no score after training for, says so. Killed while it scored after training, it read
    "finished", with no way to score it on the screen (concurrency review)."""
    last = last_run(runs_folder)
    if last is None or last[1] != "finished" or scored_after(last[0]):
        return last, None
    folder = last[0]
    unscored = folder if (folder / "recipe.yaml").is_file() else None
    return (folder, unscored_words(folder, scoring_started(folder)), unscored is not None), unscored


def scores_again(run: RunState) -> bool:
    """`run`, ended in this window, was trained but its scoring after training did not finish
    (it failed, or its child was killed): R scores it, as after a restart."""
    return (
        run.status == "done"
        and SCORING_AFTER in getattr(run, "steps", [])
        and not scored_after(run.run_dir)
        and (run.run_dir / "recipe.yaml").is_file()
    )
