"""The app's other screens (help, approvals, gallery, training, model picker) and
export: the actions that open them and the messages they send back; F4, which goes
to a card that waits for an answer while the user writes in the prompt; and the chats
panel's place on a narrow terminal."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

NARROW_WIDTH = 90  # below this many columns the chats panel hides unless the user opens it


class OtherScreens:
    """Mixin for the app."""

    def waiting_card(self, *, focused_too: bool = False):
        """The first card in the chat that asks (a tool call or the model's question) and
        does not have the focus (a card focused under another screen does not), or None;
        `focused_too`: whether it has the focus or not."""
        from .widgets.ask_card import AskCard
        from .widgets.tool_card import ToolCard

        for card in self.chat.query("ToolCard, AskCard"):
            focused = card.has_focus_within and card.screen is self.screen and not focused_too
            if (isinstance(card, ToolCard) and card.state == "awaiting" and not focused) or (
                isinstance(card, AskCard) and card.waiting
            ):
                return card
        return None

    @staticmethod
    def leaves_for_card(screen: object) -> bool:
        """Whether F4 may close `screen` to reach a card that asks: the gallery, training
        and help screens only show things (training goes on behind)."""
        from .screens.gallery import GalleryScreen
        from .screens.help import HelpScreen
        from .screens.training import TrainingScreen

        return isinstance(screen, (GalleryScreen, HelpScreen, TrainingScreen))

    def why_busy(self) -> str:
        """Why the open chat cannot be left now, for a notice."""
        if self.waiting_card(focused_too=True) is not None:
            return "a card waits for your answer: answer it (F4 goes to it) or cancel the turn (Esc)"
        return "wait for the answer to finish (Esc stops it)"

    def answer_card_enabled(self) -> bool:
        """F4 is on while a card asks, in the chat or over a screen that only shows things
        (the notice says "press F4"); a modal that waits for its own answer keeps its keys."""
        return self.waiting_card() is not None and all(map(self.leaves_for_card, self.screen_stack[1:]))

    def action_answer_card(self) -> None:
        from .widgets.ask_card import AskCard

        while len(self.screen_stack) > 1 and self.leaves_for_card(self.screen):
            self.pop_screen()
        if (card := self.waiting_card()) is not None:
            if isinstance(card, AskCard):
                card.focus_answer()
            else:
                card.focus()  # a ToolCard holds its keys for ARM_S first
            card.scroll_visible()

    def action_help(self) -> None:
        from .screens.help import HelpScreen, help_sections

        self.push_screen(HelpScreen(help_sections(self)))

    def action_export(self, kind: str = "both") -> list[Path]:
        """Write this chat to exports/ in the data dir as Markdown and/or JSONL, now, and
        return the files written (/export and tests call it; Ctrl+E runs `_action_export`)."""
        chat = self._chat_to_export()
        return [] if chat is None else self._export(kind, *chat)

    def _action_export(self, kind: str = "both") -> None:
        """Ctrl+E: the same export in a thread. On the UI thread a 5,000-message chat held the
        keys for 1.85 s (reliability review). Textual runs `_action_NAME` before `action_NAME`."""
        if (chat := self._chat_to_export()) is not None:
            self.run_worker(partial(self._export, kind, *chat), thread=True, group="export", exit_on_error=False)

    def _chat_to_export(self) -> tuple[str, str, list[dict], int] | None:
        """This chat's id, title and messages as they are now, and where the model's view of them
        starts (ChatSession.view_start); or None (and a notice) when empty."""
        if not any(m["role"] != "system" for m in self.session.messages):  # an empty "# New chat" file
            self.notify("Nothing to export yet: this chat has no messages.", title="export", markup=False)
            return None
        # The chat as it is here, not as the store has it: deleted in another window, the store's
        # copy was empty and the export said "saved" (chats review); unsaved messages are in it too
        messages = [dict(m) for m in self.session.messages]
        return self.session.id, self.session.title, messages, min(self.session.view_start, len(messages))

    def _export(self, kind: str, sid: str, title: str, messages: list[dict], view_start: int = 0) -> list[Path]:
        """Write the export's files, each whole or not at all (`replace_file`: a write that
        failed or was killed left a 0-byte .md under its final name: reliability review), and
        say what was saved. Runs in a thread too: only the store and `notify`, both thread-safe.
        `view_start`: where the model's view of the chat starts (the Markdown marks it)."""
        from ..engine import chat_export
        from ..engine.store import StoreError
        from ..paths import FolderError, data_dir, replace_file

        written: list[Path] = []
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{sid}"
        try:
            folder = data_dir() / "exports"
            folder.mkdir(parents=True, exist_ok=True)
            if kind in ("both", "md"):
                path = folder / f"{stem}.md"
                try:  # each result's status as recorded (an invalid call, a denial); else read from the text
                    store = self.store
                    calls = (
                        chat_export.with_decisions(store.tool_calls(sid), store.decisions(sid))
                        if store is not None
                        else None
                    )
                except StoreError:
                    calls = None
                answering = bool(getattr(self, "turn_running", False))
                replace_file(path, chat_export.markdown(title, messages, calls, answering, view_start))
                written.append(path)
            if kind in ("both", "jsonl"):
                path = folder / f"{stem}.jsonl"
                replace_file(path, chat_export.jsonl(sid, messages))
                written.append(path)
        except (OSError, StoreError, FolderError) as exc:  # a full or read-only disk: the chat stays saved
            done = f" (saved {', '.join(str(p) for p in written)})" if written else ""
            self.notify(f"{exc}{done}", title="export failed", severity="error", markup=False)
            return written
        self.notify("saved " + ", ".join(str(p) for p in written), title="export", markup=False)
        return written

    def action_tools(self) -> None:
        from .screens.tools import ToolsScreen, tool_rows

        self.push_screen(ToolsScreen(tool_rows(self.registry, self.config)))

    def action_approvals(self) -> None:
        from .screens.approvals import ApprovalsScreen

        path = self.config_result.path  # the default one's path even when there is no file (UX review)
        chat = self.session.id if self.session is not None else None
        unknown = self.registry.unknown_in_policy(self.config.tools.policy, (s.name for s in self.config.mcp.servers))
        typos = frozenset(line.split(":", 1)[0].removeprefix("tools.policy.") for line in unknown)
        file = path if path is not None and path.is_file() else None
        self.push_screen(ApprovalsScreen(self.approvals, file, chat, typos))

    def show_image(self, path: str) -> None:
        pane = self.query_one("#images")
        pane.add(path)
        self._show_images(True)
        self.refresh_bindings()  # F5 is offered once there is an image

    def forget_images(self) -> None:
        """Another chat opens without the last one's images: the pane said "image 2/2" and [
        showed the chat before's picture (images review). Hidden until an image comes."""
        pane = self.query_one("#images")
        if pane.images:
            pane.images.clear()
            pane.index = -1
            if pane.display:
                self._show_images(False)
            self.refresh_bindings()  # F5 is offered only once there is an image

    def _show_images(self, shown: bool) -> None:
        """The image pane shown or hidden; shown on a narrow terminal, the chats panel makes
        room (the two left the chat 4 columns at 80: narrow-terminal review), as it does when
        the terminal narrows, and comes back when it widens."""
        from .widgets.sessions import SessionsPanel

        self.query_one("#images").display = shown
        panel = self.query_one(SessionsPanel)
        if shown and self.size.width < NARROW_WIDTH and panel.display:
            panel.display, self._sidebar_auto_hidden = False, True
            if self.focused is not None and panel in self.focused.ancestors:
                self.focus_input()

    def action_toggle_images(self) -> None:
        """F5: hide the image pane, or show it again (it had no way to close)."""
        pane = self.query_one("#images")
        self._show_images(not pane.display)
        if not pane.display and self.focused is not None and pane in (self.focused, *self.focused.ancestors):
            self.focus_input()

    def action_no_images(self) -> None:
        """F5 before any image: it did nothing, unsaid (UX review)."""
        self.notify("No image in this chat yet: the image pane opens when a tool makes one. Ctrl+G lists all images.")

    def action_gallery(self) -> None:
        from .screens.gallery import GalleryScreen

        self.push_screen(GalleryScreen())

    def action_training(self) -> None:
        from .screens.training import TrainingScreen

        self.push_screen(TrainingScreen(self.config, run=self.training_run))

    def action_choose_model(self) -> None:
        from .screens.model_picker import ModelPicker, ServerModel

        def chosen(choice) -> None:
            if isinstance(choice, ServerModel):
                self.config.model.server_model = str(choice)
                self._reload_model(None, f"switching to {choice}…")
            elif choice is not None:
                model, lora = choice
                self.config.model.path = str(model)
                self._forget_promotion(Path(model), lora)
                self._reload_model(lora, f"loading {Path(model).name}…")

        self.push_screen(ModelPicker(self.config, server=self.agent.backend), chosen)

    def _forget_promotion(self, model: Path, lora) -> None:
        from ..engine.models import unpromote_adapter

        try:
            forgotten = unpromote_adapter(model, Path(lora) if lora else None)
        except OSError as exc:
            self.notify(f"the default adapter could not be changed: {exc}", severity="warning", markup=False)
            return
        if forgotten is not None:
            self.notify(
                f"{forgotten.name} is no longer the default adapter: thau starts as model.lora_path says",
                markup=False,
            )

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
        self.run_worker(
            self._render_events(self.agent.run_user_call(self.session, call)),
            group="turn",
            exclusive=True,
            exit_on_error=False,
        )

    def on_training_screen_run_started(self, message) -> None:
        self.training_run = message.run

    def on_training_screen_use_adapter(self, message) -> None:
        """Reload the chat with the trained adapter; it becomes the default only if it scored better."""
        from ..engine.models import promote_adapter, resolve_model

        if message.better:
            model, _ = resolve_model(self.config)
            try:
                promote_adapter(message.path, model)
            except OSError as exc:
                self.notify(f"could not keep it as the default: {exc}", severity="warning", markup=False)
            else:
                self.notify(
                    f"{Path(message.path).name} beat what it was trained from on eval: it is now the default adapter",
                    markup=False,
                )
        else:
            self.notify("loaded for this session only: it did not beat what it was trained from", severity="warning")
        self._reload_model(message.path, "loading adapter…")

    def on_resize(self, event) -> None:
        self._fit_sidebar(event.size.width)

    def _fit_sidebar(self, width: int, start: bool = False) -> None:
        """Hide the chats panel when the terminal starts or becomes narrow, and bring it back
        when it widens; a panel opened on a narrow terminal stays (a change of height hid it
        again: keyboard review)."""
        from .widgets.sessions import SessionsPanel

        panel = self.query_one(SessionsPanel)
        was, self._width_seen = getattr(self, "_width_seen", None), width
        if width < NARROW_WIDTH and panel.display and (start or was is None or was >= NARROW_WIDTH):
            panel.display, self._sidebar_auto_hidden = False, True
            if self.focused is not None and panel in self.focused.ancestors:
                self.focus_input()
        elif width >= NARROW_WIDTH and self._sidebar_auto_hidden:
            panel.display, self._sidebar_auto_hidden = True, False

    def action_toggle_sessions(self) -> None:
        from .widgets.sessions import SessionsPanel

        panel = self.query_one(SessionsPanel)
        self._sidebar_auto_hidden = False  # the user chose
        panel.display = not panel.display
        if panel.display and self.size.width < NARROW_WIDTH:
            self.query_one("#images").display = False  # the chat keeps its room; F5 shows it again
        if panel.display:
            panel.refresh_list()
            panel.shown_again()
            panel.query_one("#session-list").focus()
        else:
            self.focus_input()
