"""The training screen: start a LoRA run, watch it, and switch the chat to its adapter.

The trainer runs as a child process printing one JSON event a line. A
`TrainingRun` owns that process and everything it has said; the app holds the
run, so closing this screen leaves training going and reopening it reattaches.
The screen only polls the run a few times a second and redraws what changed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Log, ProgressBar, Static
from textual_plotext import PlotextPlot

from ...config import Config
from ...train.runs import check_recipe, new_run_dir, run_commands, trainer_env
from ...train.score import SCORE_KEYS

LOG_LINES = 500


class TrainingRun:
    """One trainer child process and what it reported. Knows nothing about the screen.

    Pause: the run writes a PAUSE file in its run folder (the trainer's documented
    switch) and removes it to resume. Cancel: SIGTERM; the trainer saves a
    checkpoint and reports `cancelled`.
    """

    def __init__(self, recipe: str | Path, run_dir: str | Path, *, resume: bool = False, score: bool = True,
                 score_limit: int | None = 64, commands: list[list[str]] | None = None) -> None:
        self.recipe, self.run_dir, self.resume = Path(recipe), Path(run_dir), resume
        # Score the eval split before, train, score after: one child process each, in turn.
        self.commands = commands or run_commands(self.recipe, self.run_dir, resume=resume, score=score, limit=score_limit)
        self.process: asyncio.subprocess.Process | None = None
        self.status = "idle"  # idle, starting, scoring, running, paused, done, cancelled, failed
        self.phase = ""  # what the current child does, in words
        self.trained = False
        self.scores: dict[str, dict[str, Any]] = {}
        self._cancelled = False
        self._task: asyncio.Task | None = None
        self.step = 0
        self.total_steps = 0
        self.epoch = 0.0
        self.loss: float | None = None
        self.eval_loss: float | None = None
        self.tokens_per_s = 0.0
        self.eta_s: float | None = None
        self.device = ""
        self.train_losses: list[tuple[int, float]] = []
        self.eval_losses: list[tuple[int, float]] = []
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.log_count = 0  # lines ever logged: a screen remembers how many it has shown
        self.summary: dict[str, Any] | None = None
        self.adapter: str | None = None
        self.error: str | None = None
        self.version = 0  # bumps on every change the screen might show

    # --- the process -------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True until every child (scoring, training) has finished."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the children in turn; they are read by a task that outlives any screen."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "PAUSE").unlink(missing_ok=True)
        self.status = "starting"
        self._task = asyncio.get_running_loop().create_task(self._run_all())

    async def _run_all(self) -> None:
        for command in self.commands:
            if self._cancelled or self.status in ("cancelled", "failed"):
                break
            self.add_log(f"$ {' '.join(command)}")
            try:
                code = await self._run_one(command)
            except OSError as exc:
                self.status, self.error = "failed", f"could not start {command[2] if len(command) > 2 else command[0]}: {exc}"
                self.add_log(self.error)
                break
            if self._cancelled:
                self.status = "cancelled"
                break
            if code != 0 and self.status not in ("cancelled", "failed"):
                self.error = self.error or f"{self.phase or 'a step'} exited with code {code} (see the log)"
                self.status = "failed" if not self.trained else self.status
                self.add_log(self.error)
                if not self.trained:
                    break
        if self.trained and self.status not in ("cancelled",):
            self.status = "done"
            self.summary = self.read_summary() or self.summary
        elif self.status not in ("cancelled", "failed"):
            self.status = "cancelled" if self._cancelled else "failed"
        self.process = None
        self.version += 1

    async def _run_one(self, command: list[str]) -> int:
        self.phase = "training" if "thau_tui.train.trainer" in command else "scoring"
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=trainer_env(),
            start_new_session=True,  # Ctrl-C in the terminal goes to thau, which asks first
            limit=1 << 20,
        )
        await asyncio.gather(self._read_stdout(self.process), self._read_stderr(self.process))
        return await self.process.wait()

    async def _read_stdout(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout
        async for raw in process.stdout:
            self.feed_line(raw.decode("utf-8", "replace"))

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr
        async for raw in process.stderr:
            # tqdm redraws with carriage returns: keep only the last state of the line.
            line = raw.decode("utf-8", "replace").rstrip().split("\r")[-1].strip()
            if line:
                self.add_log(line)

    async def wait(self) -> None:
        """Wait until every child has finished and its output was read."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        pause_file = self.run_dir / "PAUSE"
        if pause_file.exists():
            pause_file.unlink(missing_ok=True)
            return False
        pause_file.touch()
        return True

    def cancel(self) -> None:
        """Ask the trainer to stop: it saves a checkpoint and reports `cancelled`."""
        self._cancelled = True
        (self.run_dir / "PAUSE").unlink(missing_ok=True)  # a paused trainer must see the signal promptly
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()

    # --- what it says --------------------------------------------------------------
    def add_log(self, line: str) -> None:
        self.log.append(line)
        self.log_count += 1
        self.version += 1

    def feed_line(self, line: str) -> None:
        """Apply one stdout line: a JSON event, or plain text for the log."""
        line = line.strip()
        if not line:
            return
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self.add_log(line)
            return
        if isinstance(event, dict):
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        """Update the run's state from one trainer event."""
        kind = event.get("event")
        if kind == "start":
            self.status = "running"
            self.total_steps = int(event.get("total_steps") or 0)
            self.device = str(event.get("device", ""))
            self.add_log(f"started: {event.get('examples')} examples, {self.total_steps} steps on {self.device}")
        elif kind == "step":
            self.step = int(event.get("step", self.step))
            self.total_steps = int(event.get("total_steps") or self.total_steps)
            self.epoch = float(event.get("epoch", self.epoch))
            self.loss = float(event["loss"]) if event.get("loss") is not None else self.loss
            self.tokens_per_s = float(event.get("tokens_per_s") or 0.0)
            self.eta_s = event.get("eta_s")
            if self.loss is not None:
                self.train_losses.append((self.step, self.loss))
            if self.status in ("starting", "idle"):
                self.status = "running"
        elif kind == "eval":
            self.eval_loss = float(event["eval_loss"])
            self.eval_losses.append((int(event.get("step", self.step)), self.eval_loss))
            self.add_log(f"step {event.get('step')}: eval loss {self.eval_loss:.4f}")
        elif kind == "checkpoint":
            self.add_log(f"checkpoint at step {event.get('step')}: {event.get('path')}")
        elif kind == "log":
            self.add_log(str(event.get("message", "")))
        elif kind in ("paused", "resumed"):
            self.status = "paused" if kind == "paused" else "running"
            self.add_log(kind)
        elif kind == "cancelled":
            self.status = "cancelled"
            self.add_log(f"cancelled at step {event.get('step')}; resume with: thau train --resume {self.run_dir}")
        elif kind == "done":
            self.trained = True
            self.adapter = event.get("adapter")
            self.summary = event.get("summary") or self.read_summary()
            self.add_log(f"trained: adapter in {self.adapter}")
        elif kind == "eval_progress":
            self.status = "scoring"
            self.phase = f"scoring {event.get('stage')} training: {event.get('done')}/{event.get('total')}"
        elif kind == "scores":
            stage, scores = str(event.get("stage")), event.get("scores") or {}
            self.scores[stage] = scores
            self.add_log(f"eval split {stage} training: overall {scores.get('overall', 0):.3f}")
        elif kind == "error":
            self.status = "failed"
            self.error = str(event.get("message", "unknown error"))
            self.add_log(f"error: {self.error}")
        self.version += 1

    def read_summary(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.run_dir / "summary.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def adapter_gguf(self) -> Path | None:
        """The GGUF LoRA llama.cpp can load, once exported."""
        summary = self.read_summary() or self.summary or {}
        for candidate in (summary.get("adapter_gguf"), self.run_dir / "adapter.gguf"):
            if candidate and Path(candidate).is_file():
                return Path(candidate)
        return None

    def beats_current(self) -> bool | None:
        """Does the adapter score better than what the run started from? None if unknown."""
        summary = self.summary or self.read_summary() or {}
        before, after = summary.get("before"), summary.get("after")
        if not isinstance(before, dict) or not isinstance(after, dict):
            return None
        try:
            return float(after["overall"]) > float(before["overall"])
        except (KeyError, TypeError, ValueError):
            return None


def _eta(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingScreen(Screen):
    """Start, watch, pause and cancel a LoRA run; then use its adapter in the chat."""

    CSS_PATH = "training.tcss"
    REFRESH_S = 0.25  # redraw at most four times a second, however fast the trainer talks

    BINDINGS = [
        Binding("s", "start", "Start", id="training.start", tooltip="Start a run with the recipe"),
        Binding("p", "pause", "Pause/resume", id="training.pause", tooltip="Pause or resume the run"),
        Binding("x", "cancel", "Cancel", id="training.cancel", tooltip="Stop the run (it saves a checkpoint)"),
        Binding("f", "open_folder", "Run folder", id="training.open-folder", tooltip="Open the run folder"),
        Binding("u", "use_adapter", "Use adapter", id="training.use-adapter",
                tooltip="Reload the chat with this run's adapter"),
        Binding("escape", "back", "Back", id="training.back", tooltip="Back to the chat (training goes on)"),
    ]

    @dataclass
    class UseAdapter(Message):
        """The user wants the chat reloaded with this LoRA (`lora_path`)."""

        path: Path
        better: bool = False  # it beat the current model on the eval split: offer it as the default

    @dataclass
    class RunStarted(Message):
        """A new run started; the app should hold it so it outlives this screen."""

        run: TrainingRun

    def __init__(self, config: Config, recipe: str | Path | None = None, run: TrainingRun | None = None,
                 *, score: bool = True, score_limit: int | None = 64) -> None:
        super().__init__()
        self.config = config
        self.score, self.score_limit = score, score_limit  # eval-split scoring before and after training
        self.recipe = Path(recipe) if recipe else Path(config.train.recipe)
        self.run: TrainingRun | None = run
        self.plotted_points = 0
        self._seen_version = -1
        self._seen_log = 0
        self._plotted = (0, 0)
        self._table_for: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="training-top"):
            yield Static("Training", id="training-title")
            yield Static("", id="training-status")
            with Horizontal(id="training-progress-row"):
                yield Label("step 0/0", id="training-step")
                yield ProgressBar(total=None, show_eta=False, id="training-progress")
                yield Label("", id="training-stats")
        with Horizontal(id="training-body"):
            yield PlotextPlot(id="loss-plot")
            yield Log(max_lines=LOG_LINES, id="training-log", auto_scroll=True)
        with Vertical(id="training-results"):
            yield DataTable(id="eval-table", show_cursor=False, zebra_stripes=True)
            yield Static("", id="adapter-verdict")
        yield Footer()

    def on_mount(self) -> None:
        if self.run is None:
            self.run = getattr(self.app, "training_run", None)  # reattach to the app's run
        table = self.query_one("#eval-table", DataTable)
        table.add_columns("metric", "before", "after", "change")
        self.query_one("#training-results").display = False
        plt = self.query_one(PlotextPlot).plt
        plt.title("loss")
        plt.xlabel("step")
        self.refresh_view()
        self.set_interval(self.REFRESH_S, self.refresh_view)

    # --- drawing -----------------------------------------------------------------
    def refresh_view(self) -> None:
        """Redraw whatever the run changed since the last look."""
        run = self.run
        if run is None:
            self.query_one("#training-status", Static).update(
                f"No run yet. Press [b]s[/] to start one with {self.recipe}."
            )
            return
        if run.version == self._seen_version:
            return
        self._seen_version = run.version
        self.query_one("#training-status", Static).update(self._status_line(run))
        self.query_one("#training-step", Label).update(f"step {run.step}/{run.total_steps or '?'}")
        bar = self.query_one("#training-progress", ProgressBar)
        bar.update(total=run.total_steps or None, progress=run.step)
        stats = [f"epoch {run.epoch:.2f}"]
        if run.loss is not None:
            stats.append(f"loss {run.loss:.4f}")
        if run.eval_loss is not None:
            stats.append(f"eval {run.eval_loss:.4f}")
        stats += [f"{run.tokens_per_s:.0f} tok/s", f"ETA {_eta(run.eta_s)}"]
        self.query_one("#training-stats", Label).update(" · ".join(stats))
        self._draw_log(run)
        self._draw_plot(run)
        if run.status == "done" and self._table_for != id(run):
            self._draw_results(run)

    def _status_line(self, run: TrainingRun) -> str:
        words = {
            "starting": "Starting (loading the model)…", "running": "Training", "paused": "Paused (p resumes)",
            "done": "Done", "cancelled": "Cancelled (a checkpoint was saved)", "failed": f"Failed: {run.error}",
            "idle": "Not started", "scoring": (run.phase or "Scoring").capitalize() + "…",
        }
        device = f" on {run.device}" if run.device else ""
        return f"{words.get(run.status, run.status)}{device} — {run.run_dir}"

    def _draw_log(self, run: TrainingRun) -> None:
        new = run.log_count - self._seen_log
        if new <= 0:
            return
        lines = list(run.log)[-min(new, len(run.log)) :]
        self.query_one("#training-log", Log).write_lines(lines)
        self._seen_log = run.log_count

    def _draw_plot(self, run: TrainingRun) -> None:
        sizes = (len(run.train_losses), len(run.eval_losses))
        if sizes == self._plotted:
            return
        self._plotted = sizes
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        if run.train_losses:
            plt.plot(*zip(*run.train_losses), label="train", marker="braille")
        if run.eval_losses:
            plt.plot(*zip(*run.eval_losses), label="eval", marker="braille")
        self.plotted_points = sum(sizes)
        plot.refresh()

    def _draw_results(self, run: TrainingRun) -> None:
        summary = run.summary or run.read_summary() or {}
        before, after = summary.get("before") or {}, summary.get("after") or {}
        if not after:
            return
        self._table_for = id(run)
        table = self.query_one("#eval-table", DataTable)
        table.clear()
        for key in SCORE_KEYS:
            b, a = before.get(key), after.get(key)
            if isinstance(a, int) and key in ("n", "call_cases", "no_call_cases"):
                table.add_row(key, str(b if b is not None else "-"), str(a), "")
                continue
            fmt = lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "-"  # noqa: E731
            change = f"{a - b:+.3f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) else ""
            table.add_row(key, fmt(b), fmt(a), change)
        self.query_one("#training-results").display = True
        self.query_one("#adapter-verdict", Static).update(self._verdict(run, before, after))

    def _verdict(self, run: TrainingRun, before: dict, after: dict) -> str:
        b, a = before.get("overall"), after.get("overall")
        beats = run.beats_current()
        if beats:
            return (f"The adapter beats the current model on the eval split (overall {b:.3f} → {a:.3f}). "
                    "Press [b]u[/] to use it; it is offered as the default.")
        if beats is False:
            return (f"The adapter does not beat the current model (overall {b:.3f} → {a:.3f}), so it is not "
                    "offered as the default. [b]u[/] still loads it to try.")
        return "No before/after scores in summary.json; [b]u[/] loads the adapter to try."

    # --- actions -----------------------------------------------------------------
    async def action_start(self) -> None:
        """Start a run with the recipe, unless one is going."""
        if self.run is not None and self.run.running:
            self.notify("A run is already going: cancel it (x) before starting another.", severity="warning")
            return
        problem = check_recipe(self.recipe)
        if problem:
            self.notify(problem, title="Cannot start training", severity="error", timeout=10)
            return
        run = TrainingRun(self.recipe, new_run_dir(self.config.train.runs_dir, self.recipe),
                          score=self.score, score_limit=self.score_limit)
        self.run = run
        self._seen_version, self._seen_log, self._plotted, self._table_for = -1, 0, (0, 0), None
        self.query_one("#training-log", Log).clear()
        self.query_one("#training-results").display = False
        await run.start()
        if hasattr(self.app, "training_run"):
            self.app.training_run = run
        self.post_message(self.RunStarted(run))
        self.refresh_view()

    def action_pause(self) -> None:
        if self.run is None or not self.run.running:
            self.notify("No run is going.", severity="warning")
            return
        paused = self.run.toggle_pause()
        self.notify("Pausing after this step…" if paused else "Resuming…")

    def action_cancel(self) -> None:
        if self.run is None or not self.run.running:
            self.notify("No run is going.", severity="warning")
            return
        self.run.cancel()
        self.notify("Cancelling: the trainer saves a checkpoint first.")

    def action_open_folder(self) -> None:
        if self.run is None:
            self.notify("No run yet: start one with s.", severity="warning")
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        if shutil.which(opener) is None:
            self.notify(f"The run folder is {self.run.run_dir} (no {opener} here to open it).")
            return
        subprocess.Popen([opener, str(self.run.run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def action_use_adapter(self) -> None:
        if self.run is None or self.run.status != "done":
            self.notify("No finished run yet: the adapter is ready when the run says Done.", severity="warning")
            return
        path = self.run.adapter_gguf()
        if path is None:
            self.notify(f"No GGUF adapter yet: run `thau export {self.run.run_dir}` first.", severity="warning")
            return
        better = bool(self.run.beats_current())
        self.post_message(self.UseAdapter(path, better))
        self.notify(f"Loading the chat with {path.name}" + ("" if better else " (it did not beat the current model)"))

    def action_back(self) -> None:
        self.app.pop_screen()
