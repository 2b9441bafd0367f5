"""What the training screen says about a run, in words: the question before a cancel, the
sentence on a finished run's scores, and the status line with no run. No Textual here: the
run model (training_run.py) is what they read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkpoints import latest_checkpoint, trained_now
from .runs import STEP_TRAIN, resumable
from .training_run import RunState


def cancel_question(run: RunState) -> str:
    """The yes/no question before `run` is cancelled, with what it keeps: its last checkpoint
    (which R on the training screen, or `thau train --resume`, goes on from), the trained adapter
    while it is scored after training, or nothing yet. Cancelled while scoring before training,
    it promised a checkpoint the run folder did not hold (UX review)."""
    training = run.step_name == STEP_TRAIN
    where = f"step {run.step}" if training else run.step_name
    if run.step_name == "scoring after training":  # nothing to resume: the adapter is made (review)
        kept = "The trained adapter stays, not scored."
    elif run.checkpoint or latest_checkpoint(run.run_dir) is not None or (training and run.step > 0):
        # a trainer past its first step saves one as it stops (trainer.py)
        # R first: it named only the command-line tool, from a screen that resumes with R (training review)
        kept = "Its last checkpoint stays: R on the training screen (or thau train --resume) goes on."
    elif (run.run_dir / "recipe.yaml").is_file():  # the trainer started, but trained no step yet
        kept = (
            "Nothing is saved yet (no step trained, so no checkpoint): "
            "thau train --resume would start its training over from step 0."
        )
    else:  # the trainer never started: --resume finds no recipe in the run folder and refuses
        kept = "Nothing is saved yet, so there is nothing to resume: s starts the run again."
    return f"Cancel the training run ({where})? {kept}"


def verdict(run: RunState, before: dict, after: dict, other: str = "") -> str:
    """The training screen's sentence on a finished run's scores (Rich markup), and whether
    [b]u[/] offers the adapter as the default; `other`: the chat's default adapter when the run
    did not start from it (see other_default)."""
    from rich.markup import escape

    b, a = before.get("overall"), after.get("overall")
    beats = run.beats_current()
    start = (run.summary or run.read_summary() or {}).get("before_adapter")  # what "before" was scored with
    what = f"what it started from ({escape(Path(start).name)})" if start else "the base model"
    if beats and other:
        return (
            f"The adapter beats {what} on the eval split (overall {b:.3f} → {a:.3f}), but the chat's "
            f"default is {escape(other)}, which it was not measured against, so it is not offered as "
            "the default. [b]u[/] loads it to try."
        )
    if beats:
        return (
            f"The adapter beats {what} on the eval split (overall {b:.3f} → {a:.3f}). "
            "Press [b]u[/] to use it; it is offered as the default."
        )
    if beats is False:
        return (
            f"The adapter does not beat {what} (overall {b:.3f} → {a:.3f}), so it is not "
            "offered as the default. [b]u[/] still loads it to try."
        )
    return "No before/after scores in summary.json; [b]u[/] loads the adapter to try."


def other_default(run: RunState, config: Any) -> str:
    """The name of the adapter the chat loads by default when the run did not start from it:
    a run from the bare model that beat the bare model replaced the shipped adapter, which
    scores far higher, as the default (re-review). "" when the run started from it."""
    from ..engine.models import resolve_model

    try:
        default = resolve_model(config)[1]
    except Exception:  # no model configured: nothing it could replace
        return ""
    start = (run.summary or run.read_summary() or {}).get("before_adapter")
    if default is None or (start and Path(start).resolve() == Path(default).resolve()):
        return ""
    return Path(default).name


def idle_line(last: tuple[Path, str, bool] | None, recipe: str) -> str:
    """The training screen's status line with no run in this window (`last`: runs.last_run)."""
    said = "No run in this window (the last one is below)" if last else "No run yet"
    resume = " or R to resume the last" if last and last[2] else ""
    return f"{said}. Press s to start one with {recipe}{resume}."


def can_resume(run: RunState) -> bool:
    """R can go on with `run`, ended in this window: cancelled or failed, with a checkpoint and its
    recipe, and no other process training it. R was silent on the run just cancelled (UX review)."""
    return run.status in ("cancelled", "failed") and resumable(run.run_dir) and not trained_now(run.run_dir)


def cancelled_words(run: RunState) -> str:
    """The status line of a cancelled run: what the cancel kept, and that R goes on with it."""
    if run.trained:  # the cancel landed in the last step, which the trainer finished (UX review)
        return "Cancelled after the training finished (not scored or exported)" + (
            "; R finishes it" if can_resume(run) else ""
        )
    # only when one was: cancelled while scoring before training, none exists (UX review)
    words = "Cancelled (a checkpoint was saved)" if run.checkpoint else "Cancelled"
    return words + ("; R resumes it" if can_resume(run) else "")
