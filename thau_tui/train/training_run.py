"""A training run as the user sees it: its steps, progress, log and results.

`RunState` is the one reader of the JSON events the run's children print (data
build, scoring, trainer): the training screen and `thau train` both feed it lines
and draw what it holds. `TrainingRun` adds the child processes, run in turn on the
asyncio loop by a task that outlives any screen. Neither knows about Textual.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import deque
from pathlib import Path
from typing import Any

from ..paths import start_folder
from .runs import STEP_DATA, STEP_EXPORT, STEP_TRAIN, command_step, run_commands, trainer_env
from .score import SCORE_KEYS

LOG_LINES = 500
COUNT_KEYS = ("n", "call_cases", "no_call_cases")
# "path/file.py:12: UserWarning: text" (the line Python's warnings module prints first)
_WARNING = re.compile(r"^\S.*:\d+: (\w*Warning): (.*)$")


def format_eta(seconds: Any) -> str:
    """h:mm:ss or m:ss; "-" when unknown."""
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def short_eta(seconds: Any) -> str:
    """Rounded for a status line: "40 s", "12 min", "2 h 5 min"; "" when unknown."""
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return ""
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def read_summary(run_dir: str | Path) -> dict[str, Any] | None:
    """RUN_DIR/summary.json (the trainer's figures and the before/after scores), if readable."""
    try:
        summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return summary if isinstance(summary, dict) else None


CALL_RATES = ("name_accuracy", "arguments_accuracy", "exact_match")


def score_rows(after: dict[str, Any], before: dict[str, Any] | None = None) -> list[tuple[str, str, str, str]]:
    """(metric, before, after, change) for each score present: the screen's and the CLI's table."""

    # a rate over no cases (no_call_accuracy with no no-call case) read as 0.000: a failure
    over = {"no_call_accuracy": "no_call_cases", **dict.fromkeys(CALL_RATES, "call_cases")}

    def show(key: str, value: Any, scores: dict[str, Any]) -> str:
        if key in COUNT_KEYS:
            return "-" if value is None else str(value)
        if key in over and scores.get(over[key]) == 0:
            return "n/a"
        return f"{value:.3f}" if isinstance(value, (int, float)) else "-"

    rows = []
    before = before or {}
    for key in SCORE_KEYS:
        if key not in after and key not in before:
            continue
        a, b = after.get(key), before.get(key)
        if key in over and 0 in (after.get(over[key]), before.get(over[key])):
            a, b = (None if after.get(over[key]) == 0 else a), (None if before.get(over[key]) == 0 else b)
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        change = f"{a - b:+.3f}" if key not in COUNT_KEYS and numbers else ""
        rows.append((key, show(key, b, before), show(key, a, after), change))
    return rows


class RunState:
    """What a run's children have said, read from their stdout and stderr lines.

    `status`: idle, starting, data, scoring, running (training), paused, done,
    cancelled, failed. `step_name` is the current child's job in words; scoring
    progress (`score_done`/`score_total`/`score_eta_s`) is kept apart from the
    training steps, so each has its own bar and ETA.
    """

    ACTIVE = ("starting", "data", "scoring", "running", "paused")

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.status = "idle"
        self.step_name = ""
        self.trained = False
        self.scores: dict[str, dict[str, Any]] = {}
        self.step = 0
        self.total_steps = 0
        self.epoch = 0.0
        self.loss: float | None = None
        self.eval_loss: float | None = None
        self.tokens_per_s = 0.0
        self.eta_s: float | None = None
        self.device = ""
        self.examples: int | None = None
        self.score_stage = ""
        self.score_done = 0
        self.score_total = 0
        self.score_eta_s: float | None = None
        self.train_losses: list[tuple[int, float]] = []
        self.eval_losses: list[tuple[int, float]] = []
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.log_count = 0  # lines ever logged: a reader remembers how many it has shown
        self.summary: dict[str, Any] | None = None
        self.adapter: str | None = None
        self.checkpoint: str | None = None  # the last one the trainer saved
        self.error: str | None = None
        self.version = 0  # bumps on every change a reader might show
        self._before_pause = "running"
        self._skip_source_line = False

    # --- reading the children --------------------------------------------------------
    def begin_step(self, name: str) -> None:
        """A new child starts: `name` is its job (runs.command_step)."""
        self.step_name = name
        if name == STEP_DATA:
            self.status = "data"
        elif name == STEP_TRAIN:
            self.status = "starting"  # until the trainer's start event: it is loading the model
        elif name == STEP_EXPORT:  # taken for scoring: the chat's status line said "training 100%"
            self.status = "scoring"  # active, as a scoring child is; the step line says which
        else:
            self.status = "scoring"
            self.score_stage = name.split()[1] if len(name.split()) > 1 else ""
            self.score_done, self.score_total, self.score_eta_s = 0, 0, None
        self.version += 1

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
        else:
            self.add_log(line)

    def feed_stderr(self, raw: str) -> None:
        """Apply one stderr line: progress redraws keep their last state, and a Python
        warning becomes one "warning: ..." line without the source line it echoes."""
        line = raw.rstrip().split("\r")[-1].rstrip()
        if not line.strip():
            return
        if self._skip_source_line:
            self._skip_source_line = False
            if line[:1].isspace():  # "  warnings.warn(": the code that warned, not news
                return
        match = _WARNING.match(line)
        if match:
            self._skip_source_line = True
            self.add_log(f"warning: {match.group(2).strip()} ({match.group(1)})")
            return
        self.add_log(line.strip())

    def apply(self, event: dict[str, Any]) -> None:
        """Update the state from one child event."""
        kind = event.get("event")
        if kind == "start":
            self.status = "running"
            self.step_name = STEP_TRAIN
            self.total_steps = int(event.get("total_steps") or 0)
            self.device = str(event.get("device", ""))
            self.examples = event.get("examples")
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
            self.checkpoint = str(event.get("path") or "") or None
            self.add_log(f"checkpoint at step {event.get('step')}: {event.get('path')}")
        elif kind == "log":
            self.add_log(str(event.get("message", "")))
        elif kind == "paused":
            if self.status != "paused":
                self._before_pause = self.status if self.status in self.ACTIVE else "running"
            self.status = "paused"
            self.add_log(f"paused ({self.step_name or 'run'})")
        elif kind == "resumed":
            self.status = self._before_pause
            self.add_log("resumed")
        elif kind == "cancelled":
            self.status = "cancelled"
            self.add_log(f"cancelled at step {event.get('step')}; resume with: thau train --resume {self.run_dir}")
        elif kind == "done":
            self.trained = True
            self.adapter = event.get("adapter")
            self.summary = event.get("summary") or self.read_summary()
            self.add_log(f"trained: adapter in {self.adapter}")
        elif kind == "data_built":
            self.add_log(
                f"data set built in {event.get('data_dir')}: {event.get('train')} training examples, "
                f"{event.get('eval')} eval cases"
            )
        elif kind == "eval_progress":
            if self.status != "paused":
                self.status = "scoring"
            self.score_stage = str(event.get("stage") or self.score_stage)
            self.step_name = f"scoring {self.score_stage} training"
            self.score_done = int(event.get("done") or 0)
            self.score_total = int(event.get("total") or 0)
            self.score_eta_s = event.get("eta_s")
        elif kind == "scores":
            stage, scores = str(event.get("stage")), event.get("scores") or {}
            self.scores[stage] = scores
            overall = scores.get("overall")
            shown = f"{overall:.3f}" if isinstance(overall, (int, float)) else "-"
            self.add_log(f"eval split {stage} training: overall {shown}")
        elif kind == "error":
            self.status = "failed"
            self.error = str(event.get("message", "unknown error"))
            self.add_log(f"error: {self.error}")
        self.version += 1

    # --- what it means -----------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Still working (or paused): not idle, done, cancelled or failed."""
        return self.status in self.ACTIVE

    @property
    def scoring(self) -> bool:
        """The current child scores the eval split (paused or not)."""
        return self.step_name.startswith("scoring")

    def progress(self) -> tuple[int, int] | None:
        """(done, total) of the current step: scoring cases or training steps; None when unknown."""
        if self.scoring:
            return (self.score_done, self.score_total) if self.score_total else None
        if self.total_steps:
            return self.step, self.total_steps
        return None

    def current_eta(self) -> float | None:
        return self.score_eta_s if self.scoring else self.eta_s

    def step_line(self) -> str:
        """The current step with its count: "Scoring before training 2/4", "step 3/480"."""
        if self.scoring:
            count = f" {self.score_done}/{self.score_total}" if self.score_total else ""
            line = f"{self.step_name.capitalize()}{count}"
            if not count and self.active:
                line += " (loading the model)"
        elif self.step_name == STEP_DATA:
            line = "Building the data set"
        elif self.step_name == STEP_EXPORT and self.active:  # done: the training's count stands
            line = "Exporting the adapter to GGUF"
        else:
            line = f"step {self.step}/{self.total_steps or '?'}"
        # the count where it stopped, not as if still going (UX review)
        return f"{line}: cancelled" if self.status == "cancelled" else line

    def short_status(self) -> str:
        """A few words for the chat's status line: "training 34% · ETA 12 min"."""
        if not self.active:
            return ""
        if self.status == "paused":
            return f"{self.step_name or 'training'} paused"
        if self.status == "data":
            return "training: building the data set"
        if self.status == "starting" and not self.scoring:
            return "training: loading the model"
        if self.step_name == STEP_EXPORT:
            return "training: exporting the adapter"
        words = "scoring" if self.scoring else "training"
        done_total = self.progress()
        percent = f" {100 * done_total[0] // done_total[1]}%" if done_total and done_total[1] else ""
        eta = short_eta(self.current_eta())
        return f"{words}{percent}" + (f" · ETA {eta}" if eta else "")

    def read_summary(self) -> dict[str, Any] | None:
        return read_summary(self.run_dir)

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


class TrainingRun(RunState):
    """One run's child processes (data, scoring, trainer) and what they reported.

    Pause: the run writes a PAUSE file in its run folder, which the trainer checks
    between steps and the scorer between cases; removing it resumes. Cancel: SIGTERM;
    the trainer saves a checkpoint and reports `cancelled`.
    """

    def __init__(
        self,
        recipe: str | Path,
        run_dir: str | Path,
        *,
        resume: bool = False,
        score: bool = True,
        score_limit: int | None = None,
        commands: list[list[str]] | None = None,
    ) -> None:
        super().__init__(run_dir)
        self.recipe, self.resume = Path(recipe), resume
        # Build missing data, score the eval split before, train, score after: one child each, in turn.
        self.commands = commands or run_commands(
            self.recipe, self.run_dir, resume=resume, score=score, limit=score_limit
        )
        self.steps = [command_step(command) for command in self.commands]
        self.step_index = -1  # which of `steps` runs now
        self.step_seconds: list[tuple[str, float]] = []  # each finished child: (step, seconds)
        self.process: asyncio.subprocess.Process | None = None
        self.started_at: float | None = None
        self._cancelled = False
        self._task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        """True until every child has finished."""
        return self._task is not None and not self._task.done()

    @property
    def paused(self) -> bool:
        """The user asked for a pause (the child may still be finishing its step)."""
        return (self.run_dir / "PAUSE").exists()

    async def start(self) -> None:
        """Start the children in turn; they are read by a task that outlives any screen."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "PAUSE").unlink(missing_ok=True)
        self.status = "starting"
        self.started_at = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run_all())

    async def _run_all(self) -> None:
        for index, command in enumerate(self.commands):
            if self._cancelled or self.status in ("cancelled", "failed"):
                break
            self.step_index = index
            self.begin_step(command_step(command))
            self.add_log(f"$ {' '.join(command)}")
            began = time.monotonic()
            try:
                code = await self._run_one(command)
                self.step_seconds.append((self.step_name, round(time.monotonic() - began, 1)))
                ended = self._ended(code)
                self.add_log(f"{self.step_name}: {ended} after {format_eta(time.monotonic() - began)}")
            except OSError as exc:
                self.status, self.error = "failed", f"could not start {self.step_name}: {exc}"
                self.add_log(self.error)
                break
            if self._cancelled:
                if self.trained:  # the cancel landed in the last step, which the trainer finished (UX review)
                    self.add_log(
                        "the training finished before the cancel reached it; the adapter is trained but not "
                        f"scored or exported to GGUF: R on the training screen (or thau train --resume "
                        f"{self.run_dir}) finishes it"
                    )
                self.status = "cancelled"
                break
            self._drop_late_pause()
            if code != 0 and self.status not in ("cancelled", "failed"):
                self.error = self.error or f"{self.step_name or 'a step'} exited with code {code} (see the log)"
                self.status = "failed"
                self.add_log(self.error)
            if code != 0 and not self.trained:
                break
        if self.trained and self.status != "cancelled":
            self.status = "done"
            self.summary = self.read_summary() or self.summary
        elif self.status not in ("cancelled", "failed"):
            self.status = "cancelled" if self._cancelled else "failed"
        self.process = None
        self.version += 1

    def _drop_late_pause(self) -> None:
        """A pause asked for in a step that then ended is not carried into the next one: asked at
        training's last step, it paused the scoring after training (UX review). One asked while
        the data set is built waits for the next step, as the screen says it will."""
        pause_file = self.run_dir / "PAUSE"
        if self.step_name != STEP_DATA and pause_file.exists():
            pause_file.unlink(missing_ok=True)
            self.add_log(f"{self.step_name} ended before the pause took effect; not paused (p pauses the next step)")

    def _ended(self, code: int) -> str:
        """How a child ended, for the log: "cancelled" when the user's cancel stopped it, where
        the log said "ended with code -15" (UX review); the raw code for any other end (a kill -9
        "finished": training review)."""
        if self._cancelled and code in (0, -signal.SIGTERM):  # the trainer stops cleanly with 0
            return "cancelled"
        return "finished" if code == 0 else f"ended with code {code}"

    async def _run_one(self, command: list[str]) -> int:
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=trainer_env(),
            cwd=start_folder(),  # not the workspace: `python -m` would import a module a tool left there
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
            self.feed_stderr(raw.decode("utf-8", "replace"))

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
        """Ask the current child to stop: the trainer saves a checkpoint and reports `cancelled`."""
        self._cancelled = True
        (self.run_dir / "PAUSE").unlink(missing_ok=True)  # a paused child must see the signal promptly
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
