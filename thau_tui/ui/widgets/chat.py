"""The chat log: user messages, streamed assistant messages, notes.

An AssistantMessage buffers incoming text and renders it on a timer (config
ui.render_hz, ~15 Hz), so a fast model costs one render per frame, never layout
work per token.
"""

from __future__ import annotations

from rich.markdown import Markdown as RichMarkdown
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static


class UserMessage(Static):
    """What the user typed."""

    DEFAULT_CLASSES = "message user-message"

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False)
        self.text = text


class NoteMessage(Static):
    """A line from thau itself: an error, a stop, a tool result from a resumed chat."""

    DEFAULT_CLASSES = "message note"

    def __init__(self, text: str, kind: str = "info") -> None:
        super().__init__(text, markup=False)
        self.add_class(f"note-{kind}")


class AssistantMessage(Static):
    """The model's answer, streamed in batches.

    Text is buffered and rendered as one Rich Markdown renderable at most
    `render_hz` times a second. Measured (bench/stream_overhead.py): Textual's
    Markdown widget with Markdown.get_stream mounts a widget per block and
    re-lays-out the chat on every append, which cost the model 60-70% of its
    tokens/s on 2 cores; one Static costs a fraction of that.
    """

    DEFAULT_CLASSES = "message assistant-message"

    def __init__(self, text: str = "", render_hz: float = 15.0) -> None:
        super().__init__(RichMarkdown(text) if text else "")
        self.text = text
        self._dirty = False
        self._timer = None
        self._interval = 1.0 / render_hz

    def on_mount(self) -> None:
        self._timer = self.set_interval(self._interval, self._flush, pause=True)

    def append_text(self, text: str) -> None:
        """Queue text; it reaches the screen at the next frame."""
        self.text += text
        self._dirty = True
        if self._timer is not None:
            self._timer.resume()

    def _flush(self) -> None:
        if not self._dirty:
            if self._timer is not None:
                self._timer.pause()
            return
        self._dirty = False
        self.update(RichMarkdown(self.text))

    async def finish(self) -> None:
        """Stop the timer and render the whole text once."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._dirty = False
        self.update(RichMarkdown(self.text))


class ChatView(VerticalScroll):
    """The scrolling conversation. Anchored to the bottom while streaming."""

    can_focus = False

    async def add(self, widget: Widget) -> Widget:
        await self.mount(widget)
        self.anchor()
        return widget

    async def clear(self) -> None:
        await self.remove_children()
