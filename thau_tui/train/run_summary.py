"""A run's summary.json as the trainer reads it at the end of training, less what the steps it
trained made stale. Split from trainer.py (at its 500-line limit)."""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import replace_file
from .training_run import read_summary

# Made from the adapter as it was before the steps trained now: the GGUF export and the scoring
# after training, and the summary's keys for them.
STALE_FILES = ("adapter.gguf", "eval-after.jsonl")
STALE_KEYS = ("after", "adapter_gguf")


def forget_stale_outputs(run_dir: Path) -> dict:
    """Remove the run's GGUF export and scores after training, made before the steps trained now,
    and return the summary without them (written at once: a trainer killed before its own
    summary leaves none standing).

    An adapter.gguf exported before a resume was scored, offered and loaded with the old weights
    (training review). The scores after training stayed too: a run scored at 2 steps and resumed
    to 6 with `--no-score` printed the 2-step scores as "before and after training", and
    `--resume` then said "scored after training: nothing left to do" (CLI review, 2026-12-07
    night). Without them the run reads unscored, and R or `--resume` scores it again."""
    for name in STALE_FILES:
        (run_dir / name).unlink(missing_ok=True)
    summary = read_summary(run_dir) or {}
    if any(key in summary for key in STALE_KEYS):
        for key in STALE_KEYS:
            summary.pop(key, None)
        replace_file(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
