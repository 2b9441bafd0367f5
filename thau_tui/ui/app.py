"""The thau chat app. It renders engine events and never calls the model or a tool itself."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer

from ..config import Config, ConfigResult, watch_config
from ..engine.agent import Agent, ChatSession
from ..engine.approvals import ApprovalBook
from ..engine.events import TurnStats
from ..engine.store import Store
from ..paths import approvals_path, database_path
from ..tools import build_registry
from .commands import SlashCommands, ThauCommands
from .rows import RowScreen
from .turn import TurnView
from .widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage
from .widgets.prompt_input import PromptInput
from .widgets.sessions import SessionsPanel
from .widgets.status_bar import StatusBar


WELCOME = (
    "Ask anything. The model can run tools (shell, Python, files, images, docs); "
    "anything that writes or executes waits for your y/n on its card. F1 lists the keys."
)


class ThauApp(SlashCommands, App):
    """Full-screen chat with a local model."""

    CSS_PATH = "app.tcss"
    TITLE = "thau"
    COMMANDS = App.COMMANDS | {ThauCommands}
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="stop", tooltip="Stop generation (keeps what was written)"),
        Binding("ctrl+n", "new_chat", "New chat", id="new-chat"),
        Binding("ctrl+b", "toggle_sessions", "Chats", id="toggle-sessions", tooltip="Show or hide past chats"),
        Binding("ctrl+o", "choose_model", "Model", id="choose-model"),
        Binding("ctrl+e", "export", "Export", id="export", tooltip="Save this chat as Markdown and JSONL"),
        Binding("ctrl+g", "gallery", "Images", id="gallery"),
        Binding("ctrl+t", "training", "Train", id="training"),
        Binding("ctrl+r", "approvals", "Approvals", id="approvals", show=False),
        Binding("f1", "help", "Help", id="help"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

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
        self.started = time.perf_counter()
        self.store = store or Store(database_path())
        self.registry = build_registry()
        self.approvals = ApprovalBook(approvals_path(), self.config.tools.policy)
        self.agent = Agent(self.config, self.registry, approvals=self.approvals, store=self.store, backend=backend,
                           text_batch_s=1 / self.config.ui.render_hz)  # one hand-over per frame
        self.session: ChatSession = None  # type: ignore[assignment]
        self._resume, self._load_model, self._watch = resume, load_model, watch
        self.training_run = None  # a TrainingRun that outlives its screen
        self.turn_running = False
        self.first_frame_s: float | None = None
        self.model_ready_s: float | None = None
        self.plugins = None
        if self.config.ui.keys:
            self.set_keymap(self.config.ui.keys)

    def get_default_screen(self) -> RowScreen:
        return RowScreen(id="_default")  # frames draw only the rows they change

    def compose(self) -> ComposeResult:
        from .widgets.image_pane import ImagePane

        with Horizontal(id="body"):
            yield SessionsPanel(self.store, id="sessions")
            with Vertical(id="main"):
                yield ChatView(id="chat")
                yield PromptInput(id="input")
                yield StatusBar(id="status")
            yield ImagePane(id="images")
        yield Footer()

    @property
    def chat(self) -> ChatView:
        return self.query_one("#chat", ChatView)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    def focus_input(self) -> None:
        self.query_one("#input", PromptInput).focus()

    async def on_mount(self) -> None:
        self.query_one("#sessions").display = self.config.ui.sidebar
        self.query_one("#images").display = False
        for error in self.config_result.errors:
            self.notify(error, title="config.yaml — using defaults for this", severity="error", timeout=15)
        if self.agent.backend is not None:
            self._backend_ready(self.agent.backend)
        elif self._load_model:
            self.status.model = "loading model…"
            self.load_model()
        last = self.store.last_session() if self._resume else None
        if last is not None:
            await self.open_session(last.id)
        else:
            self.session = self.agent.new_session()
            await self.chat.add(NoteMessage(WELCOME, "info"))
        self.focus_input()
        self.call_after_refresh(self._first_frame)
        self._start_plugins()
        self._show_sandbox()
        if self._watch and self.config_result.path is not None:
            self.run_worker(
                watch_config(self.config_result.path, self._config_changed, self.config), group="config", exclusive=True
            )

    def _first_frame(self) -> None:
        self.first_frame_s = time.perf_counter() - self.started

    def _show_sandbox(self) -> None:
        try:
            from ..tools.workspace import sandbox_status

            self.status.sandbox = sandbox_status(self.config).split(":")[0]
        except Exception as exc:  # the status line must never stop the app
            self.status.sandbox = f"unknown ({exc})"

    def _start_plugins(self) -> None:
        from ..tools.plugins import PluginLoader, plugins_folder

        folder = plugins_folder(self.config)
        self.plugins = PluginLoader(self.registry, folder)
        for path, error in (self.plugins.load_all() or {}).items():
            self.notify(f"{Path(path).name}: {error}", title="plugin not loaded", severity="warning")
        if folder.is_dir() and self._watch:
            self.run_worker(self.plugins.watch(self._plugins_changed), group="plugins", exclusive=True)

    def _plugins_changed(self, messages) -> None:
        for message in messages or []:
            self.notify(str(message), title="tools/")

    # --- the model -----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def load_model(self, lora: Path | None | str = "config") -> None:
        from ..engine.models import load_backend

        started = time.perf_counter()
        try:
            backend = load_backend(self.config, lora)
        except Exception as exc:
            self.post_message(self.ModelFailed(str(exc)))
            return
        self.post_message(self.ModelLoaded(backend, time.perf_counter() - started))

    def on_thau_app_model_loaded(self, message: ModelLoaded) -> None:
        self._backend_ready(message.backend)

    def _backend_ready(self, backend) -> None:
        self.agent.backend = backend
        self.model_ready_s = time.perf_counter() - self.started
        self._freeze_heap()
        self.status.model = f"{backend.name} · ctx {backend.n_ctx}"
        self.status.adapter = Path(backend.lora_path).name if backend.lora_path else ""

    @staticmethod
    def _freeze_heap() -> None:
        """Keep what is loaded by now (modules, the app, the model) out of Python's cyclic
        garbage collections: a full one walked all of it, 45-60 ms with the GIL held (a
        stall for the model thread too, once every few answers); after this, under
        20 ms. Unfrozen first, so that whatever a previous model left behind is freed."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def on_thau_app_model_failed(self, message: ModelFailed) -> None:
        self.status.model = "no model"
        self.notify(message.error, title="model not loaded", severity="error", timeout=20)

    # --- config ------------------------------------------------------------------------
    def _config_changed(self, result: ConfigResult) -> None:
        if not result.ok:
            self.notify("\n".join(result.errors), title="config.yaml not applied: keeping the last good one",
                        severity="error", timeout=15)
            return
        model_changed = result.config.model != self.config.model
        self.config = result.config
        self.agent.config = result.config
        self.agent.text_batch_s = 1 / result.config.ui.render_hz
        self.approvals.set_policy(result.config.tools.policy)
        self.notify("config.yaml reloaded" + (" — /model to reload the model" if model_changed else ""))

    # --- sessions ----------------------------------------------------------------------
    async def open_session(self, sid: str) -> None:
        if self.turn_running:
            self.notify("wait for the answer to finish (Esc stops it)", severity="warning")
            return
        if self.session is not None:
            self.session.close()
        self.session = self.agent.load_session(sid)
        await self.chat.clear()
        dialect = self.agent.dialect
        for message in self.session.messages:
            if message["role"] == "user":
                await self.chat.mount(UserMessage(message["content"]))
            elif message["role"] == "assistant":
                visible = dialect.text_before_call(message["content"]).strip()
                if visible:
                    await self.chat.mount(AssistantMessage(visible))
                for parsed in dialect.parse_calls(message["content"]):
                    if parsed.call:
                        await self.chat.mount(NoteMessage(f"called {parsed.call.name} {parsed.call.arguments}", "tool"))
        self.chat.scroll_end(animate=False)
        self.sub_title = self.session.title

    def on_sessions_panel_resume(self, message: SessionsPanel.Resume) -> None:
        self.run_worker(self.open_session(message.session_id), group="session")

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
        if text.startswith("/"):
            await self.run_slash(text)
            return
        if self.turn_running:
            self.notify("thau is still answering; Esc stops it", severity="warning")
            return
        if self.agent.backend is None:
            self.notify("the model is still loading; try again in a moment", severity="warning")
            return
        self.send(text)

    def send(self, text: str):
        """Start a turn for `text` (also used by tests and commands); returns its worker."""
        shared = self._fit_threads()
        self.turn_running = True
        self.status.activity = "thinking on 1 thread while training runs…" if shared else "thinking…"
        self.query_one(PromptInput).cursor_blink = False  # a blink repaints the prompt: not while streaming
        return self.run_worker(self._run_turn(text), group="turn", exclusive=True, exit_on_error=False)

    def _fit_threads(self) -> bool:
        """While a training run shares the cores, the chat decodes on one thread. llama.cpp's
        threads and the trainer's spin-wait; on the same cores both crawl (measured on 2
        cores beside a 1-thread trainer: 7.4 tok/s on 2 threads, 41 tok/s on 1)."""
        run = self.training_run
        shared = run is not None and getattr(run, "running", False)
        set_threads = getattr(self.agent.backend, "set_threads", None)
        if set_threads is not None:
            set_threads(1 if shared else None)
        return shared

    async def _run_turn(self, text: str) -> None:
        view = TurnView(self, self.chat)
        await view.ask(text)
        await self._render_events(self.agent.run_turn(self.session, text), view)
        self.sub_title = self.session.title
        self.query_one(SessionsPanel).refresh_list()

    async def _render_events(self, events, view: TurnView | None = None) -> None:
        """Render an engine event stream into the chat; the turn ends however it ends."""
        view = view or TurnView(self, self.chat)
        try:
            async for event in events:
                await view.handle(event)
        finally:
            self.turn_running = False
            self.status.activity = ""
            self.query_one(PromptInput).cursor_blink = True

    def show_stats(self, stats: TurnStats) -> None:
        self.status.speed = f"{stats.tokens_per_s:.1f} tok/s"
        self.status.context = f"ctx {stats.context_used}/{stats.n_ctx}"

    def show_image(self, path: str) -> None:
        pane = self.query_one("#images")
        pane.display = True
        pane.add(path)

    # --- actions -----------------------------------------------------------------------
    def action_stop(self) -> None:
        if self.turn_running:
            self.agent.cancel()

    async def action_new_chat(self) -> None:
        if self.turn_running:
            self.agent.cancel()
        if self.session is not None:
            self.session.close()
        self.session = self.agent.new_session()
        await self.chat.clear()
        await self.chat.add(NoteMessage(WELCOME, "info"))
        self.sub_title = ""
        self.query_one(SessionsPanel).refresh_list()
        self.focus_input()

    def action_toggle_sessions(self) -> None:
        panel = self.query_one(SessionsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.refresh_list()
            panel.query_one("#session-list").focus()
        else:
            self.focus_input()

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        rows = [(b.key, b.description) for b in self.BINDINGS if isinstance(b, Binding)]
        self.push_screen(HelpScreen(rows))

    def action_export(self, kind: str = "both") -> list[Path]:
        """Write this chat to exports/ in the data dir as Markdown and/or JSONL."""
        from ..paths import data_dir

        folder = data_dir() / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.session.id}"
        if kind in ("both", "md"):
            path = folder / f"{stem}.md"
            path.write_text(self.store.export_markdown(self.session.id), encoding="utf-8")
            written.append(path)
        if kind in ("both", "jsonl"):
            path = folder / f"{stem}.jsonl"
            path.write_text(self.store.export_jsonl(self.session.id), encoding="utf-8")
            written.append(path)
        self.notify("saved " + ", ".join(str(p) for p in written), title="export")
        return written

    def action_approvals(self) -> None:
        from .screens.approvals import ApprovalsScreen

        self.push_screen(ApprovalsScreen(self.approvals))

    def action_gallery(self) -> None:
        from .screens.gallery import GalleryScreen

        self.push_screen(GalleryScreen())

    def action_training(self) -> None:
        from .screens.training import TrainingScreen

        self.push_screen(TrainingScreen(self.config, run=self.training_run))

    def action_choose_model(self) -> None:
        from .screens.model_picker import ModelPicker

        def chosen(choice) -> None:
            if choice is not None:
                model, lora = choice
                self.config.model.path = str(model)
                self._reload_model(lora, f"loading {Path(model).name}…")

        self.push_screen(ModelPicker(self.config), chosen)

    def on_gallery_screen_show(self, message) -> None:
        self.show_image(str(message.path))

    def on_gallery_screen_rerun(self, message) -> None:
        """Re-run an image from the gallery: the user asked, so it runs without a card prompt."""
        from ..tools.base import ToolCall

        if self.turn_running:
            self.notify("wait for the current answer to finish", severity="warning")
            return
        call = ToolCall("generate_image", message.arguments())
        self.turn_running = True
        self.run_worker(self._render_events(self.agent.run_user_call(self.session, call)),
                        group="turn", exclusive=True, exit_on_error=False)

    def on_training_screen_run_started(self, message) -> None:
        self.training_run = message.run

    def on_training_screen_use_adapter(self, message) -> None:
        """Reload the chat with the trained adapter; it becomes the default only if it scored better."""
        from ..engine.models import promote_adapter, resolve_model

        if message.better:
            model, _ = resolve_model(self.config)
            promote_adapter(message.path, model)
            self.notify(f"{Path(message.path).name} beat the current model on eval: it is now the default adapter")
        else:
            self.notify("loaded for this session only: it did not beat the current model on eval",
                        severity="warning")
        self._reload_model(message.path, "loading adapter…")

    def _reload_model(self, lora, status: str) -> None:
        # The load runs on the model thread after the generation there: stop the answer first.
        if self.turn_running:
            self.agent.cancel()
        self.status.model = status
        self.agent.backend = None
        self.load_model(lora)

    async def action_quit(self) -> None:
        run = self.training_run
        if run is not None and getattr(run, "running", False):
            from .screens.prompt_modal import PromptModal

            def answer(text: str | None) -> None:
                if text and text.lower().startswith("y"):
                    run.cancel()
                    self.exit()

            self.push_screen(PromptModal("Training is running. Stop it and quit? (y/n)", ""), answer)
            return
        if self.turn_running:  # stop generating now rather than finishing the answer on exit
            self.agent.cancel()
        if self.session is not None:
            self.session.close()
        self.exit()
