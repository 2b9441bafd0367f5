"""What the training screen and the quit question say about a paused run (training review,
2026-12-07): "ETA 2:45" stayed beside "Paused", a clock that was not running; the question on
Ctrl+Q said "Training is running" while it was paused, and named only `thau train --resume`
where R on the training screen goes on with the run.

The real app, a real run and a real child that pauses as the trainer does
(test_footer_drops_disabled's PAUSES)."""

from __future__ import annotations

import asyncio

from scripted import ScriptedBackend
from test_app import make_app
from test_footer_drops_disabled import PAUSES
from test_training_resume_after_cancel import _child
from textual.widgets import Label, Static
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen


async def _paused(pilot, app, tmp_path) -> tuple[TrainingScreen, TrainingRun]:
    """The training screen over a run paused after its first step (ETA 165 s then)."""
    run_dir = tmp_path / "runs" / "tiny-smoke-1"
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=[_child(tmp_path, "train.py", PAUSES, run_dir)])
    await run.start()
    app.training_run = run
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen), 5, "the training screen")
    screen = app.screen
    stats = screen.query_one("#training-stats", Label)
    await wait_until(pilot, lambda: "ETA 2:45" in str(stats.content), 20, "step 1 with its ETA")
    await pilot.press("p")
    status = screen.query_one("#training-status", Static)
    await wait_until(pilot, lambda: "p resumes" in str(status.content), 20, "the paused line")
    return screen, run


async def test_a_paused_run_shows_no_eta(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]), config=Config())
    async with app.run_test(size=(140, 40)) as pilot:
        screen, run = await _paused(pilot, app, tmp_path)
        await pilot.pause(0.3)  # a redraw or two after the pause
        shown = str(screen.query_one("#training-stats", Label).content)
        assert "ETA" not in shown and "loss 1.5000" in shown, shown  # the numbers stay, the clock goes
        run.cancel()
        await asyncio.wait_for(run.wait(), 20)


async def test_quitting_while_paused_names_r_and_does_not_say_running(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]), config=Config())
    async with app.run_test(size=(140, 40)) as pilot:
        _, run = await _paused(pilot, app, tmp_path)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the quit question")
        question = app.screen.question
        assert "R on the training screen (or thau train --resume) goes on" in question, question
        assert "running" not in question, question  # it is paused
        await pilot.press("n")
        await pilot.pause()
        assert run.running  # no: the run goes on (paused)
        run.cancel()
        await asyncio.wait_for(run.wait(), 20)
