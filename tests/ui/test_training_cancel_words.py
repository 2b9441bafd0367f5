"""What the training screen says when a run is cancelled (UX review, F3): the question before
it promised a checkpoint while the run folder held only eval-before.jsonl, and after it the
stage, the count and the ETA stayed as if the run went on, over a log that ended with a raw
"ended with code -15"."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

from textual.app import App
from textual.widgets import Label, RichLog, Static
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.train.run_sentences import cancel_question
from thau_tui.train.runs import STEP_TRAIN
from thau_tui.train.training_run import RunState
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen

# R first, the screen's own key: the question named only the command-line tool (training review)
CHECKPOINT_STAYS = "Its last checkpoint stays: R on the training screen (or thau train --resume) goes on."

# A scorer at its first of 32 cases, as the review's run was five seconds in: then it waits
# for the cancel (SIGTERM, which it does not catch, as evaluate.py does not).
SCORING = textwrap.dedent(
    """
    import json, time
    def say(**event):
        print(json.dumps(event), flush=True)
    say(event="log", message="scoring the eval split before training…")
    say(event="eval_progress", stage="before", done=1, total=32, eta_s=298.0)
    time.sleep(60)
    """
)


class HostApp(App):
    """A one-screen host that holds the run, as the real app does."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.training_run = None
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())


def _child(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]


async def test_cancelling_while_scoring_before_training_promises_nothing_and_says_cancelled(tmp_path, notices):
    run = TrainingRun(tmp_path / "r.yaml", tmp_path / "run", commands=[_child(tmp_path, "score.py", SCORING)])
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        app.training_run = run
        step = screen.query_one("#training-step", Label)
        await wait_until(pilot, lambda: str(step.content) == "Scoring before training 1/32", 20, "the first case")
        await pilot.press("x")
        await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question")
        question = app.screen.question
        assert "Nothing is saved yet" in question, question
        assert "checkpoint stays" not in question and "goes on" not in question
        await pilot.press("y")
        await asyncio.wait_for(run.wait(), 20)
        assert run.status == "cancelled"
        assert not list((tmp_path / "run").glob("checkpoints/*"))  # what the question said
        assert "Cancelling." in notices.text() and "saves a checkpoint" not in notices.text()

        stats = screen.query_one("#training-stats", Label)
        steps = screen.query_one("#training-steps", Static)
        # drawn on the screen's refresh tick, which a loaded machine can delay past a fixed pause
        await wait_until(pilot, lambda: str(step.content).endswith(": cancelled"), 10, "the count marked cancelled")
        assert str(step.content) == "Scoring before training 1/32: cancelled"
        assert "ETA" not in str(stats.content)
        shown = str(steps.content)
        assert "▶" not in shown and "(cancelled)" in shown, shown
        assert str(screen.query_one("#training-status", Static).content).startswith("Cancelled —")
        log = screen.query_one("#training-log", RichLog)
        drawn = " ".join(strip.text for strip in log.lines)
        assert "scoring before training: cancelled after" in drawn, drawn
        assert "code -15" not in drawn and "code -15" not in " ".join(run.log)


async def test_a_child_that_dies_on_its_own_keeps_its_exit_code_in_the_log(tmp_path):
    """Only a cancel reads as "cancelled": a crash is still said with its code (training review)."""
    run = TrainingRun(
        tmp_path / "r.yaml", tmp_path / "run", commands=[_child(tmp_path, "die.py", "raise SystemExit(3)")]
    )
    await run.start()
    await asyncio.wait_for(run.wait(), 20)
    assert run.status == "failed"
    assert any("ended with code 3 after" in line for line in run.log), list(run.log)
    assert not any("cancelled" in line for line in run.log)
    assert not run.step_line().endswith("cancelled")


def test_the_cancel_question_says_what_stays_at_each_point_of_a_run(tmp_path):
    """Before the trainer starts nothing is saved and --resume refuses (no recipe.yaml in the
    folder); once it started but trained no step, --resume would train over from step 0; past
    a step, or with a checkpoint on disk (a resumed run building its data), it stays."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    state = RunState(run_dir)
    state.begin_step("building the data set")
    assert cancel_question(state).endswith(
        "Nothing is saved yet, so there is nothing to resume: s starts the run again."
    )

    state.begin_step(STEP_TRAIN)
    (run_dir / "recipe.yaml").write_text("name: r\n", encoding="utf-8")  # the trainer writes it first
    said = cancel_question(state)
    assert said.startswith("Cancel the training run (step 0)?") and "Nothing is saved yet" in said
    assert "start its training over from step 0" in said

    state.apply({"event": "step", "step": 3, "total_steps": 10, "loss": 1.0})
    assert cancel_question(state).endswith(CHECKPOINT_STAYS)

    resumed = RunState(run_dir)  # a new window's run on the same folder, before its first step
    resumed.begin_step("building the data set")
    (run_dir / "checkpoints" / "step-20").mkdir(parents=True)
    (run_dir / "checkpoints" / "step-20" / "trainer_state.pt").write_bytes(b"state")
    assert cancel_question(resumed).endswith(CHECKPOINT_STAYS)

    resumed.begin_step("scoring after training")
    assert cancel_question(resumed).endswith("The trained adapter stays, not scored.")
