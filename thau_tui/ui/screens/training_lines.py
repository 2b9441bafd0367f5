"""The training screen's lines of text: its header (the recipe the next run uses), the run's
status line (what runs, with which recipe, where), its steps and its numbers.

The header and the status line name two different recipes on purpose: a recipe chosen while
a run goes is the next run's, and the run goes on with its own. One label for both said the
new recipe beside the old run, went back to the old one on reopening, and s then started the
old one again (training review)."""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

from rich.text import Text

from ...train.recipe import SHIPPED_RECIPES, load_recipe
from ...train.run_sentences import cancelled_words
from ...train.training_run import RunState, TrainingRun, format_eta
from ..visible import visible

SCORING_AFTER = "scoring after training"  # runs.command_step's name for the last child


def recipe_header(recipe: Path, problem: str | None, running: bool) -> Text:
    """The header: the recipe s starts, where it is, and whether it can start at all. A
    configured name that matches no recipe read as a made-up path in the workspace, and only s
    said "recipe not found" (training review)."""
    label = "Next run: " if running else "Recipe: "  # a run is going with its own recipe
    name = (visible(recipe.stem), "bold")
    if not recipe_found(recipe):
        return Text.assemble(label, name, " — not found (r chooses one)")
    where = "shipped with thau" if recipe.resolve().parent == SHIPPED_RECIPES else str(recipe.resolve())
    said = " — cannot start (s says why, r chooses another)" if problem else " · r chooses another"
    return Text.assemble(label, name, f" ({visible(where)}){said}")


def recipe_found(recipe: Path) -> bool:
    """The screen's recipe is a file: find_recipe gives an absolute path or none, and a relative
    name it could not find is never a file of that name in the current folder (the workspace)."""
    return recipe.is_absolute() and recipe.is_file()


def run_recipe_name(run: RunState) -> str:
    """The recipe a run goes on with, by name: the file picked, or for a resumed run the copy in
    its folder (recipe.yaml), named by the name inside it."""
    recipe: Path | None = getattr(run, "recipe", None)  # a bare RunState (tests) has none
    if recipe is None:
        return ""
    return recipe.stem if recipe.name != "recipe.yaml" else _name_inside(recipe)


@functools.lru_cache(maxsize=8)  # the status line is drawn at each event: read the copy once
def _name_inside(recipe: Path) -> str:
    try:
        return load_recipe(recipe).name
    except Exception:  # a copy that no longer loads: the run folder's name still says it
        return recipe.parent.name


def status_line(run: RunState) -> str:
    """What the run is doing, with its recipe and its folder."""
    words = {
        "starting": "Starting (loading the model)…",
        "running": "Training",
        "data": "Building the data set…",
        "paused": f"Paused while {run.step_name or 'training'} (p resumes)",
        "done": done_words(run),
        "cancelled": cancelled_words(run),  # what it kept, and whether R goes on (run_sentences)
        "failed": f"Failed: {run.error}",
        "idle": "Not started",
        "scoring": (run.step_name or "scoring")[:1].upper() + (run.step_name or "scoring")[1:] + "…",  # GGUF stays GGUF
    }
    device = f" on {run.device}" if run.device and run.status in ("running", "paused") else ""
    name = run_recipe_name(run)
    recipe = f"recipe {name}, " if name else ""
    return f"{words.get(run.status, run.status)}{device} — {recipe}{run.run_dir}"


def done_words(run: RunState) -> str:
    """A run that trained: "Done", or what stopped its scoring after training, which the run
    still calls done (its adapter is trained). A killed scoring read "Done" (concurrency review)."""
    if not run.error:
        return "Done"
    return f"Trained, but {run.error}" + ("; R scores it again" if run.step_name == SCORING_AFTER else "")


def stats_line(run: RunState) -> str:
    """Epoch, losses and speed; the ETA only while the run goes on."""
    # No ETA once it stopped ("ETA 4:58" stayed after a cancel: UX review), nor while paused,
    # where the clock it counts down does not run (training review).
    going = run.active and run.status != "paused"
    if run.scoring:
        return f"ETA {format_eta(run.score_eta_s)}" if run.score_total and going else ""
    if not run.total_steps:
        return ""
    stats = [f"epoch {run.epoch:.2f}"]
    if run.loss is not None:
        stats.append(f"loss {run.loss:.4f}")
    if run.eval_loss is not None:
        stats.append(f"eval {run.eval_loss:.4f}")
    stats.append(f"{run.tokens_per_s:.0f} tok/s")
    return " · ".join(stats + ([f"ETA {format_eta(run.eta_s)}"] if going else []))


def steps_line(run: TrainingRun) -> Text:
    """The run's steps in order: done ones ticked, the current one marked."""
    names, current = run.steps, run.step_index
    parts: list[tuple[str, str] | str] = []
    for i, name in enumerate(names):
        if parts:
            parts.append("  ·  ")
        if i < current or (i == current and run.status == "done"):
            parts.append((f"✓ {name}", "dim"))
        elif i == current and run.status in ("cancelled", "failed"):  # not "▶" as if going on (UX review)
            parts.append((f"✗ {name} ({run.status})", "bold"))
        elif i == current:
            parts.append((f"▶ {name}", "bold"))
        else:
            parts.append(name)
    return Text.assemble(*parts)


def unscored_words(folder: Path, cut_short: bool) -> str:
    """How a run trained and exported but never scored after training ended, and that R scores
    it (with its recipe.yaml, which the trainer copies in; `thau eval` does without). A kill
    while it scored read "finished" (concurrency review)."""
    how = (
        "trained, but its scoring after training was cut short (no score after training)"
        if cut_short
        else "trained and exported, but not scored after training"
    )
    if not (folder / "recipe.yaml").is_file():  # score_later_command's words (cli_outcome: not for the UI)
        later = shlex.join(["thau", "eval", "CASES.jsonl", "--adapter", str(folder)])
        output = shlex.quote(str(folder / "eval-after.jsonl"))
        return f"{how}. Its recipe.yaml is gone; score it with: {later} --output {output}"
    return f"{how}. R scores it again." if cut_short else f"{how}. R scores it."


def second_trainer_question(busy: Path, what: str) -> str:
    """The question before `what` starts while another process trains `busy`, in the same
    runs folder: s started a second trainer on the cores the first one used, saying nothing
    (concurrency review)."""
    return (
        f"Another process is training {busy.name} now (thau train or another thau window). "
        f"{what} beside it shares the same CPU cores, so both go slower. Start anyway?"
    )
