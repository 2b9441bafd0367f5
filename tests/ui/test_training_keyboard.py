"""Issue 13, the training screen from the keyboard: it works outside the repository, a recipe
picker, scoring as its own step (the recipe's eval size, an ETA, pause), a still bar when
nothing runs, a log that wraps and tidies warnings, and the chat's status line."""

from __future__ import annotations

import asyncio
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest
from scripted import ScriptedBackend
from textual.app import App
from textual.widgets import Label, OptionList, ProgressBar, RichLog, Static
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.paths import runs_dir
from thau_tui.train.recipe import SHIPPED_RECIPES, load_recipe
from thau_tui.train.runs import STEP_DATA
from thau_tui.ui.app import ThauApp
from thau_tui.ui.screens.training import RecipePicker, TrainingRun, TrainingScreen


class HostApp(App):
    """A one-screen host that holds the run, as the real app does."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.training_run = None
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path), str(tmp_path / "run")]


async def test_outside_the_repository_the_default_recipe_starts_with_its_own_eval_size(tmp_path, monkeypatch, notices):
    monkeypatch.chdir(tmp_path)  # no train/recipes/ or train/data/ here
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        assert screen.recipe.parent == SHIPPED_RECIPES  # config's train/recipes/smollm2-tools.yaml, shipped
        assert "shipped with thau" in str(screen.query_one("#training-recipe", Static).content)
        await pilot.press("s")
        await pilot.pause()
        run = app.training_run
        assert run is not None, notices.text()
        assert "Cannot start" not in notices.text() and "--recipe" not in notices.text()
        await pilot.press("x", "y")
        await asyncio.wait_for(run.wait(), 30)
    recipe = load_recipe(screen.recipe)
    # Never the current folder's train/data: the repository's (source checkout) or thau's data folder.
    assert Path(recipe.data_dir).is_absolute() and Path(recipe.data_dir) != tmp_path / "train" / "data"
    scoring = [c for c in run.commands if "thau_tui.train.evaluate" in c]
    assert [c[c.index("--limit") + 1] for c in scoring] == [str(recipe.eval_examples)] * 2
    # Named by the recipe's name, the trainer's rule: `thau train --resume` finds it.
    assert run.run_dir.parent == tmp_path / "runs" and run.run_dir.name.startswith(f"{recipe.name}-")


async def test_a_recipe_without_its_data_builds_it_in_thaus_data_folder_first(tmp_path, thau_home, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = thau_home / "config" / "recipes" / "mine.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\nbase_model: bundled\ndata_dir: my-data\nmax_steps: 1\neval_examples: 3\n")
    recipe = load_recipe(mine)
    assert Path(recipe.data_dir) == thau_home / "data" / "my-data"  # not ./my-data
    run = TrainingRun(mine, tmp_path / "run")
    assert run.steps[:2] == [STEP_DATA, "scoring before training"]
    assert run.commands[0][-2:] == ["--recipe", str(mine)]


async def test_the_recipe_picker_lists_shipped_and_own_recipes_and_config_reload_updates_it(tmp_path, thau_home):
    mine = thau_home / "config" / "recipes" / "mine.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\nmax_steps: 3\neval_examples: 2\n")
    (mine.parent / "whole.yaml").write_text("name: whole\nmethod: full\nmax_steps: 5\neval_examples: 2\n")
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RecipePicker), 5, "the recipe picker")
        options = app.screen.query_one(OptionList)
        # its own footer: the training screen's keys under it (s Start) do nothing here (keyboard review)
        assert app.screen.query("Footer")
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(label.startswith("mine  (3 steps, eval 2;") for label in labels), labels
        assert any(label.startswith("whole  (5 steps, full fine-tuning, eval 2;") for label in labels), labels
        assert any(label.startswith("tiny-smoke  (2 steps, eval 4; shipped)") for label in labels), labels
        index = next(i for i, label in enumerate(labels) if label.startswith("mine"))
        current = options.highlighted
        await pilot.press(*(["down"] * (index - current) if index > current else ["up"] * (current - index)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, 5, "the picker to close")
        assert screen.recipe == mine.resolve()
        assert "mine" in str(screen.query_one("#training-status", Static).content)
        await pilot.press("r", "escape")  # Esc keeps the recipe
        await wait_until(pilot, lambda: app.screen is screen, 5, "the picker to close")
        assert screen.recipe == mine.resolve()

    # A config reload reaches an open training screen in the real app.
    store = Store(tmp_path / "db.sqlite3")
    chat = ThauApp(ConfigResult(Config(), None, []), store=store, backend=ScriptedBackend([]), watch=False)
    async with chat.run_test(size=(140, 45)) as pilot:
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(chat.screen, TrainingScreen), 5, "the training screen")
        assert chat.screen.recipe.stem == "smollm2-tools"
        changed = Config()
        changed.train.recipe = "tiny-smoke"
        chat._config_changed(ConfigResult(changed, None, []))
        await pilot.pause()
        assert chat.screen.recipe == SHIPPED_RECIPES / "tiny-smoke.yaml"
        assert "tiny-smoke" in str(chat.screen.query_one("#training-recipe", Static).content)


SCORING = """
    import json, pathlib, sys, time
    from thau_tui.train.evaluate import wait_while_paused
    run = pathlib.Path(sys.argv[1])
    def say(**event):
        print(json.dumps(event), flush=True)
    say(event="log", message="scoring the eval split before training…")
    for done in range(1, 5):
        time.sleep(0.3)
        say(event="eval_progress", stage="before", done=done, total=4, eta_s=(4 - done) * 30.0)
        while done == 1 and not (run / "go").exists():  # the test looks, presses p, then lets it go on
            time.sleep(0.05)
        if done < 4:
            wait_while_paused(run, lambda **e: say(**e), "before")
    say(event="scores", stage="before", scores={"overall": 0.25})
"""


async def test_scoring_is_its_own_step_with_an_eta_and_p_pauses_it(tmp_path, notices):
    command = script(tmp_path, "score.py", SCORING)
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[command])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        await wait_until(pilot, lambda: run.score_done >= 1, 20, "the first scored case")
        label = screen.query_one("#training-step", Label)
        # drawn on the screen's refresh tick, which a loaded machine can delay past a fixed pause
        await wait_until(pilot, lambda: str(label.content).startswith("Scoring"), 10, "the scoring step drawn")
        step = str(label.content)
        assert step.startswith("Scoring before training ") and step.endswith("/4"), step
        assert "ETA " in str(screen.query_one("#training-stats", Label).content)
        assert screen.query_one("#training-progress", ProgressBar).total == 4
        await pilot.press("p")
        assert "Pausing after this eval case" in notices.text()
        (tmp_path / "run" / "go").touch()  # the scorer was held after its first case until now
        await wait_until(pilot, lambda: run.status == "paused", 10, "the scorer to pause")
        held = run.score_done
        await pilot.pause(1.0)
        assert run.score_done == held < 4  # it really waits
        status = screen.query_one("#training-status", Static)
        await wait_until(pilot, lambda: "Paused while scoring" in str(status.content), 10, "the pause drawn")
        assert "Paused while scoring before training" in str(status.content)
        await pilot.press("p")
        await asyncio.wait_for(run.wait(), 20)
        assert run.score_done == 4 and run.scores["before"] == {"overall": 0.25}


async def test_the_bar_stands_still_when_idle_and_after_a_failure(tmp_path):
    failing = script(
        tmp_path,
        "fail.py",
        """
        import json
        print(json.dumps({"event": "error", "message": "no model here"}), flush=True)
        raise SystemExit(1)
    """,
    )
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[failing])
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        bar = screen.query_one("#training-progress", ProgressBar)
        await pilot.pause(0.3)
        assert bar.total is not None  # None is Textual's moving "indeterminate" bar
        screen.run = run
        await run.start()
        await asyncio.wait_for(run.wait(), 20)
        assert run.status == "failed"
        status = screen.query_one("#training-status", Static)
        # drawn on the screen's refresh tick, which a loaded machine can delay past a fixed pause
        await wait_until(pilot, lambda: "no model here" in str(status.content), 10, "the failure drawn")
        assert bar.total is not None


async def test_the_log_wraps_long_lines_and_tidies_python_warnings(tmp_path):
    long_word = "x" * 150
    noisy = script(
        tmp_path,
        "noisy.py",
        f"""
        import warnings
        print("start of a long line " + "{long_word}" + " end", flush=True)
        warnings.warn("torch_dtype is deprecated, use dtype")
    """,
    )
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[noisy])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(120, 40)) as pilot:
        await run.start()
        await asyncio.wait_for(run.wait(), 20)
        await pilot.pause(0.5)
        lines = list(run.log)
        assert "warning: torch_dtype is deprecated, use dtype (UserWarning)" in lines
        assert not any("warnings.warn(" in line for line in lines), lines
        log = app.screen.query_one("#training-log", RichLog)
        shown = "".join(strip.text for strip in log.lines)
        assert long_word in shown.replace(" ", "") and "end" in shown  # wrapped, nothing cut
        assert max(strip.cell_length for strip in log.lines) <= log.scrollable_content_region.width


async def test_the_chat_status_line_shows_a_running_training(tmp_path):
    slow = script(
        tmp_path,
        "slow.py",
        """
        import json, time
        print(json.dumps({"event": "start", "run_dir": "x", "total_steps": 50, "device": "cpu", "examples": 1}),
              flush=True)
        print(json.dumps({"event": "step", "step": 17, "total_steps": 50, "loss": 1.0, "eta_s": 720}), flush=True)
        time.sleep(30)
    """,
    )
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[slow])
    store = Store(tmp_path / "db.sqlite3")
    app = ThauApp(ConfigResult(Config(), None, []), store=store, backend=ScriptedBackend([]), watch=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await run.start()
        app.training_run = run
        status = app.query_one("#status")
        await wait_until(pilot, lambda: status.activity == "training 34% · ETA 12 min", 10, "the training note")
        run.cancel()
        await asyncio.wait_for(run.wait(), 20)
        await wait_until(pilot, lambda: status.activity == "", 5, "the note to go")


@pytest.mark.slow
async def test_the_smoke_recipe_runs_from_the_screen_outside_the_repository(tmp_path, monkeypatch, request):
    """Keyboard only, from a folder that is not the repository: r, pick tiny-smoke, s; the run
    scores the recipe's 4 eval cases before and after two steps, and offers the adapter."""
    monkeypatch.chdir(tmp_path)
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RecipePicker), 5, "the recipe picker")
        picker = app.screen
        index = next(i for i, c in enumerate(picker.choices) if c.name == "tiny-smoke")
        current = picker.query_one(OptionList).highlighted
        await pilot.press(*(["down"] * (index - current) if index > current else ["up"] * (current - index)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, 5, "the picker to close")
        started = time.monotonic()
        await pilot.press("s")
        await wait_until(pilot, lambda: app.training_run is not None, 5, "the run to start")
        run = app.training_run
        await wait_until(pilot, lambda: not run.running, 600, "the smoke run to finish")
        print(f"smoke run from the screen: {time.monotonic() - started:.0f} s; {run.step_seconds}")
        assert run.status == "done", "\n".join(run.log)
        assert run.scores["before"]["n"] == run.scores["after"]["n"] == 4
        # where thau keeps runs (the data folder; a source checkout's train/runs), never the
        # current folder
        if not run.run_dir.resolve().is_relative_to(tmp_path):
            request.addfinalizer(lambda: shutil.rmtree(run.run_dir, ignore_errors=True))
        assert run.run_dir.resolve().parent == runs_dir(Config().train.runs_dir).resolve()
        assert not run.run_dir.resolve().is_relative_to(tmp_path / "train") and run.adapter_gguf() is not None
        await wait_until(pilot, lambda: screen.query_one("#training-results").display, 5, "the results table")


async def test_the_chats_keys_do_not_reach_through_the_training_and_gallery_screens(tmp_path):
    """Both are full screens over the chat: Ctrl+T on training opened a second one (two
    timers redrawing), Ctrl+G on the gallery a second gallery, and Ctrl+N reset the chat
    hidden behind them. Those keys are off there, and off the footer; F1 still helps."""
    from thau_tui.ui.screens.gallery import GalleryScreen

    store = Store(tmp_path / "db.sqlite3")
    chat = ThauApp(ConfigResult(Config(), None, []), store=store, backend=ScriptedBackend([]), watch=False)
    async with chat.run_test(size=(140, 45)) as pilot:
        session = chat.session.id
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(chat.screen, TrainingScreen), 5, "the training screen")
        depth = len(chat.screen_stack)
        await pilot.press("ctrl+t", "ctrl+g", "ctrl+n")
        await pilot.pause()
        assert len(chat.screen_stack) == depth and isinstance(chat.screen, TrainingScreen)
        assert chat.session.id == session
        assert "new_chat" not in {b.binding.action for b in chat.screen.active_bindings.values() if b.enabled}
        await pilot.press("escape", "ctrl+g")
        await wait_until(pilot, lambda: isinstance(chat.screen, GalleryScreen), 5, "the gallery")
        depth = len(chat.screen_stack)
        await pilot.press("ctrl+g", "ctrl+t")
        await pilot.pause()
        assert len(chat.screen_stack) == depth and isinstance(chat.screen, GalleryScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert chat.screen.__class__.__name__ == "HelpScreen"


async def test_quitting_while_training_asks_once_with_one_key(tmp_path):
    """It asked through a text prompt (type y, then Enter), and each Ctrl+Q stacked another."""
    from thau_tui.ui.screens.confirm import ConfirmModal

    class Running:  # what the app asks of a run: running, cancel, and its status-line words
        running, cancelled = True, False

        def cancel(self):
            self.cancelled = True

        def short_status(self):
            return "training 10%"

    store = Store(tmp_path / "db.sqlite3")
    chat = ThauApp(ConfigResult(Config(), None, []), store=store, backend=ScriptedBackend([]), watch=False)
    async with chat.run_test(size=(120, 40)) as pilot:
        chat.training_run = run = Running()
        await pilot.press("ctrl+q")
        await pilot.pause(1.1)  # the status line's one-second look at the run comes by too
        assert isinstance(chat.screen, ConfirmModal)
        depth = len(chat.screen_stack)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert len(chat.screen_stack) == depth
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(chat.screen, ConfirmModal) and chat.is_running and not run.cancelled
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
        assert run.cancelled
    assert not chat.is_running


async def test_the_runs_keys_are_dimmed_until_there_is_a_run_to_act_on(tmp_path):
    """p, x, f and u were listed as working before any run existed (helper's UX review)."""
    done = script(
        tmp_path,
        "done.py",
        """
        import json
        print(json.dumps({"event": "done", "adapter": "a"}), flush=True)
    """,
    )
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await pilot.pause()

        def enabled() -> dict[str, bool]:
            return {b.binding.action: b.enabled for b in screen.active_bindings.values()}

        assert enabled()["pause"] is False and enabled()["cancel"] is False
        assert enabled()["open_folder"] is False and enabled()["use_adapter"] is False
        assert enabled()["start"] is True
        run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[done])
        screen.run = run
        await run.start()
        await asyncio.wait_for(run.wait(), 20)
        await wait_until(pilot, lambda: enabled()["use_adapter"] is True, 10, "u to be live after the run")
        assert enabled()["open_folder"] is True and enabled()["pause"] is False


async def test_before_a_run_the_log_pane_says_what_it_will_show(tmp_path):
    """The right half of the screen was an empty box until a run started (helper's tmux review)."""
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(140, 45)) as pilot:
        log = app.screen.query_one("#training-log", RichLog)
        await wait_until(pilot, lambda: log.lines, 10, "the hint drawn")
        shown = " ".join(strip.text for strip in log.lines)
        assert "The run's log appears here" in shown and "s starts a run" in shown.replace("  ", " ")
