"""The training screen's narrow footer (training review, 80x24): paused, the status line said
"p resumes" and the footer had no p; after a cancel it said "R resumes it" and the footer had
no R, while the greyed-out u (and x, with nothing to cancel) stayed. The footer's fixed drop
order did not look at which keys were dimmed: now dimmed keys go first.

The real app, a real run and a real child that prints what the trainer prints
(test_training_resume_after_cancel's PRELUDE and CANCEL_MIDWAY)."""

from __future__ import annotations

import asyncio

from scripted import ScriptedBackend
from test_app import make_app
from test_training_resume_after_cancel import CANCEL_MIDWAY, _child
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen
from thau_tui.ui.widgets.fitting_footer import FittingFooter

# A trainer that pauses between steps while the PAUSE file is there, as trainer.py does
# (_child puts test_training_resume_after_cancel's PRELUDE before it: say, checkpoint, wait_for).
PAUSES = """
say(event="start", total_steps=8, examples=8, device="cpu")
say(event="step", step=1, total_steps=8, loss=1.5, eta_s=165)
checkpoint(1)
wait_for(lambda: stop or (run / "PAUSE").exists())
if not stop:
    say(event="paused")
    wait_for(lambda: stop)
say(event="cancelled", step=1)
"""


def _last_row(app) -> str:
    return list(app.screen._compositor.render_strips())[-1].text


async def _open_training(pilot, app, run: TrainingRun) -> TrainingScreen:
    await run.start()
    app.training_run = run
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen), 5, "the training screen")
    return app.screen


async def test_paused_at_80_columns_the_footer_shows_p_not_the_dimmed_u(tmp_path):
    run_dir = tmp_path / "runs" / "tiny-smoke-1"
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=[_child(tmp_path, "train.py", PAUSES, run_dir)])
    app = make_app(tmp_path, ScriptedBackend([]), config=Config())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_training(pilot, app, run)
        await wait_until(pilot, lambda: run.step == 1, 20, "step 1")
        await pilot.press("p")
        status = screen.query_one("#training-status")
        await wait_until(pilot, lambda: "p resumes" in str(status.content), 20, "the paused line")
        await wait_until(pilot, lambda: "p Pause/resume" in _last_row(app), 5, "p in the footer")
        row = _last_row(app)
        assert "use_adapter" in screen.query_one(FittingFooter).hidden_actions(), row
        assert "p Pause/resume" in row and "x Cancel" in row, row  # what the status line names
        assert "Use adapter" not in row and "Resume last" not in row, row  # dimmed: nothing to act on
        assert "esc Back" in row and "f1 Help" in row and "^q Quit" in row, row
        run.cancel()
        await asyncio.wait_for(run.wait(), 20)


async def test_after_a_cancel_at_80_columns_the_footer_shows_r_not_the_dimmed_x_and_u(tmp_path):
    run_dir = tmp_path / "runs" / "tiny-smoke-2"
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=[_child(tmp_path, "train.py", CANCEL_MIDWAY, run_dir)])
    app = make_app(tmp_path, ScriptedBackend([]), config=Config())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_training(pilot, app, run)
        await wait_until(pilot, lambda: run.step == 4, 20, "step 4")
        await pilot.press("x")
        await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question")
        await pilot.press("y")
        await asyncio.wait_for(run.wait(), 20)
        status = screen.query_one("#training-status")
        await wait_until(pilot, lambda: "R resumes it" in str(status.content), 10, "the cancelled line")
        await wait_until(pilot, lambda: "R Resume last" in _last_row(app), 5, "R in the footer")
        row = _last_row(app)
        assert "R Resume last" in row and "s Start" in row, row
        assert "x Cancel" not in row and "Use adapter" not in row and "Pause" not in row, row
        assert "esc Back" in row and "f1 Help" in row and "^q Quit" in row, row
