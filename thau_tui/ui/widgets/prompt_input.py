"""The input box: Enter sends, Shift+Enter or Ctrl+J starts a new line, Up/Down in an
empty prompt walk this chat's earlier questions, PgUp/PgDn scroll the chat."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from ..compat import drop_binding

# The most a paste may put in the prompt. The bundled model reads 4,096 tokens (some 16,000
# characters) in all; a 1 MB paste on one line made each later key take a second to draw
# (reliability review). More than this is refused with what to do instead.
MAX_PASTE_CHARS = 200_000


class PromptInput(TextArea):
    """A multi-line input whose Enter submits."""

    # The chat scrolls from here: the prompt has focus nearly all the time, and a
    # one-to-ten-line box has no use for PgUp/PgDn of its own. The actions run on the
    # app (the `app.` namespace), which owns the chat.
    BINDINGS = [
        Binding("pageup", "app.scroll_chat('page_up')", "Scroll the chat up a page", id="chat-page-up", show=False),
        Binding(
            "pagedown", "app.scroll_chat('page_down')", "Scroll the chat down a page", id="chat-page-down", show=False
        ),
        Binding("ctrl+up", "app.scroll_chat('up')", "Scroll the chat up", id="chat-line-up", show=False),
        Binding("ctrl+down", "app.scroll_chat('down')", "Scroll the chat down", id="chat-line-down", show=False),
        Binding("ctrl+home", "app.scroll_chat('home')", "To the start of the chat", id="chat-top", show=False),
        Binding("ctrl+end", "app.scroll_chat('end')", "To the end of the chat", id="chat-end", show=False),
        # In an empty prompt, Home and End go to the chat's start and end.
        Binding("home", "home", "Start of line", show=False),
        Binding("end", "end", "End of line", show=False),
    ]

    @dataclass
    class Submitted(Message):
        text: str

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        # Ctrl+E is the app's Export here (End goes to the line's end); without TextArea's
        # own binding for it, the footer lists Export in its place among the app's keys.
        drop_binding(self, "ctrl+e")
        self.sent: list[str] = []  # this chat's questions, oldest first (not `history`: TextArea's undo)
        self._history_at: int | None = None  # the question shown from `sent`; None: not walking it

    def _on_paste(self, event: events.Paste) -> None:
        if len(event.text) > MAX_PASTE_CHARS:
            event.prevent_default()  # TextArea's own paste does not run
            event.stop()
            self.app.notify(
                f"Not pasted: {len(event.text):,} characters is more than the prompt takes "
                f"({MAX_PASTE_CHARS:,}), and far more than a model reads at once. Save it as a file "
                "in the workspace and ask about that file (read_file and search_code read it in parts).",
                title="paste too long",
                severity="warning",
                markup=False,
            )

    def set_history(self, questions: list[str]) -> None:
        """The questions Up/Down walk (a chat was opened or started)."""
        self.sent = list(questions)
        self._history_at = None

    async def action_home(self) -> None:
        if self.text:
            self.action_cursor_line_start()
        else:
            await self.run_action("app.scroll_chat('home')")

    async def action_end(self) -> None:
        if self.text:
            self.action_cursor_line_end()
        else:
            await self.run_action("app.scroll_chat('end')")

    def _walk_history(self, step: int) -> bool:
        """Show the question `step` away from the one shown; False when there is none to walk."""
        walking = self._history_at is not None and self.text == self.sent[self._history_at]
        if not self.sent or not (walking or not self.text):
            return False
        at = (self._history_at if walking else len(self.sent)) + step
        if at < 0:
            return True  # at the oldest: stay
        if at >= len(self.sent):
            if walking:  # past the newest: back to an empty prompt
                self._history_at = None
                self.clear()
                return True
            return False
        self._history_at = at
        self.load_text(self.sent[at])
        self.move_cursor(self.document.end)
        return True

    def on_key(self, event: events.Key) -> None:
        # A public handler runs before TextArea's own (_on_key, which inserts text), and
        # prevent_default() keeps that from running: what this handles never reaches it.
        if event.key == "enter":
            event.prevent_default()
            event.stop()
            text = self.text.strip()
            if text:
                self.sent.append(text)
                self._history_at = None
                self.clear()
                self.post_message(self.Submitted(text))
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.prevent_default()
            event.stop()
            self.insert("\n")
            return
        # Up on the first line / Down on the last walk the questions when the prompt is
        # empty or shows one of them; otherwise they move the cursor as usual.
        row = self.cursor_location[0]
        if (event.key == "up" and row == 0) or (event.key == "down" and row == self.document.line_count - 1):
            if self._walk_history(-1 if event.key == "up" else 1):
                event.prevent_default()
                event.stop()
