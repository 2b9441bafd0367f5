"""The training screen driven by pilot: a real trainer run, and a scripted child for the ending."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Label, ProgressBar, Static
from tiny_training import tiny_recipe
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen


class HostApp(App):
    """A one-screen host that holds the run, as the real app does."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.training_run = None
        self.training_recipe = None
        self.used: list[TrainingScreen.UseAdapter] = []
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())

    def on_training_screen_use_adapter(self, message: TrainingScreen.UseAdapter) -> None:
        self.used.append(message)


SCRIPT = textwrap.dedent(
    """
    import json, sys, time, pathlib
    run = pathlib.Path(sys.argv[1])
    def say(**event):
        print(json.dumps(event), flush=True)
    say(event="start", run_dir=str(run), total_steps=4, device="cpu", examples=8)
    for step in range(1, 5):
        say(event="step", step=step, total_steps=4, epoch=step / 4, loss=2.0 / step, lr=1e-4,
            tokens_per_s=120.0, eta_s=4 - step, elapsed_s=step)
        if step == 2:
            say(event="eval", step=2, eval_loss=1.5)
        time.sleep(0.05)
    print("a plain line", file=sys.stderr, flush=True)
    (run / "adapter.gguf").write_bytes(b"GGUF")
    scores = lambda o: {"n": 10, "call_cases": 8, "no_call_cases": 2, "overall": o, "exact_match": o}
    summary = {"before": scores(0.2), "after": scores(0.7), "steps": 4, "adapter_gguf": str(run / "adapter.gguf")}
    (run / "summary.json").write_text(json.dumps(summary))
    say(event="done", run_dir=str(run), adapter=str(run / "adapter"), summary=summary)
    """
)


def _scripted_run(tmp_path: Path) -> TrainingRun:
    """A run whose one child prints SCRIPT's events: 4 steps, then scores 0.2 -> 0.7."""
    script = tmp_path / "child.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return TrainingRun(
        tmp_path / "r.yaml", tmp_path / "run", commands=[[sys.executable, str(script), str(tmp_path / "run")]]
    )


async def _finish(pilot, run: TrainingRun):
    """Run it to its end and wait for the screen's results table; the screen."""
    await run.start()
    await wait_until(pilot, lambda: run.status == "done", 30, "the scripted run to finish")
    await run.wait()
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.query_one("#training-results").display, 5, "the results table")
    return screen


async def test_scripted_run_shows_progress_results_and_offers_the_adapter(tmp_path):
    run = _scripted_run(tmp_path)
    bare = Config()
    bare.model.lora_path = "none"  # the chat runs the bare model: the run started from what it runs
    app = HostApp(lambda: TrainingScreen(bare, run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _finish(pilot, run)
        assert str(screen.query_one("#training-step", Label).content) == "step 4/4"
        assert screen.query_one("#training-progress", ProgressBar).percentage == 1.0
        assert screen.plotted_points == 5  # 4 train losses + 1 eval loss
        assert run.eval_losses == [(2, 1.5)]
        assert "a plain line" in run.log
        table = screen.query_one("#eval-table", DataTable)
        overall = [table.get_row_at(i) for i in range(table.row_count) if table.get_row_at(i)[0] == "overall"][0]
        assert overall[1:] == ["0.200", "0.700", "+0.500"]
        assert "beats the base model" in str(screen.query_one("#adapter-verdict", Static).content)
        await pilot.press("u")
        await pilot.pause()
        assert app.used and app.used[0].path == tmp_path / "run" / "adapter.gguf" and app.used[0].better


async def test_a_run_that_did_not_start_from_the_chats_default_is_not_offered_as_the_default(tmp_path):
    """A run from the bare model that beat the bare model (0.2 -> 0.7) replaced the shipped
    adapter, which scores far higher, as the default: it was never measured against it (re-review)."""
    run = _scripted_run(tmp_path)
    app = HostApp(lambda: TrainingScreen(Config(), run=run))  # lora_path auto: the shipped adapter
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _finish(pilot, run)
        said = str(screen.query_one("#adapter-verdict", Static).content)
        assert "thau-smollm2-135m-tools.lora.gguf, which it was not measured against" in said, said
        await pilot.press("u")
        await pilot.pause()
        assert app.used and not app.used[0].better


async def test_closing_the_screen_keeps_the_run_and_reopening_reattaches(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(
        "import json, time\n"
        "print(json.dumps({'event': 'start', 'run_dir': 'x', 'total_steps': 100, 'device': 'cpu',"
        " 'examples': 1}), flush=True)\n"
        "for i in range(1, 101):\n"
        "    print(json.dumps({'event': 'step', 'step': i, 'total_steps': 100, 'loss': 1.0,"
        " 'epoch': 0.0}), flush=True)\n"
        "    time.sleep(0.3)\n",  # 30 s: still running when the test looks, on a loaded machine too
        encoding="utf-8",
    )
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[[sys.executable, str(script)]])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(120, 40)) as pilot:
        await run.start()
        app.training_run = run
        await wait_until(pilot, lambda: run.step >= 3, 20, "a few steps")
        await pilot.press("escape")  # back: the screen goes, the run does not
        await pilot.pause(0.3)
        assert not isinstance(app.screen, TrainingScreen)
        seen = run.step
        await wait_until(pilot, lambda: run.step > seen, 20, "steps while the screen is closed")
        assert run.running
        app.push_screen(TrainingScreen(Config()))  # no run passed: it finds the app's
        await pilot.pause(0.5)
        assert app.screen.run is run
        assert app.screen.plotted_points > seen
        await pilot.press("x")  # one key stopped the run at once (keyboard review): it asks first
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmModal" and "Cancel the training run" in app.screen.question
        await pilot.press("n")
        await pilot.pause(0.3)
        assert run.running
        await pilot.press("x", "y")
        await asyncio.wait_for(run.wait(), 20)
        assert not run.running and run.status == "cancelled"


async def test_bad_recipe_is_reported_not_started(tmp_path, notices):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rank: many\n", encoding="utf-8")
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config, recipe=bad))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.run is None and app.training_run is None
        assert notices.any("rank")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow  # the real trainer (torch) on a tiny model
async def test_real_trainer_run_from_the_screen(tmp_path):
    recipe = tiny_recipe(tmp_path)
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config, recipe=recipe, score=False))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        run = app.training_run
        assert run is not None and app.screen.run is run and run.running
        screen = app.screen
        await wait_until(pilot, lambda: screen.plotted_points >= 1, 240, "the first step on the plot")
        assert str(screen.query_one("#training-step", Label).content) in ("step 1/2", "step 2/2")
        assert screen.query_one("#training-progress", ProgressBar).total == 2
        await asyncio.wait_for(run.wait(), 240)
        assert run.status == "done", run.log
        step = screen.query_one("#training-step", Label)
        await wait_until(pilot, lambda: str(step.content) == "step 2/2", 10, "the last step drawn")
        assert [step for step, _ in run.train_losses] == [1, 2]
        assert run.eval_losses and screen.plotted_points == len(run.train_losses) + len(run.eval_losses)
        assert (run.run_dir / "adapter" / "adapter_config.json").is_file()
        assert run.run_dir.parent == tmp_path / "runs"


async def test_a_failed_runs_error_is_shown_as_written(tmp_path):
    """A trainer's error often quotes brackets ("expected [0, 1]", "[/b]" in a recipe
    value): read as markup, the status line lost them or raised a MarkupError."""
    script = tmp_path / "child.py"
    message = "shares must add to 1 [0.5, 0.4] in kind_shares[/b]"
    script.write_text(f"import json\nprint(json.dumps({{'event': 'error', 'message': {message!r}}}), flush=True)\n")
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[[sys.executable, str(script)]])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        await run.start()
        await wait_until(pilot, lambda: run.status == "failed", 30, "the run to fail")
        await run.wait()
        status = app.screen.query_one("#training-status", Static)
        await wait_until(pilot, lambda: "Failed" in str(status.render()), 5, "the status line")
        assert f"Failed: {message}" in str(status.render())


async def test_a_runs_folder_that_cannot_be_made_is_reported_not_a_crash(tmp_path, notices):
    """train.runs_dir on a read-only or full disk: making the run folder raised out of the
    s key's action, which ended the app."""
    blocked = tmp_path / "runs"
    blocked.write_text("a file where the runs folder should be")
    config = Config()
    config.train.runs_dir = str(blocked)
    app = HostApp(lambda: TrainingScreen(config, recipe=tiny_recipe(tmp_path)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: notices.any("train.runs_dir"), 10, "the notice")
        assert app.is_running and app.training_run is None


def test_a_cancelled_run_mentions_a_checkpoint_only_when_one_was_saved(tmp_path):
    """Cancelled while scoring before training, the screen said "a checkpoint was saved";
    the run folder held only eval-before.jsonl (helper's UX review)."""
    from thau_tui.train.training_run import RunState
    from thau_tui.ui.screens.training_lines import status_line

    run = RunState(tmp_path / "run")
    run.begin_step("score before")
    run.status = "cancelled"
    line = status_line(run)
    assert line.startswith("Cancelled —") and "checkpoint" not in line
    run.apply({"event": "checkpoint", "step": 20, "path": str(tmp_path / "run" / "checkpoint-20")})
    assert status_line(run).startswith("Cancelled (a checkpoint was saved)")


def test_the_export_step_is_said_as_the_export_not_training_at_100_percent(tmp_path):
    """The export child (`--no-score` runs) was taken for scoring: the chat's status line said
    "training 100%" and the screen's step line "step 2/2" while the GGUF was written."""
    from thau_tui.train.runs import STEP_EXPORT
    from thau_tui.train.training_run import RunState
    from thau_tui.ui.screens.training_lines import status_line

    run = RunState(tmp_path / "run")
    run.total_steps = run.step = 2
    run.begin_step(STEP_EXPORT)
    assert run.active and run.short_status() == "training: exporting the adapter"
    assert run.step_line() == "Exporting the adapter to GGUF"
    assert status_line(run).startswith("Exporting the adapter to GGUF…")


async def test_a_recipe_picked_is_kept_when_the_screen_opens_again(tmp_path):
    """The screen went back to the configured recipe each time it opened, and s then started
    that one (480 steps on 2 cores) instead of the one picked (keyboard review)."""
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text("name: tiny\nbase_model: bundled\nmax_steps: 2\neval_examples: 2\n", encoding="utf-8")
    app = HostApp(lambda: TrainingScreen(Config()))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.screen.recipe != tiny
        app.screen.use_recipe(tiny)
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(TrainingScreen(Config()))
        await pilot.pause()
        assert app.screen.recipe == tiny
        assert "tiny" in str(app.screen.query_one("#training-recipe").content)


async def test_after_a_restart_the_screen_names_the_last_run_and_resumes_it(tmp_path, monkeypatch):
    """Opened after a restart, the screen said 'No run yet' beside a cancelled run with a
    checkpoint, and only `thau train --resume` could go on with it (training review)."""
    import json

    runs = tmp_path / "runs"
    run_dir = runs / "tiny-20261207-0100"
    (run_dir / "checkpoints" / "step-5").mkdir(parents=True)
    (run_dir / "checkpoints" / "step-5" / "trainer_state.pt").write_bytes(b"")
    (run_dir / "recipe.yaml").write_text("name: tiny\n")
    events = [{"event": "start", "total_steps": 40}] + [{"event": "step", "step": n} for n in range(1, 6)]
    events.append({"event": "cancelled", "step": 5})
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    started: list[TrainingRun] = []

    async def start(self) -> None:  # no children: what would run is the point
        started.append(self)

    monkeypatch.setattr(TrainingRun, "start", start)
    config = Config()
    config.train.runs_dir = str(runs)
    app = HostApp(lambda: TrainingScreen(config))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        log = " ".join(" ".join(str(line.text) for line in screen.query_one("#training-log").lines).split())
        assert "Last run: tiny-20261207-0100, cancelled at step 5 of 40. R resumes it" in log, log
        assert "or R to resume the last" in str(screen.query_one("#training-status", Static).content)
        await pilot.press("R")
        await wait_until(pilot, lambda: started, 5, "the resumed run")
        run = started[0]
        assert run.resume and run.run_dir == run_dir and any("--resume" in c for c in run.commands)
    # a run another process trains now is named as such, and R does not offer it (rereview2)
    from run_lock import held_by_another

    with held_by_another(run_dir):
        started.clear()
        app = HostApp(lambda: TrainingScreen(config))
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            log = " ".join(" ".join(str(line.text) for line in screen.query_one("#training-log").lines).split())
            assert "tiny-20261207-0100, being trained now by another process." in log, log
            assert "resume" not in str(screen.query_one("#training-status", Static).content)
            await pilot.press("R")
            await pilot.pause(0.3)
            assert not started


async def test_the_screen_without_a_run_does_not_redraw_four_times_a_second(tmp_path, monkeypatch):
    """With no run, the idle line and the bar were drawn again every 0.25 s: 3.9 % of a core
    against 0.9 % for the chat (soak review)."""
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        drawn: list[str] = []
        status = screen.query_one("#training-status", Static)
        real = status.update
        monkeypatch.setattr(status, "update", lambda *a, **k: (drawn.append("status"), real(*a, **k))[1])
        await pilot.pause(1.5)  # six ticks of the refresh timer
        assert drawn == [], drawn
        screen.use_recipe(screen.recipe)  # a new recipe: the idle line names it, drawn once
        await pilot.pause(0.6)
        assert drawn == ["status"], drawn


async def test_the_idle_log_shows_its_start_on_a_small_terminal(tmp_path):
    """At 60x16 the idle hint began mid-sentence ("built, each step's loss..."): the log
    scrolled to its end (narrow-terminal review)."""
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config))
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause(0.5)
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "The run's log" in screen, screen


async def test_cancelling_while_it_scores_after_training_does_not_promise_a_resume(tmp_path):
    """ "Its last checkpoint stays: thau train --resume goes on" while it scored after training,
    when the adapter was made and there was nothing to resume (train CLI review)."""
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[[sys.executable, str(script)]])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(120, 40)) as pilot:
        await run.start()
        app.training_run = run
        await pilot.pause(0.5)  # the run names its first child's step once it starts it
        run.step_name = "scoring after training"
        await pilot.press("x")
        await pilot.pause()
        question = app.screen.question
        assert "The trained adapter stays, not scored." in question and "--resume" not in question
        await pilot.press("y")
        await asyncio.wait_for(run.wait(), 20)


async def test_a_dimmed_key_pressed_says_why_it_has_nothing_to_do(tmp_path, notices):
    """R, p, x, f and u are dimmed in the footer with no run, and Textual does not run a dimmed
    key: pressed, they said nothing at all (new-user review, 2026-12-07 night)."""
    config = Config()
    config.train.runs_dir = str(tmp_path / "runs")
    app = HostApp(lambda: TrainingScreen(config, recipe=tiny_recipe(tmp_path)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.run is None
        for key, said in (
            ("p", "No run is going."),
            ("x", "No run is going."),
            ("f", "No run yet: start one with s."),
            ("u", "No finished run yet"),
            ("R", "Nothing to resume"),
        ):
            before = len(notices)
            await pilot.press(key)
            await pilot.pause()
            assert len(notices) == before + 1 and said in notices[-1].message, (key, notices[before:])
        assert app.screen.run is None and not (tmp_path / "runs").exists()
