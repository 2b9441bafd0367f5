"""The thau chat app. It renders engine events and never calls the model or a tool itself."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen

from ..config import Config, ConfigResult, watch_config
from ..engine import approvable_programs
from ..engine.agent import Agent, ChatSession
from ..engine.approvals import ApprovalBook
from ..engine.events import TurnStats
from ..engine.store import Store, StoreError
from ..paths import approvals_path, database_path
from ..tools import build_registry
from .clipboard import Copying
from .commands import SlashCommands, ThauCommands, is_command
from .focus_order import FocusOrder
from .history import SavedChats, draw_chat
from .model_loading import ModelLoading
from .other_screens import NARROW_WIDTH, OtherScreens
from .rows import RowScreen
from .services import AT_START, QUIT_WHILE_TRAINING, WELCOME, AppServices
from .turn import TurnRenderer
from .widgets.chat import ChatView, NoteMessage
from .widgets.fitting_footer import FittingFooter
from .widgets.prompt_input import PromptInput
from .widgets.sessions import SessionsPanel
from .widgets.status_bar import StatusBar

log = logging.getLogger(__name__)


class ThauApp(FocusOrder, SlashCommands, OtherScreens, ModelLoading, AppServices, Copying, SavedChats, App):
    """Full-screen chat with a local model; the host of each turn's TurnRenderer (turn.TurnHost)."""

    CSS_PATH = "app.tcss"
    TITLE = "thau"
    COMMANDS = App.COMMANDS | {ThauCommands}
    # The chat's keys are priority bindings: they work whatever has focus (the prompt's
    # TextArea has its own Ctrl+E, which hid Export there), except under a modal screen,
    # which keeps its keys (check_action).
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="stop", tooltip="Stop generation (keeps what was written)"),
        Binding("f1", "help", "Help", id="help", priority=True),  # early: never the key a narrow footer cuts
        # Shown only while a card waits, and then early: last, the footer cut it off at 100
        # columns, when it is the key that matters (helper's UX review).
        Binding("f4", "answer_card", "Answer", id="answer-card", tooltip="Go to the card that asks", priority=True),
        Binding("ctrl+n", "new_chat", "New chat", id="new-chat", priority=True),
        Binding(
            "ctrl+b", "toggle_sessions", "Chats", id="toggle-sessions", tooltip="Show or hide past chats", priority=True
        ),
        Binding("ctrl+o", "choose_model", "Model", id="choose-model", priority=True),
        Binding(
            "ctrl+e", "export", "Export", id="export", tooltip="Save this chat as Markdown and JSONL", priority=True
        ),
        Binding("ctrl+g", "gallery", "Images", id="gallery", priority=True),
        Binding("ctrl+t", "training", "Train", id="training", priority=True),
        Binding("f5", "toggle_images", "Image pane", id="toggle-images", tooltip="Show or hide images", priority=True),
        Binding("f5", "no_images", id="toggle-images", show=False, priority=True),  # no image yet: says so
        Binding("ctrl+r", "approvals", "Approvals", id="approvals", show=False, priority=True),
        Binding(
            "f2",
            "copy_answer",
            "Copy",
            id="copy-answer",
            tooltip="Copy the last answer to the clipboard",
            priority=True,
        ),
        Binding(
            "f3",
            "copy_code",
            "Copy code",
            id="copy-code",
            tooltip="Copy the last code block of the answers to the clipboard",
            priority=True,
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        # Copies a selection, else stops the answer as Esc does: it did nothing, unsaid (UX review)
        Binding("ctrl+c", "interrupt", "Copy or stop", id="interrupt", show=False, priority=True),
    ]
    CHAT_ACTIONS = frozenset(
        {
            "new_chat",
            "toggle_sessions",
            "choose_model",
            "export",
            "gallery",
            "training",
            "approvals",
            "copy_answer",
            "copy_code",
            "help",
            "answer_card",
            "toggle_images",
            "no_images",
            "interrupt",
        }
    )

    # Posted by ModelLoading.load_model; here, since a message's handler name comes from
    # where it is defined (on_thau_app_model_loaded).
    @dataclass
    class ModelLoaded(Message):
        backend: object
        seconds: float

    @dataclass
    class ModelFailed(Message):
        error: str

    def __init__(
        self,
        config_result: ConfigResult,
        *,
        resume: bool = False,
        store: Store | None = None,
        load_model: bool = True,
        backend=None,
        watch: bool = True,
    ) -> None:
        super().__init__()
        self.config: Config = config_result.config
        self.config_result = config_result
        self.model_in_file = config_result.config.model.model_copy()  # the picker changes self.config's
        self.started = time.perf_counter()
        self.store = store or Store(database_path())
        with contextlib.suppress(StoreError):  # a locked database keeps them; nothing else depends on it
            self.store.prune_abandoned()
        self.registry = build_registry()
        self.approvals = ApprovalBook(approvals_path(), self.config.tools.policy)
        approvable_programs.set_added(self.config.tools.shell.approvable_by_name)
        self.agent = Agent(
            self.config,
            self.registry,
            approvals=self.approvals,
            store=self.store,
            backend=backend,
            text_batch_s=1 / self.config.ui.render_hz,
        )  # one hand-over per frame
        self.session: ChatSession = None  # type: ignore[assignment]
        self._resume, self._load_model, self._watch = resume, load_model, watch
        self.training_run = None  # a TrainingRun that outlives its screen
        self.training_recipe: Path | None = None  # the recipe picked there, kept for its next opening
        self._training_shown = ""  # what the status line last said about it
        self.turn_running = False
        self.thinking = "thinking…"  # what the status line says while the model reads and thinks
        self.stopping = False  # Esc was pressed; the engine is winding the turn down
        self.model_error: str | None = None  # why the last model load failed
        self.queued: str | None = None  # a message sent while the model loads
        self._sidebar_auto_hidden = False
        self.first_frame_s: float | None = None
        self.model_ready_s: float | None = None
        self.plugins = None
        self.mcp = None  # the MCP servers (tools/mcp_client.py), started on mount
        self.key_problems: list[str] = []
        self.typed_ahead = ""  # keys typed before the app started (cli.run_chat): into the prompt
        if self.config.ui.keys:  # checked only when set: the check imports every screen
            from .keymap_check import checked_keymap

            keys, self.key_problems = checked_keymap(self.config.ui.keys)
            self.set_keymap(keys)

    def get_default_screen(self) -> RowScreen:
        return RowScreen(id="_default")  # frames draw only the rows they change

    def compose(self) -> ComposeResult:
        from .widgets.image_pane import ImagePane

        with Horizontal(id="body"):
            yield SessionsPanel(self.store, id="sessions")
            with Vertical(id="main"):
                yield (chat := ChatView(id="chat"))
                yield PromptInput(id="input")
                yield (status := StatusBar(id="status"))
            yield ImagePane(id="images")
        yield FittingFooter(compact=True)  # every key at 110 columns; the least useful go first below
        # Kept, not searched for: a search walks every widget of a long chat (46 ms a second
        # at 5,700 widgets for the training line alone: reliability review).
        self._chat_view, self._status_bar = chat, status

    @property
    def chat(self) -> ChatView:
        return self._chat_view

    @property
    def status(self) -> StatusBar:
        return self._status_bar

    def focus_input(self) -> None:
        self.query_one("#input", PromptInput).focus()

    async def on_mount(self) -> None:
        self.query_one("#sessions").display = self.config.ui.sidebar
        self._fit_sidebar(self.size.width, start=True)
        self.query_one("#images").display = False
        if self.agent.backend is not None:
            self._backend_ready(self.agent.backend)
        elif self._load_model:
            self.status.model = "loading model…"
            self.load_model()
        await self._open_first_chat()
        if self.config_result.errors or self.key_problems:  # one notice for the file, every problem in it
            await self.config_problems(
                [*self.config_result.errors, *self.key_problems],
                AT_START,
                (
                    "A bad tools.policy entry asks. "
                    if any("tools.policy" in e for e in self.config_result.errors)
                    else ""
                )
                + "Fix the file and thau applies it.",
            )
        self.focus_input()
        self.restore_unsent()
        if self.typed_ahead:  # typed while thau started (cli.run_chat, type_ahead.py)
            self.query_one("#input", PromptInput).insert(self.typed_ahead)
        self._catch_signals()
        self.call_after_refresh(self._first_frame)
        self.set_interval(1.0, self.show_training)
        self.set_interval(1.0, self.show_quiet)
        self._start_plugins()
        self._note_local_config()
        self._start_mcp()
        self._show_sandbox()
        if self._watch and self.config_result.path is not None and not self._config_in_workspace():
            # watched even before the file exists
            self.run_worker(
                watch_config(
                    self.config_result.path, self._config_changed, self.config, candidates=self._config_candidates()
                ),
                group="config",
                exclusive=True,
            )

    def _first_frame(self) -> None:
        self.first_frame_s = time.perf_counter() - self.started

    # --- sessions ----------------------------------------------------------------------
    async def open_session(self, sid: str) -> None:
        if self.turn_running:
            self.notify(self.why_busy(), severity="warning")
            return
        try:  # another thau may have deleted it since this list was drawn, or holds the database
            session = self.agent.load_session(sid)
            calls = {row["id"]: row for row in self.store.tool_calls(sid)} if self.store else {}
            decisions = {row["call_id"]: row for row in self.store.decisions(sid)} if self.store else {}
            answering = bool(self.store) and self.store.turn_running(sid)  # in another window
        except (KeyError, StoreError) as exc:
            why = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            self.notify(f"{why}; the chat you had open stays open.", title="cannot open that chat", markup=False)
            self.query_one(SessionsPanel).refresh_list()
            return
        if self.session is not None and self.session.id != sid:
            with contextlib.suppress(StoreError):  # an empty chat left behind is pruned at the next start
                self._leave_session()
        self.session = session
        self.query_one(PromptInput).set_history([m["content"] for m in self.session.messages if m["role"] == "user"])
        self.workers.cancel_group(self, "earlier")  # the chat before was drawing its earlier messages
        await self.chat.clear()
        # A copy: a turn sent meanwhile appends to the session's own list (drawn twice: review)
        await draw_chat(self.chat, list(self.session.messages), self.saved_drawer(sid, calls, decisions, answering))
        self.chat.scroll_end(animate=False)
        # Once more after the layout: at start (--resume) the first call ran before the chat
        # had its size, and the chat opened at its first question (helper's UX review).
        self.call_after_refresh(self.chat.scroll_end, animate=False)
        self.sub_title = self.session.title
        self.show_stats(None)
        self.forget_images()
        self.focus_input()  # the chat is open: the prompt has the keys, not the chats list

    def on_chat_view_typed(self, message: ChatView.Typed) -> None:
        prompt = self.query_one(PromptInput)
        prompt.focus()
        prompt.move_cursor(prompt.document.end)
        prompt.insert(message.character)

    def on_sessions_panel_resume(self, message: SessionsPanel.Resume) -> None:
        # exclusive: the chat opened before stops drawing (it went on into this one: review)
        self.run_worker(self.open_session(message.session_id), group="session", exclusive=True)
        panel = self.query_one(SessionsPanel)
        if self.size.width < NARROW_WIDTH and panel.display:  # the chat gets the room (UX review)
            panel.display = False
            self.focus_input()

    def on_sessions_panel_rename(self, message: SessionsPanel.Rename) -> None:
        if self.session and self.session.id == message.session_id:
            self.session.title = message.title
            self.sub_title = message.title

    async def on_sessions_panel_deleted(self, message: SessionsPanel.Deleted) -> None:
        if self.session and self.session.id == message.session_id:
            await self.action_new_chat()

    # --- turns -------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        text = event.text
        if is_command(text):
            await self.run_slash(text)
            return
        if any(w.group == "session" and not w.is_finished for w in self.workers):
            self.notify("The chat is still being opened; your message is back in the prompt.", severity="warning")
            self.give_back(text)
            return
        if self.turn_running:
            self.notify("thau is still answering; Esc stops it", severity="warning")
            self.give_back(text)
            return
        if self.agent.backend is None:
            self._wait_for_model(text)
            return
        if self.answered_elsewhere(text):
            return
        self.send(text)

    def send(self, text: str):
        """Start a turn for `text` (also used by tests and commands); returns its worker."""
        shared = self._fit_threads()
        self.turn_running = True
        self.thinking = "thinking on 1 thread while training runs…" if shared else "thinking…"
        self.status.activity, self.turn_heard = self.thinking, time.monotonic()
        self.query_one(PromptInput).cursor_blink = False  # a blink repaints the prompt: not while streaming
        return self.run_worker(self._run_turn(text), group="turn", exclusive=True, exit_on_error=False)

    def show_activity(self, text: str) -> None:
        """What the turn is doing, on the status line (kept at "stopping…" after Esc)."""
        self.turn_heard = time.monotonic()
        if not self.stopping:
            self.status.activity = text

    async def _run_turn(self, text: str) -> None:
        await self._render_events(self.agent.run_turn(self.session, text), question=text)
        await self.fold_long_chat()
        self.sub_title = self.session.title
        self.query_one(SessionsPanel).refresh_list()

    async def _render_events(self, stream, question: str | None = None) -> None:
        """Render an engine event stream into the chat; the turn ends however it ends.

        The turn's worker reports nothing when it fails (exit_on_error=False): an error
        here would end the turn silently, so it is shown (in the chat, a notification
        and the log), and the engine is stopped."""
        renderer = self._renderer = TurnRenderer(self, self.chat)
        try:
            if question is not None:
                await renderer.ask(question)
            async for event in stream:
                await renderer.handle(event)
        except Exception as exc:
            self.agent.cancel()
            log.exception("the answer stopped: thau could not show it")
            self.log.error(exc)
            self.notify(
                f"{type(exc).__name__}: {exc}",
                title="the answer stopped: thau could not show it",
                severity="error",
                timeout=20,
                markup=False,
            )
            try:
                await renderer.failed(exc)
            except Exception:  # the chat itself cannot draw: the notification and the log said it
                log.exception("the error could not be shown in the chat either")
        finally:
            await stream.aclose()
            self.turn_running = self.stopping = False
            self.close_left_session()
            self.status.activity = ""
            self.query_one(PromptInput).cursor_blink = True

    def show_training(self) -> None:
        """A running training run on the status line ("training 34% · ETA 12 min"), while the
        chat has nothing of its own to say there; a turn's activity wins."""
        run = self.training_run
        text = run.short_status() if run is not None else ""
        status = getattr(self, "_status_bar", None)  # the chat's status line, under any screen
        if status is None or not status.is_attached:  # the app is closing: its widgets go before this timer stops
            return
        if status.activity in ("", self._training_shown):
            status.activity = text
            self._training_shown = text

    def show_stats(self, stats: TurnStats | None) -> None:
        """The last turn's speed and context use; None: a chat just opened or begun, none yet."""
        if stats is None:
            backend = self.agent.backend
            self.status.speed = ""
            self.status.context = f"ctx {backend.n_ctx}" if backend is not None else ""
            return
        self.status.speed = f"{stats.tokens_per_s:.1f} tok/s" if stats.tokens else ""
        if stats.context_used:  # a turn that failed before the model read anything: "ctx 0/4096" misled
            self.status.context = f"ctx {stats.context_used}/{stats.n_ctx}"

    # --- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc's Stop stays in the footer between turns: a footer that changes costs a layout
        if action == "answer_card":
            return self.answer_card_enabled()
        if action in ("toggle_images", "no_images"):  # F5 shows the pane once there is an image
            if (action == "toggle_images") != bool(self.query_one("#images").images):
                return False  # nothing to show: no key for it in the footer
        if action in self.CHAT_ACTIONS and self.screen is not self.screen_stack[0]:
            if isinstance(self.screen, ModalScreen):
                return False  # a modal keeps its own keys, as before these were priority bindings
            # The gallery and training screens: Ctrl+T there opened a second training screen
            # and Ctrl+N reset the chat hidden behind it. Help and the approvals stay.
            return action in ("help", "approvals")
        return True

    def action_stop(self) -> None:
        """Stop the answer; the engine may take a moment, so say so at once."""
        if self.queued is not None:
            self.give_back(self.queued)
            self.queued = None
            self.status.activity = ""
        if self.turn_running:
            self.agent.cancel()
            self.stopping = True
            self.status.activity = "stopping…"

    def action_scroll_chat(self, how: str) -> None:
        """Scroll the chat from wherever the focus is (PgUp/PgDn, Ctrl+Up/Down, Ctrl+Home/End)."""
        self.chat.scroll_by_key(how)

    async def action_new_chat(self) -> None:
        self.workers.cancel_group(self, "session")  # a chat still being drawn stops
        self.workers.cancel_group(self, "earlier")
        if self.turn_running:
            if self.waiting_card(focused_too=True) is not None:  # said: the card goes with the old chat
                self.notify("the call that waited for your answer was cancelled", severity="warning")
            self.agent.cancel()
            if (renderer := getattr(self, "_renderer", None)) is not None:
                renderer.detached = True  # its "stopped" and notes belong to the old chat, not the new one
        try:  # a tool still running keeps its shell until it has stopped: closed under it, the
            self._leave_session(close=not self.turn_running)  # command died unsaid (concurrency review)
            session = self.agent.new_session()
        except StoreError as exc:  # a full disk, or another thau holding the database
            self.notify(f"{exc}; this chat stays open.", title="no new chat", severity="error", markup=False)
            return
        self.session = session
        self.query_one(PromptInput).set_history([])
        await self.chat.clear()
        await self.chat.add(NoteMessage(WELCOME, "info"))
        self.sub_title = ""
        self.show_stats(None)  # not the last chat's speed and context
        self.forget_images()
        self.query_one(SessionsPanel).refresh_list()
        self.focus_input()

    async def action_quit(self) -> None:
        run = self.training_run
        if run is not None and getattr(run, "running", False):
            from .screens.confirm import ConfirmModal

            if isinstance(self.screen, ConfirmModal) and self.screen.question == QUIT_WHILE_TRAINING:
                return  # already asking: a second Ctrl+Q does not stack another question

            def answer(yes: bool | None) -> None:
                if yes:
                    run.cancel()
                    self.save_unsent(self.query_one(PromptInput).text)
                    self.exit()

            self.push_screen(ConfirmModal(QUIT_WHILE_TRAINING), answer)
            return
        if self.turn_running:  # stop generating now rather than finishing the answer on exit
            self.agent.cancel()
        self.save_unsent(self.query_one(PromptInput).text)
        with contextlib.suppress(StoreError):  # an empty chat left behind is pruned at the next start
            self._leave_session()
        self.close_left_session()
        self.exit()
