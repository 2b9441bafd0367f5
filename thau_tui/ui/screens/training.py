"""The training screen: pick a recipe, start a LoRA run, watch it, and switch the chat to its adapter.

The run model (`TrainingRun`: the child processes and the one reader of their
JSON events) lives in thau_tui/train/training_run.py, shared with `thau train`.
The app holds the run, so closing this screen leaves training going and reopening
it reattaches. The screen only polls the run a few times a second and redraws
what changed. Its recipe picker is in recipe_picker.py, its lines of text in training_lines.py,
its loss plot in loss_plot.py, what it reads from run folders in run_folder.py, its sentences
about a run in thau_tui/train/run_sentences.py.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, ProgressBar, RichLog, Static

from ...config import Config
from ...host_programs import host_program
from ...paths import runs_dir
from ...train.evaluate import score_command
from ...train.recipe import available_recipes, find_recipe, load_recipe
from ...train.run_sentences import can_resume, cancel_question, idle_line, other_default, verdict
from ...train.runs import check_recipe, new_run_dir
from ...train.training_run import LOG_LINES, TrainingRun, score_rows
from ..compat import keymap, node_bindings
from ..visible import visible
from ..widgets.fitting_footer import TRAINING_DROP_ORDER, FittingFooter
from .loss_plot import LossPlot
from .recipe_picker import RecipePicker
from .run_folder import last_run_here, scores_again, trained_elsewhere
from .training_lines import (
    recipe_found,
    recipe_header,
    second_trainer_question,
    stats_line,
    status_line,
    steps_line,
)

__all__ = ["RecipePicker", "TrainingRun", "TrainingScreen"]


class TrainingScreen(Screen):
    """Pick a recipe; start, watch, pause and cancel a LoRA run; then use its adapter in the chat."""

    CSS_PATH = "training.tcss"
    REFRESH_S = 0.25  # redraw at most four times a second, however fast the trainer talks

    BINDINGS = [  # Back first: at 80 columns the footer's end is cut off (keyboard review)
        Binding("escape", "back", "Back", id="training.back", tooltip="Back to the chat (training goes on)"),
        Binding("s", "start", "Start", id="training.start", tooltip="Start a run with the recipe"),
        Binding("r", "choose_recipe", "Recipe", id="training.recipe", tooltip="Choose the recipe for the next run"),
        Binding("p", "pause", "Pause/resume", id="training.pause", tooltip="Pause or resume the run"),
        Binding(
            "x",
            "cancel",
            "Cancel",
            id="training.cancel",
            tooltip="Stop the run, after a yes (it keeps its last checkpoint)",
        ),
        Binding("f", "open_folder", "Run folder", id="training.open-folder", tooltip="Open the run folder"),
        Binding(
            "R", "resume_last", "Resume last", id="training.resume", tooltip="Resume the last run from its checkpoint"
        ),
        Binding(
            "u",
            "use_adapter",
            "Use adapter",
            id="training.use-adapter",
            tooltip="Reload the chat with this run's adapter",
        ),
    ]

    @dataclass
    class UseAdapter(Message):
        """The user wants the chat reloaded with this LoRA (`lora_path`)."""

        path: Path
        better: bool = False  # it beat what it was trained from on the eval split: offer it as the default

    @dataclass
    class RunStarted(Message):
        """A new run started; the app should hold it so it outlives this screen."""

        run: TrainingRun

    def __init__(
        self,
        config: Config,
        recipe: str | Path | None = None,
        run: TrainingRun | None = None,
        *,
        score: bool = True,
        score_limit: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        # Eval-split scoring before and after training; None scores the recipe's eval_examples.
        self.score, self.score_limit = score, score_limit
        self.picked = recipe is not None  # chosen here (or by the caller), not taken from config
        # The next run's recipe, what s starts; never a running run's (that is run.recipe).
        self.recipe = self._resolve(recipe if recipe is not None else config.train.recipe)
        self.recipe_problem: str | None = None  # why s could not start it (runs.check_recipe)
        self._header_for: tuple[Path, str | None, bool] | None = None
        self.run: TrainingRun | None = run
        self.last: tuple[Path, str, bool] | None = None  # the runs folder's newest run, at open
        self.unscored: Path | None = None  # that run, trained and exported but not scored after: R scores it
        self.plotted_points = 0  # on the loss plot, train and eval
        self._seen_version = -1
        self._seen_log = 0
        self._table_for: int | None = None

    @staticmethod
    def _resolve(reference: str | Path) -> Path:
        """The recipe file a name or path means (see train.recipe.find_recipe); as given if none."""
        return find_recipe(reference) or Path(reference)

    def compose(self) -> ComposeResult:
        with Vertical(id="training-top"):
            yield Static("Training", id="training-title")
            yield Static("", id="training-recipe")
            # plain text: a run's error and folder are not markup ("expected [0, 1]" lost its brackets)
            yield Static("", id="training-status", markup=False)
            yield Static("", id="training-steps", markup=False)
            with Horizontal(id="training-progress-row"):
                yield Label("step 0/0", id="training-step", markup=False)
                yield ProgressBar(total=1, show_eta=False, id="training-progress")
                yield Label("", id="training-stats", markup=False)
        with Horizontal(id="training-body"):
            yield LossPlot(id="loss-plot")
            yield RichLog(
                max_lines=LOG_LINES,
                wrap=True,
                min_width=20,
                markup=False,
                highlight=False,
                auto_scroll=True,
                id="training-log",
            )
        with Vertical(id="training-results"):
            yield DataTable(id="eval-table", show_cursor=False, zebra_stripes=True)
            yield Static("", id="adapter-verdict")
        yield FittingFooter(compact=True, drop_order=TRAINING_DROP_ORDER)  # whole keys, the least useful left out

    def on_mount(self) -> None:
        if self.run is None:
            self.run = getattr(self.app, "training_run", None)  # reattach to the app's run
        if not self.picked and (earlier := getattr(self.app, "training_recipe", None)) is not None:
            self.recipe, self.picked = Path(earlier), True  # picked when the screen was open before
        # Not replaced by a running run's recipe: reopened during a run, the screen went back to
        # it and s then started it again, not the recipe chosen (training review).
        self._check_recipe()
        table = self.query_one("#eval-table", DataTable)
        table.add_columns("metric", "before", "after", "change")
        self.query_one("#training-results").display = False
        if self.run is None:  # the log's place says what it will hold, not nothing
            log = self.query_one("#training-log", RichLog)
            log.write(
                "The run's log appears here: the data set being built, each step's loss and speed, "
                "checkpoints and the evaluation. s starts a run with the recipe above."
            )
            self.last, self.unscored = last_run_here(runs_dir(self.config.train.runs_dir))
            if self.last is not None:  # after a restart: what became of it (training review)
                folder, how, resumable = self.last
                if self.unscored is not None:  # its words end on what R does: not "it.. R resumes it" (diff review)
                    log.write(Text(f"Last run: {folder.name}, {how}"))
                else:
                    resume = " R resumes it from its checkpoint." if resumable else ""
                    log.write(Text(f"Last run: {folder.name}, {how}.{resume}"))
            # its start, not its end: at 60x16 it began mid-sentence (narrow-terminal review)
            self.call_after_refresh(lambda: self.call_after_refresh(log.scroll_home, animate=False))
        self._show_recipe()
        self.refresh_view()
        self.set_interval(self.REFRESH_S, self.refresh_view)

    # --- the recipe --------------------------------------------------------------
    def _check_recipe(self) -> None:
        """Whether s can start the recipe, said in the header at once: a configured name that
        matches no recipe was shown as a path in the workspace until s (training review)."""
        if self.recipe.is_absolute():  # find_recipe's answer, or a path picked or passed in
            self.recipe_problem = check_recipe(self.recipe)
        else:  # a name find_recipe did not find: not a file of that name in the workspace either
            names = ", ".join(choice.name for choice in available_recipes())
            self.recipe_problem = f"recipe not found: {self.recipe} (choose one of: {names})"

    def _show_recipe(self) -> None:
        """The header names the next run's recipe; redrawn only when that or the run's state changes."""
        # by the run's status (`active`), as the status line: its task ends a moment after a cancel,
        # with no new version to redraw on, and the header kept "Next run:" (CI dry run)
        shown = (self.recipe, self.recipe_problem, self.run is not None and self.run.active)
        if shown != self._header_for:
            self._header_for = shown
            self.query_one("#training-recipe", Static).update(recipe_header(*shown))

    def use_recipe(self, path: Path) -> None:
        """The next run uses this recipe, also after the screen is closed and opened again (it
        went back to the configured one, and s then started that: keyboard review). A run going
        now keeps its own, which its status line names."""
        self.recipe, self.picked = Path(path), True
        if hasattr(self.app, "training_recipe"):
            self.app.training_recipe = self.recipe
        self._check_recipe()
        self._show_recipe()
        if self.run is None:
            self._seen_version = -2  # redraw the idle line, which names the recipe
            self.refresh_view()

    def config_changed(self, config: Config) -> None:
        """config.yaml was reloaded: take its runs folder, and its recipe unless one was picked
        here; either way the recipe is checked again (its file may have come or gone)."""
        self.config = config
        if not self.picked:  # found again: a recipe of that name may have been made since
            self.recipe = self._resolve(config.train.recipe)
        self._check_recipe()
        self._show_recipe()
        self._seen_version = -2  # redraw the status line, which names the recipe when idle
        self.refresh_view()

    def action_choose_recipe(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.use_recipe(path)

        self.app.push_screen(RecipePicker(available_recipes(self.config.train.recipe), self.recipe), chosen)

    # --- drawing -----------------------------------------------------------------
    def refresh_view(self) -> None:
        """Redraw whatever the run changed since the last look."""
        run = self.run
        bar = self.query_one("#training-progress", ProgressBar)
        if run is None:
            if self._seen_version != -3:  # drawn once: redrawn four times a second, 4x idle CPU (soak review)
                self._seen_version = -3
                # not "s starts one with nosuch" beside a recipe that is not there (training review)
                recipe = self.recipe.stem if recipe_found(self.recipe) else "a recipe r chooses"
                self.query_one("#training-status", Static).update(Text(idle_line(self.last, recipe)))
                bar.update(total=1, progress=0)  # a still, empty bar: nothing is happening
            return
        if run.version == self._seen_version:
            return
        self._seen_version = run.version
        self.refresh_bindings()  # the run's keys (check_action) follow its state
        self._show_recipe()  # "Next run:" while one goes, "Recipe:" once it ended
        self.query_one("#training-status", Static).update(status_line(run))
        self.query_one("#training-steps", Static).update(steps_line(run))
        self.query_one("#training-step", Label).update(run.step_line())
        counted = run.progress()
        if counted is not None:
            bar.update(total=max(counted[1], 1), progress=counted[0])
        elif run.active and run.status != "paused":
            bar.update(total=None)  # busy without a count yet (loading, building): the bar moves
        else:
            bar.update(total=1 if bar.total is None else bar.total)  # stopped: the bar stands still
        self.query_one("#training-stats", Label).update(stats_line(run))
        self._draw_log(run)
        plot = self.query_one(LossPlot)
        plot.draw(run)
        self.plotted_points = plot.points
        if run.status == "done" and self._table_for != id(run):
            self._draw_results(run)

    def _draw_log(self, run: TrainingRun) -> None:
        new = run.log_count - self._seen_log
        if new <= 0:
            return
        log = self.query_one("#training-log", RichLog)
        for line in list(run.log)[-min(new, len(run.log)) :]:
            log.write(Text(visible(line)))  # wrapped to the pane, never cut; no markup or escapes from the children
        self._seen_log = run.log_count

    def _draw_results(self, run: TrainingRun) -> None:
        summary = run.summary or run.read_summary() or {}
        before, after = summary.get("before") or {}, summary.get("after") or {}
        if not after:
            return
        self._table_for = id(run)
        table = self.query_one("#eval-table", DataTable)
        table.clear()
        for row in score_rows(after, before):
            table.add_row(*row)
        self.query_one("#training-results").display = True
        self.query_one("#adapter-verdict", Static).update(self._verdict(run, before, after))

    def _verdict(self, run: TrainingRun, before: dict, after: dict) -> str:
        return verdict(run, before, after, self._other_default(run))

    # --- actions -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The run's keys dimmed in the footer while they have nothing to act on."""
        run = self.run
        if action in ("pause", "cancel"):
            return True if run is not None and run.running else None
        if action == "open_folder":
            return True if run is not None else None
        if action == "use_adapter":
            return True if run is not None and run.status == "done" else None
        if action == "resume_last":
            return True if self._resume_target() is not None else None
        return True

    async def on_key(self, event: events.Key) -> None:
        """A key dimmed in the footer is one Textual does not run, so pressed it said nothing
        (new-user review): its action runs all the same, and says why there is nothing to do."""
        bound = node_bindings(self).copy()
        bound.apply_keymap(keymap(self.app))
        for binding in bound.key_to_bindings.get(event.key, ()):
            if self.check_action(binding.action, ()) is None:
                event.stop()
                event.prevent_default()
                done = getattr(self, f"action_{binding.action}")()
                if inspect.isawaitable(done):
                    await done
                return

    def _resume_target(self) -> Path | None:
        """The run folder R goes on with: the last run cut short before this thau started, or the
        one just cancelled (or failed) in this window, when it holds a checkpoint and its recipe.
        R said nothing after a cancel until thau restarted (UX review). Or one trained whose scoring
        after training did not finish, which R scores (concurrency review)."""
        run = self.run
        if run is None:
            return self.last[0] if self.last is not None and self.last[2] else None
        if run.running:
            return None
        return run.run_dir if can_resume(run) or scores_again(run) else None

    async def action_resume_last(self) -> None:
        """Go on with the last run, cut short or cancelled, from its checkpoint; or score it, when
        it was trained and exported but its scoring after training did not finish."""
        folder = self._resume_target()
        if folder is None:  # dimmed, but a key pressed as the run changes must not pass in silence (UX review)
            self.notify("Nothing to resume: R goes on with a run cancelled or cut short after a checkpoint.")
            return
        if (folder == self.unscored and self.run is None) or (self.run is not None and scores_again(self.run)):
            # The scoring step alone: the trainer resumed at its last step would load the model to train nothing.
            command = score_command(folder, "after", None, self.score_limit or None)
            run = TrainingRun(folder / "recipe.yaml", folder, commands=[command])
            run.trained = True  # by the trainer that ran before: scored, the run is done
            await self._start_or_ask(run, f"Scoring {folder.name}")
            return
        run = TrainingRun(folder / "recipe.yaml", folder, resume=True, score=self.score, score_limit=self.score_limit)
        await self._start_or_ask(run, f"Resuming {folder.name}")

    async def action_start(self) -> None:
        """Start a run with the recipe, unless one is going."""
        if self.run is not None and self.run.running:
            self.notify("A run is already going: cancel it (x) before starting another.", severity="warning")
            return
        self._check_recipe()  # its file may have gone since the screen looked
        self._show_recipe()
        problem = self.recipe_problem
        if problem:
            self.notify(
                f"{problem}\nPress r to choose a recipe.",
                title="Cannot start training",
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        name = load_recipe(self.recipe).name
        run = TrainingRun(
            self.recipe,
            new_run_dir(runs_dir(self.config.train.runs_dir), name),
            score=self.score,
            score_limit=self.score_limit,
        )
        await self._start_or_ask(run, f"A run with {self.recipe.stem}")

    async def _start_or_ask(self, run: TrainingRun, what: str) -> None:
        """Start `run`, after a yes while another process trains in the runs folder: s started a
        second trainer on the cores the first used, with no word (concurrency review). A question,
        not a refusal: the lock is never stale (the system drops it with its trainer), and a
        machine with cores to spare may run two; the user knows which."""
        busy = trained_elsewhere(runs_dir(self.config.train.runs_dir))
        if busy is None:
            await self._start(run)
            return
        from .confirm import ConfirmModal

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            if self.run is not None and self.run.running:  # one started while the question was up
                self.notify("A run is already going: cancel it (x) before starting another.", severity="warning")
                return
            await self._start(run)

        self.app.push_screen(ConfirmModal(second_trainer_question(busy, what)), answered)

    async def _start(self, run: TrainingRun) -> None:
        self.run = run
        self._seen_version, self._seen_log, self._table_for = -1, 0, None
        self.query_one(LossPlot).forget()
        self.query_one("#training-log", RichLog).clear()
        self.query_one("#training-results").display = False
        try:
            await run.start()
        except OSError as exc:  # a read-only or full runs folder
            self.notify(
                f"{exc}\nSet train.runs_dir in config.yaml to a folder you can write.",
                title="Cannot start training",
                severity="error",
                timeout=15,
                markup=False,
            )
            return
        if hasattr(self.app, "training_run"):
            self.app.training_run = run
        self.post_message(self.RunStarted(run))
        self.refresh_view()

    def action_pause(self) -> None:
        run = self.run
        if run is None or not run.running:
            self.notify("No run is going.", severity="warning")
            return
        paused = run.toggle_pause()
        if not paused:
            self.notify("Resuming…")
        elif run.scoring:
            self.notify("Pausing after this eval case…")
        elif run.status == "data":
            self.notify("The data set cannot pause while it is built; the run pauses as soon as it is.")
        else:
            self.notify("Pausing after this step…")

    def action_cancel(self) -> None:
        """Cancel the run, after a yes: one key stopped an hour's run at once (keyboard review)."""
        if self.run is None or not self.run.running:
            self.notify("No run is going.", severity="warning")
            return
        from .confirm import ConfirmModal

        run = self.run

        def done(yes: bool | None) -> None:
            if yes and run.running:
                run.cancel()
                saves = run.step_name == "training" and run.step > 0  # at step 0 it has nothing to save
                self.notify("Cancelling: the trainer saves a checkpoint first." if saves else "Cancelling.")

        self.app.push_screen(ConfirmModal(cancel_question(run)), done)

    def action_open_folder(self) -> None:
        if self.run is None:
            self.notify("No run yet: start one with s.", severity="warning")
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        found = host_program(opener, getattr(getattr(self.app, "agent", None), "workspace", None))
        if found is None:
            self.notify(f"The run folder is {self.run.run_dir} (no {opener} here to open it).", markup=False)
            return
        subprocess.Popen([found, str(self.run.run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def action_use_adapter(self) -> None:
        if self.run is None or self.run.status != "done":
            self.notify("No finished run yet: the adapter is ready when the run says Done.", severity="warning")
            return
        path = self.run.adapter_gguf()
        if path is None:
            self.notify(
                f"No GGUF adapter yet: run `thau export {self.run.run_dir}` first.", severity="warning", markup=False
            )
            return
        better = bool(self.run.beats_current()) and not self._other_default(self.run)
        self.post_message(self.UseAdapter(path, better))
        self.notify(
            f"Loading the chat with {path.name}" + ("" if better else " (it did not beat what it was trained from)"),
            markup=False,
        )

    def _other_default(self, run: TrainingRun) -> str:
        return other_default(run, self.config)

    def action_back(self) -> None:
        self.app.pop_screen()
