"""R on the run just cancelled in this window, and a pause that outlived its step (UX review,
T1 and T2). A cancel that landed in training's last step let the trainer finish it and say
`done`; the run stopped before the scoring after training (which exports adapter.gguf), said
"Cancelled", and R did nothing and said nothing until thau restarted. A pause asked for at
training's last step paused the scoring after training instead.

The children are small scripts that print what the trainer prints and write what it writes
in the run folder, so the screen, the run and the run folder are all real."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Label, RichLog, Static
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.train.runs import last_run
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen

PRELUDE = """
import json, os, pathlib, signal, sys, time
run = pathlib.Path(sys.argv[1])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
def say(**event):
    print(json.dumps(event), flush=True)
def checkpoint(step):
    folder = run / "checkpoints" / f"step-{step}"
    folder.mkdir(parents=True)
    (folder / "trainer_state.pt").write_bytes(b"")
    say(event="checkpoint", step=step, path=str(folder))
def wait_for(condition):  # and no longer than the test: a failed one left children waiting forever
    parent, deadline = os.getppid(), time.monotonic() + 60
    while not condition() and os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.05)
(run / "recipe.yaml").write_text("name: tiny-smoke\\n")
"""

# The review's tiny-smoke: the cancel lands during step 2 of 2, which the trainer finishes.
CANCEL_IN_LAST_STEP = """
say(event="start", total_steps=2, examples=8, device="cpu")
say(event="step", step=1, total_steps=2, loss=1.86)
wait_for(lambda: stop)
say(event="step", step=2, total_steps=2, loss=1.49)
checkpoint(2)
say(event="done", adapter=str(run / "adapter"), summary={"steps": 2, "cancelled": False})
"""

# The review's 8-step run, cancelled at 4/8: the trainer saves a checkpoint and says so.
CANCEL_MIDWAY = """
say(event="start", total_steps=8, examples=8, device="cpu")
for step in range(1, 5):
    say(event="step", step=step, total_steps=8, loss=1.5)
wait_for(lambda: stop)
checkpoint(4)
say(event="cancelled", step=4, adapter=str(run / "adapter"))
"""

# The scoring after training: it exports adapter.gguf, and waits while PAUSE is there.
SCORE_AFTER = """
if (run / "PAUSE").exists():
    say(event="paused")
    wait_for(lambda: stop or not (run / "PAUSE").exists())
say(event="eval_progress", stage="after", done=1, total=1, eta_s=0)
(run / "adapter.gguf").write_bytes(b"GGUF")
say(event="scores", stage="after", scores={"overall": 0.5})
"""

# Training's last step, under way when p is pressed: it ends without pausing.
LAST_STEP_THEN_PAUSE = """
say(event="start", total_steps=2, examples=8, device="cpu")
say(event="step", step=1, total_steps=2, loss=1.86)
wait_for(lambda: (run / "PAUSE").exists())
say(event="step", step=2, total_steps=2, loss=1.49)
checkpoint(2)
say(event="done", adapter=str(run / "adapter"), summary={"steps": 2})
"""


class HostApp(App):
    """A one-screen host that holds the run, as the real app does."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.training_run = None
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())


def _child(tmp_path: Path, name: str, body: str, run_dir: Path) -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(PRELUDE) + textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path), str(run_dir)]


def _config(runs: Path) -> Config:
    config = Config()
    config.train.runs_dir = str(runs)
    return config


@pytest.mark.parametrize(
    ("trainer", "at", "said"),
    [
        (
            CANCEL_IN_LAST_STEP,
            "step 1/2",
            "Cancelled after the training finished (not scored or exported); R finishes it",
        ),
        (CANCEL_MIDWAY, "step 4/8", "Cancelled (a checkpoint was saved); R resumes it"),
    ],
    ids=["cancel-in-last-step", "cancel-at-4-of-8"],
)
async def test_r_resumes_the_run_just_cancelled_in_this_window(tmp_path, monkeypatch, trainer, at, said):
    runs = tmp_path / "runs"
    run_dir = runs / "tiny-smoke-20261207-142838"
    commands = [_child(tmp_path, "train.py", trainer, run_dir), _child(tmp_path, "score.py", SCORE_AFTER, run_dir)]
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=commands)
    config = _config(runs)
    app = HostApp(lambda: TrainingScreen(config, run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        app.training_run = run
        step = screen.query_one("#training-step", Label)
        await wait_until(pilot, lambda: str(step.content) == at, 20, at)
        assert screen.check_action("resume_last", ()) is None  # dimmed while it runs
        await pilot.press("x")
        await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question")
        await pilot.press("y")
        await asyncio.wait_for(run.wait(), 20)
        assert run.status == "cancelled"
        assert not (run_dir / "adapter.gguf").exists()  # the scoring after training did not run

        status = screen.query_one("#training-status", Static)
        await wait_until(pilot, lambda: str(status.content).startswith(said), 10, "the cancelled line")
        assert screen.check_action("resume_last", ()) is True  # R offered in the footer
        started: list[TrainingRun] = []

        async def start(self) -> None:  # what would run is the point; the script is not a trainer
            started.append(self)

        monkeypatch.setattr(TrainingRun, "start", start)
        await pilot.press("R")
        await wait_until(pilot, lambda: started, 5, "the resumed run")
        resumed = started[0]
        assert resumed.resume and resumed.run_dir == run_dir and resumed.recipe == run_dir / "recipe.yaml"
        assert any("--resume" in command for command in resumed.commands)

    # after a restart the run is named as unfinished and R offers it, as in this window
    found = last_run(runs)
    assert found is not None and found[0] == run_dir and found[1] != "finished" and found[2], found


async def test_a_pause_asked_for_in_the_last_step_does_not_pause_the_next_one(tmp_path, notices):
    run_dir = tmp_path / "run"
    commands = [
        _child(tmp_path, "train.py", LAST_STEP_THEN_PAUSE, run_dir),
        _child(tmp_path, "score.py", SCORE_AFTER, run_dir),
    ]
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=commands)
    app = HostApp(lambda: TrainingScreen(Config(), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        app.training_run = run
        step = screen.query_one("#training-step", Label)
        await wait_until(pilot, lambda: str(step.content) == "step 1/2", 20, "step 1/2")
        await pilot.press("p")
        await wait_until(pilot, lambda: "Pausing after this step" in notices.text(), 5, "the pause notice")
        # it paused the scoring after training, which then waited for p forever
        await asyncio.wait_for(run.wait(), 20)
        assert run.status == "done", list(run.log)
        assert (run_dir / "adapter.gguf").is_file() and not (run_dir / "PAUSE").exists()
        log = screen.query_one("#training-log", RichLog)  # wrapped to the pane: joined, then looked at
        await wait_until(
            pilot,
            lambda: (
                "ended before the pause took effect; not paused"
                in " ".join(" ".join(str(line.text) for line in log.lines).split())
            ),
            10,
            "the log saying why it did not pause",
        )
