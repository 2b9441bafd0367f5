"""The chat log: user messages, streamed assistant messages, notes.

An AssistantMessage buffers incoming text and flushes it to a MarkdownStream on
a timer (config ui.render_hz, ~15 Hz), so a fast model costs one Markdown append
per frame, never layout work per token.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown, Static


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


class AssistantMessage(Markdown):
    """The model's answer, streamed in batches."""

    DEFAULT_CLASSES = "message assistant-message"

    def __init__(self, text: str = "", render_hz: float = 15.0) -> None:
        super().__init__(text)
        self.text = text
        self._buffer: list[str] = []
        self._stream = None
        self._timer = None
        self._interval = 1.0 / render_hz

    def on_mount(self) -> None:
        self._timer = self.set_interval(self._interval, self._flush, pause=True)

    def append_text(self, text: str) -> None:
        """Queue text; it reaches the screen at the next frame."""
        self.text += text
        self._buffer.append(text)
        if self._timer is not None:
            self._timer.resume()

    async def _flush(self) -> None:
        if not self._buffer:
            if self._timer is not None:
                self._timer.pause()
            return
        chunk = "".join(self._buffer)
        self._buffer.clear()
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(chunk)

    async def finish(self) -> None:
        """Write what is left, stop streaming, and render the whole text once (closes
        half-parsed blocks)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._buffer.clear()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.update(self.text)


class ChatView(VerticalScroll):
    """The scrolling conversation. Anchored to the bottom while streaming."""

    can_focus = False

    async def add(self, widget: Widget) -> Widget:
        await self.mount(widget)
        self.anchor()
        return widget

    async def clear(self) -> None:
        await self.remove_children()
