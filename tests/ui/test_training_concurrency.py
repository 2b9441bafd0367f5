"""The training screen beside other processes and after a restart (concurrency review,
2026-12-07 evening): s beside another window's trainer, a run killed while it scored after
training, and the plot of a resumed run.

Run folders are written by hand as the trainer and the scorer leave them; the lock another
trainer holds is a real child process (run_lock); the children a run starts are small scripts,
or the real scorer where its failure is the point."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Static
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.train.evaluate import score_command
from thau_tui.ui.screens import training
from thau_tui.ui.screens.training import TrainingRun, TrainingScreen


class HostApp(App):
    """A one-screen host that holds the run, as the real app does."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.training_run = None
        self.training_recipe = None
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())


def _config(runs: Path) -> Config:
    config = Config()
    config.train.runs_dir = str(runs)
    return config


def _log(screen) -> str:
    return " ".join(" ".join(str(line.text) for line in screen.query_one("#training-log").lines).split())


def _events(run_dir: Path, events: list[dict]) -> None:
    with (run_dir / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(e) + "\n" for e in events)


def _checkpoint(run_dir: Path, step: int) -> None:
    folder = run_dir / "checkpoints" / f"step-{step}"
    folder.mkdir(parents=True)
    (folder / "trainer_state.pt").write_bytes(b"")


# --- 1. s while another process trains in the runs folder --------------------------------


async def test_s_asks_first_while_another_process_trains_in_the_runs_folder(tmp_path, monkeypatch):
    """Window A trained; window B's s started a second trainer on the same cores, with no word."""
    from run_lock import held_by_another

    runs = tmp_path / "runs"
    other = runs / "tiny-smoke-20261207-2100"
    other.mkdir(parents=True)
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(f"name: tiny\nbase_model: bundled\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    started: list[TrainingRun] = []

    async def start(self) -> None:  # no children: whether it starts is the point
        started.append(self)

    monkeypatch.setattr(TrainingRun, "start", start)
    with held_by_another(other):
        app = HostApp(lambda: TrainingScreen(_config(runs), recipe=recipe))
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            assert "being trained now by another process" in _log(screen)
            await pilot.press("s")
            await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question")
            question = app.screen.question
            assert "Another process is training tiny-smoke-20261207-2100 now" in question, question
            assert "A run with tiny" in question and "same CPU cores" in question
            assert not started
            await pilot.press("n")  # no: nothing starts
            await wait_until(pilot, lambda: app.screen is screen, 5, "the question to close")
            assert not started and screen.run is None
            await pilot.press("s")
            await wait_until(pilot, lambda: hasattr(app.screen, "question"), 5, "the question again")
            await pilot.press("y")
            await wait_until(pilot, lambda: started, 5, "the run, after a yes")
            assert started[0].run_dir.parent == runs and started[0].run_dir != other
    # the other trainer gone (its lock with it): s starts at once, as before
    started.clear()
    app = HostApp(lambda: TrainingScreen(_config(runs), recipe=recipe))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: started, 5, "the run, with no question")
        assert not hasattr(app.screen, "question")


# --- 2. killed while it scored after training ----------------------------------------------


def _killed_while_scoring(runs: Path, data: Path) -> Path:
    """A tiny-smoke run folder as thau killed at "Scoring after training (loading the model)"
    leaves it: trained (metrics end in done, a checkpoint), exported (adapter.gguf: the scorer
    exports first), scored before, and an empty eval-after.jsonl; no "after" in summary.json."""
    run = runs / "smoke-20261207-2130"
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"name: smoke\nbase_model: bundled\ndata_dir: {data}\n", encoding="utf-8")
    _events(run, [{"event": "start", "total_steps": 2}, {"event": "step", "step": 1, "loss": 1.9}])
    _events(run, [{"event": "step", "step": 2, "loss": 1.5}, {"event": "done", "adapter": str(run / "adapter")}])
    _checkpoint(run, 2)
    (run / "adapter.gguf").write_bytes(b"GGUF")
    (run / "eval-after.jsonl").write_bytes(b"")
    before = {"n": 4, "call_cases": 3, "no_call_cases": 1, "overall": 0.25}
    (run / "summary.json").write_text(json.dumps({"steps": 2, "before": before}), encoding="utf-8")
    return run


SCORE_AFTER = """
import json, pathlib, sys
run = pathlib.Path(sys.argv[1])
scores = {"n": 4, "call_cases": 3, "no_call_cases": 1, "overall": 0.75}
summary = json.loads((run / "summary.json").read_text())
summary["after"] = scores
(run / "summary.json").write_text(json.dumps(summary))
print(json.dumps({"event": "eval_progress", "stage": "after", "done": 4, "total": 4}), flush=True)
print(json.dumps({"event": "scores", "stage": "after", "scores": scores}), flush=True)
"""


async def test_a_run_killed_while_scoring_after_training_is_not_finished_and_r_scores_it(tmp_path, monkeypatch):
    """After a restart it read "Last run: smoke-..., finished." with no score after training."""
    runs = tmp_path / "runs"
    run_dir = _killed_while_scoring(runs, tmp_path / "data")
    script = tmp_path / "score_after.py"
    script.write_text(SCORE_AFTER, encoding="utf-8")
    asked: list[tuple] = []

    def scorer(*args):  # the real command, then a script that scores as it would (no model here)
        asked.append((args, score_command(*args)))
        return [sys.executable, str(script), str(run_dir)]

    monkeypatch.setattr(
        training, "score_command", scorer, raising=False
    )  # raising: fails on what it says, before the fix
    app = HostApp(lambda: TrainingScreen(_config(runs), score_limit=4))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        log = _log(screen)
        assert "finished" not in log, log
        assert "smoke-20261207-2130, trained, but its scoring after training was cut short" in log, log
        assert "R scores it again." in log
        assert ".." not in log and "R resumes it" not in log, log  # R scores; it did not resume too (diff review)
        assert screen.check_action("resume_last", ()) is True
        await pilot.press("R")
        await wait_until(pilot, lambda: screen.run is not None and screen.run.status == "done", 20, "the scoring")
        run = screen.run
        ((args, real),) = asked
        assert args == (run_dir, "after", None, 4)
        assert real[1:3] == ["-m", "thau_tui.train.evaluate"] and "--resume" not in real  # the scoring alone
        assert run.run_dir == run_dir and len(run.commands) == 1  # no trainer loading the model to train nothing
        await wait_until(pilot, lambda: screen.query_one("#training-results").display, 5, "the results")
        table = screen.query_one("#eval-table", DataTable)
        assert [str(c) for c in table.get_row_at(table.row_count - 1)] == ["overall", "0.250", "0.750", "+0.500"]


async def test_a_scoring_that_fails_in_this_window_is_not_done(tmp_path):
    """The run said "Done" when its scoring after training ended without scores (here the real
    scorer, which finds no eval cases; a killed one ends the same way), and R did nothing."""
    run_dir = tmp_path / "runs" / "smoke-20261207-2140"
    run_dir.mkdir(parents=True)
    trainer = tmp_path / "train.py"
    trainer.write_text(
        textwrap.dedent(
            """
            import json, pathlib, sys
            run = pathlib.Path(sys.argv[1])
            (run / "recipe.yaml").write_text(f"name: smoke\\nbase_model: bundled\\ndata_dir: {run.parent / 'none'}\\n")
            (run / "adapter.gguf").write_bytes(b"GGUF")
            print(json.dumps({"event": "start", "total_steps": 1}), flush=True)
            print(json.dumps({"event": "step", "step": 1, "loss": 1.2}), flush=True)
            print(json.dumps({"event": "done", "adapter": str(run / "adapter")}), flush=True)
            """
        ),
        encoding="utf-8",
    )
    commands = [[sys.executable, str(trainer), str(run_dir)], score_command(run_dir, "after", None, 1)]
    run = TrainingRun(tmp_path / "r.yaml", run_dir, commands=commands)
    app = HostApp(lambda: TrainingScreen(_config(run_dir.parent), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        await wait_until(pilot, lambda: not run.running, 30, "the run to end")
        status = screen.query_one("#training-status", Static)
        await wait_until(pilot, lambda: "Trained, but" in str(status.content), 5, "the status line")
        words = str(status.content)
        assert "scoring after training failed" in words and "R scores it again" in words, words
        assert not words.startswith("Done")
        assert screen.check_action("resume_last", ()) is True


# --- 3. the plot of a resumed run ------------------------------------------------------------

RESUMED = """
import json, pathlib, sys
run = pathlib.Path(sys.argv[1])
def say(**event):  # to metrics.jsonl and stdout, as the trainer does
    with (run / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps(event) + "\\n")
    print(json.dumps(event), flush=True)
say(event="start", total_steps=60, resumed_from=50)
for step in range(51, 61):
    say(event="step", step=step, total_steps=60, loss=1.0 - step / 100)
say(event="eval", step=60, eval_loss=0.5)
say(event="done", adapter=str(run / "adapter"))
"""


async def test_a_resumed_runs_plot_starts_at_step_1(tmp_path):
    """After a resume the plot showed steps 51-60, though metrics.jsonl held 1-60. The first
    go trained up to 55 and was cut short; it resumes from its checkpoint at 50, so its 51-55
    are trained again and plotted once, from the resumed run."""
    run_dir = tmp_path / "runs" / "tiny-smoke-20261207-2150"
    run_dir.mkdir(parents=True)
    (run_dir / "recipe.yaml").write_text("name: tiny-smoke\n", encoding="utf-8")
    _events(run_dir, [{"event": "start", "total_steps": 60}])
    _events(run_dir, [{"event": "step", "step": s, "loss": 3.0 - s / 100} for s in range(1, 56)])
    _events(run_dir, [{"event": "eval", "step": 25, "eval_loss": 2.0}, {"event": "eval", "step": 50, "eval_loss": 1.8}])
    _checkpoint(run_dir, 50)
    script = tmp_path / "resumed.py"
    script.write_text(RESUMED, encoding="utf-8")
    run = TrainingRun(
        run_dir / "recipe.yaml", run_dir, resume=True, commands=[[sys.executable, str(script), str(run_dir)]]
    )
    app = HostApp(lambda: TrainingScreen(_config(run_dir.parent), run=run))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await run.start()
        await wait_until(pilot, lambda: run.status == "done", 20, "the resumed run")
        await wait_until(
            pilot, lambda: screen.plotted_points == 63, 5, f"60 steps and 3 evals, {screen.plotted_points}"
        )
        plot = screen.query_one("#loss-plot")
        assert plot.steps == list(range(1, 61))
        # reopened, the screen draws the whole run again, not what it read from the folder twice
        await pilot.press("escape")
        app.push_screen(TrainingScreen(_config(run_dir.parent), run=run))
        await pilot.pause()
        await wait_until(pilot, lambda: app.screen.plotted_points == 63, 5, "the plot on reopening")
        assert app.screen.query_one("#loss-plot").steps == list(range(1, 61))
