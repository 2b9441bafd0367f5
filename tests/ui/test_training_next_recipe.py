"""The recipe the next run uses and the one a run goes on with (training review, 2026-12-07):
a recipe picked during a run relabelled the header as if the run used it, the header went back
to the running recipe on reopening, and s then started that one again; after R the header named
a recipe the resumed run did not use. A configured recipe that does not exist was shown as a
made-up path in the workspace until s said "recipe not found".

The real app and the real run; only the trainer is a small script that prints what it prints
(test_training_resume_after_cancel's PRELUDE and CANCEL_MIDWAY): a real one trains for minutes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scripted import ScriptedBackend
from test_app import make_app
from test_training_resume_after_cancel import CANCEL_MIDWAY, _child
from textual.widgets import OptionList, Static
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.train import training_run
from thau_tui.train.recipe import SHIPPED_RECIPES
from thau_tui.ui.screens.training import RecipePicker, TrainingScreen

# The resumed trainer: it goes on from step 4 and waits for the cancel.
RESUMED = """
say(event="start", total_steps=8, examples=8, device="cpu")
say(event="step", step=5, total_steps=8, loss=1.4)
wait_for(lambda: stop)
say(event="cancelled", step=5)
"""


def _scripted_trainer(monkeypatch, tmp_path: Path) -> None:
    """Each run the screen starts runs the script in place of data building, scoring and training."""

    def commands(recipe, run_dir, *, resume=False, score=True, limit=None):
        body, name = (RESUMED, "resumed.py") if resume else (CANCEL_MIDWAY, "train.py")
        return [_child(tmp_path, name, body, Path(run_dir))]

    monkeypatch.setattr(training_run, "run_commands", commands)


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def _pick(pilot, app, name: str) -> None:
    """r, then the recipe called `name` in the picker, from the keyboard."""
    screen = app.screen
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, RecipePicker), 5, "the recipe picker")
    index = next(i for i, choice in enumerate(app.screen.choices) if choice.name == name)
    current = app.screen.query_one(OptionList).highlighted or 0
    await pilot.press(*(["down"] * (index - current) if index > current else ["up"] * (current - index)))
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is screen, 5, "the picker to close")


async def _cancel(pilot, app, run) -> None:
    await pilot.press("x")
    await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question")
    await pilot.press("y")
    await asyncio.wait_for(run.wait(), 20)


async def test_a_recipe_picked_during_a_run_is_the_next_runs_and_the_run_keeps_its_own(tmp_path, monkeypatch):
    _scripted_trainer(monkeypatch, tmp_path)
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = make_app(tmp_path, ScriptedBackend([]), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen), 5, "the training screen")
        await _pick(pilot, app, "tiny-smoke")
        await pilot.press("s")
        await wait_until(pilot, lambda: app.training_run is not None and app.training_run.step == 4, 20, "step 4")
        first = app.training_run
        assert first.recipe == SHIPPED_RECIPES / "tiny-smoke.yaml"

        await _pick(pilot, app, "smollm2-tools")  # while tiny-smoke trains
        screen = app.screen
        await wait_until(pilot, lambda: "smollm2-tools" in _text(screen, "#training-recipe"), 5, "the header")
        assert _text(screen, "#training-recipe").startswith("Next run: smollm2-tools (shipped with thau)")
        assert "recipe tiny-smoke, " in _text(screen, "#training-status")  # what runs now

        await pilot.press("escape", "ctrl+t")  # reopened: it went back to tiny-smoke
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen), 5, "the training screen")
        screen = app.screen
        assert screen.recipe == SHIPPED_RECIPES / "smollm2-tools.yaml" and screen.run is first
        await wait_until(pilot, lambda: "recipe tiny-smoke" in _text(screen, "#training-status"), 5, "the run")
        assert _text(screen, "#training-recipe").startswith("Next run: smollm2-tools"), _text(
            screen, "#training-recipe"
        )

        await _cancel(pilot, app, first)
        await wait_until(pilot, lambda: "R resumes it" in _text(screen, "#training-status"), 10, "the cancel")
        assert _text(screen, "#training-recipe").startswith("Recipe: smollm2-tools")  # what s starts now

        await pilot.press("R")  # the resumed run is tiny-smoke's, the header still the next run's
        await wait_until(pilot, lambda: app.training_run is not first and app.training_run.step == 5, 20, "step 5")
        resumed = app.training_run
        assert resumed.resume and resumed.run_dir == first.run_dir
        assert "recipe tiny-smoke, " in _text(screen, "#training-status")  # named from the run folder's copy
        assert _text(screen, "#training-recipe").startswith("Next run: smollm2-tools")
        assert app.training_recipe == SHIPPED_RECIPES / "smollm2-tools.yaml"  # not overwritten by the run's

        await _cancel(pilot, app, resumed)
        await pilot.press("s")  # started tiny-smoke again
        await wait_until(pilot, lambda: app.training_run is not resumed, 10, "the next run")
        assert app.training_run.recipe == SHIPPED_RECIPES / "smollm2-tools.yaml"
        await wait_until(pilot, lambda: "recipe smollm2-tools, " in _text(screen, "#training-status"), 10, "it")
        await _cancel(pilot, app, app.training_run)


async def test_a_configured_recipe_that_does_not_exist_is_said_when_the_screen_opens(
    tmp_path, thau_home, monkeypatch, notices
):
    monkeypatch.chdir(tmp_path)  # thau runs in the workspace: a file there named nosuch is not the recipe
    (tmp_path / "nosuch").write_text("name: planted\n", encoding="utf-8")
    config = Config()
    config.train.recipe = "nosuch"
    config.train.runs_dir = str(tmp_path / "runs")
    app = make_app(tmp_path, ScriptedBackend([]), config=config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen), 5, "the training screen")
        screen = app.screen
        header = _text(screen, "#training-recipe")
        # it read "Recipe: nosuch (/…/ws/nosuch)": a path in the workspace that was never there
        assert header == "Recipe: nosuch — not found (r chooses one)", header
        assert str(tmp_path) not in header
        assert "with nosuch" not in _text(screen, "#training-status")  # s would not start it
        await pilot.press("s")
        await wait_until(pilot, lambda: notices.any("recipe not found"), 5, "s refusing")
        assert app.training_run is None

        # config.yaml reloaded, the same name: a recipe of that name made since is found
        mine = thau_home / "config" / "recipes" / "nosuch.yaml"
        mine.parent.mkdir(parents=True)
        mine.write_text("name: nosuch\nmax_steps: 3\neval_examples: 2\n", encoding="utf-8")
        app._config_changed(ConfigResult(config.model_copy(deep=True), None, []))
        await pilot.pause()
        assert screen.recipe == mine and _text(screen, "#training-recipe").startswith(f"Recipe: nosuch ({mine})")
        assert "with nosuch" in _text(screen, "#training-status")

        # and reloaded with another name that matches nothing: said at once, not at s
        other = config.model_copy(deep=True)
        other.train.recipe = "train/recipes/gone.yaml"
        app._config_changed(ConfigResult(other, None, []))
        await pilot.pause()
        assert _text(screen, "#training-recipe") == "Recipe: gone — not found (r chooses one)"
