"""The chat log: user messages, streamed assistant messages, notes.

An AssistantMessage draws incoming text at most about ui.render_hz times a second
(~15 Hz: the engine hands text over at that rate), so a fast model costs one render
per frame, never layout work per token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget
from textual.widgets import Static

from .. import compat
from ..compat import OneLayout
from ..visible import visible
from .markdown_stream import (
    REFERENCE,
    BlockScan,
    StreamMarkdown,
    gap,
    normalize,
)


class UserMessage(OneLayout, Static):
    """What the user typed."""

    DEFAULT_CLASSES = "message user-message"

    def __init__(self, text: str) -> None:
        super().__init__(visible(text), markup=False)
        self.text = text


class NoteMessage(OneLayout, Static):
    """A line from thau itself: an error, a stop, a tool result from a resumed chat."""

    DEFAULT_CLASSES = "message note"

    def __init__(self, text: str, kind: str = "info") -> None:
        super().__init__(visible(text), markup=False)
        self.add_class(f"note-{kind}")


class AssistantMessage(OneLayout, Widget):
    """The model's answer, streamed in batches, drawn incrementally.

    Text is drawn when it arrives, but never sooner than 3/4 of a frame (1/render_hz)
    after the last frame: later text waits for the frame's time. A top-level
    Markdown block (paragraph, list, code block...) cannot change once the next one
    has started, so finished blocks are drawn once and kept as lines; in a growing
    list, so are the finished items. Each frame draws only the last block or item,
    repaints only the lines that changed, and asks for a layout only when the line
    count changed. The lines are made by the code a Static uses (Visual.to_strips),
    and tests check every frame against one draw of the whole text.

    Measured (bench/stream_overhead.py, README): Textual's Markdown widget with
    Markdown.get_stream mounts a widget per block and lays the chat out on every
    append, 0.34 of raw tokens/s on 2 cores; a Static redrawing the whole text, 0.66
    (with the bench's own thread fault); this, 0.91 to 0.97; with the room kept below
    the question (no layout while the answer fits the chat), 0.92 to 1.00; drawing
    when text arrives (one burst per frame) on a screen that draws only the changed
    rows (ui/rows.py), 0.95 to 1.01 (0.962 to 0.969 paired in one process); with a
    third less UI time per frame (one parse of the last block, no link styling, the
    row compositor stopping at the widget that covers the update), 1.00 pooled over
    135 rounds, the UI costing about 2% of the model's speed.
    """

    DEFAULT_CSS = "AssistantMessage { height: auto; }"
    DEFAULT_CLASSES = "message assistant-message"

    def __init__(self, text: str = "", render_hz: float = 15.0) -> None:
        super().__init__()
        # Textual's link styling is for @click actions in markup; rich's Markdown makes
        # links terminal hyperlinks, which it leaves alone (Textual's Markdown widget turns
        # it off too). Off, a draw does not work out the link colours (a walk up the widget
        # tree) twice, and no pass goes over every line for it.
        self.auto_links = False
        self.text = visible(_one_newline(text))
        self._held_cr = ""  # a \r that ended a piece: the \n of its \r\n may start the next
        self._dirty = False
        self._timer = None  # a frame to come, when text came too soon after the last one
        self._interval = 1.0 / render_hz
        self._last_frame = 0.0  # time.monotonic() of the last frame
        self._final = bool(text)  # a stored message: render it whole
        self._width = 0  # the width the lines below were made for
        self._frozen_at = 0  # self.text[:_frozen_at] is rendered into _frozen
        self._frozen: list[Strip] = []
        self._last: str | None = None  # the type of the last frozen block
        self._items: dict = {}  # drawn list items of the last block (StreamMarkdown)
        self._list: tuple = ()  # the last block is a list: (key, lines) of its finished items
        self._scan = BlockScan()  # where the blocks (and a list's items) of the unfrozen text start
        self._lines: list[Strip] = []
        # While it streams below the user's question, the message takes the chat's
        # height (the question at the top, the answer filling the rest): the text then
        # grows in place, with no layout and nothing moving, until it fills the view.
        self._room: int | None = None  # None: not measured yet; 0: no room kept
        self._released = False

    def on_mount(self) -> None:
        if self._dirty:
            self._schedule()

    def on_resize(self) -> None:
        if self._room is None and not self._final:  # laid out: the question's place is known
            self._room = self._measure_room()
            if self._room > len(self._lines):
                self.refresh(layout=True)
        if self._dirty and self._timer is None:  # a frame waited for the first layout
            self._schedule()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def append_text(self, text: str) -> None:
        """Add text. It is drawn at once if the last frame is a frame interval old (the
        engine hands text over at about the frame rate, so that is the usual case: one
        burst of work per frame); otherwise when the interval is up. Control characters
        are drawn as stand-ins (ui/visible.py)."""
        text, self._held_cr = self._held_cr + text, ""
        if text.endswith("\r"):
            text, self._held_cr = text[:-1], "\r"
        self.text += visible(_one_newline(text))
        self._dirty = True
        if self._timer is None and self.is_attached:
            self._schedule()

    def _schedule(self) -> None:
        wait = self._last_frame + self._interval - time.monotonic()
        if wait <= self._interval / 4:  # a hand-over a little early still draws now
            self._flush()
        else:
            self._timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if not self._dirty:
            return
        self._dirty = False
        self._last_frame = time.monotonic()
        self._redraw()

    async def finish(self) -> None:
        """Draw the text not drawn yet; nothing is drawn after this but on a resize.

        Every frame draws what one draw of the whole text draws (tests check it), so the
        end of an answer draws only its last piece, not the whole answer again."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._final = True  # no more text: the room stops growing by steps
        self._held_cr = ""  # a \r that ended the answer ends its last line, as its \n would
        if self._dirty or not self._lines:
            self._dirty = False
            self._redraw()

    # --- rendering ------------------------------------------------------------------
    def _draw(
        self, text: str, width: int, last_number: int | None = None, first_number: int | None = None
    ) -> tuple[list[Strip], dict]:
        """The lines of `text` at `width`, drawn as a Static draws a renderable, reusing
        the list items kept from the last frame; and the list items this draw used."""
        if not text.strip():
            return [], {}
        markdown = StreamMarkdown(text, self._items, last_number, first_number)
        return Visual.to_strips(self, visualize(self, markdown), width, None, self.visual_style), markdown.used

    def _update_lines(self, width: int) -> None:
        """Bring self._lines up to date with self.text for `width`."""
        source = normalize(self.text)
        resized = width != self._width
        if resized:
            self._width, self._frozen_at, self._frozen, self._last, self._items = width, 0, [], None, {}
            self._list = ()
        # A stored or finished message at a new width, or a text with a link reference
        # definition: the whole text in one go, nothing reused.
        if (self._final and (resized or not self._lines)) or REFERENCE.search(source):
            self._items = {}  # no item drawn from a part of the text may stand in the whole
            self._lines, _ = self._draw(source, width)
            self._frozen_at, self._frozen, self._last, self._list = 0, [], None, ()
            return
        rest = source[self._frozen_at :]
        blocks, items = self._scan.scan(rest)  # where blocks start (the draw reuses this parse)
        # All but the last block are done once the last one's first line is whole ("5"
        # alone is a paragraph; "5. " continues the list before it): draw them, keep the lines.
        if len(blocks) > 1 and "\n" in rest[blocks[-1][0] :]:
            cut = blocks[-1][0]
            lines, _ = self._draw(rest[:cut], width)
            if gap(self._last, blocks[0][1]):
                lines.insert(0, Strip([]))
            self._frozen = self._frozen + lines
            self._last = blocks[-2][1]
            self._frozen_at += cut
            rest = rest[cut:]
            blocks, items = self._scan.scan(rest)
        # the kept list items need rich's list elements as compat checked them
        tail = self._list_lines(rest, items, width) if items and compat.LIST_ELEMENTS else None
        if tail is None:
            self._list = ()
            tail, self._items = self._draw(rest, width)  # keep only the items still there
        if blocks and gap(self._last, blocks[0][1]):  # even if it drew nothing (an HTML block)
            tail.insert(0, Strip([]))
        self._lines = self._frozen + tail

    def _list_lines(self, rest: str, items: tuple[str, int, list[int]], width: int) -> list[Strip] | None:
        """When `rest` is one block, a list (`items`: BlockScan's): its lines, with finished
        items drawn once and kept.

        rich draws each item on its own, so the items before the last one keep their
        lines until the list's number width changes (item 9 -> 10)."""
        _, start, starts = items
        last_item = starts[-1]
        # The last item is settled once its first line is whole or has a letter or digit in
        # it: until then "- -" may still become "- - -", a rule that ends the list.
        first_line = rest[last_item:].split("\n", 1)
        if len(starts) < 2 or (len(first_line) == 1 and not any(c.isalnum() for c in first_line[0])):
            return None
        last_number = start + len(starts)  # what rich.markdown gives the whole list
        key = (self._frozen_at, len(starts), len(str(last_number)))
        if not self._list or self._list[0] != key:
            head, _ = self._draw(rest[:last_item], width, last_number=last_number)
            self._list = (key, head)
        head = self._list[1]
        # rich numbers items start, start + 1, ...: the last one is number start + n - 1,
        # whatever the text says ("1. 1. 1." is a common way to write a list)
        tail, self._items = self._draw(
            rest[last_item:], width, last_number=last_number, first_number=start + len(starts) - 1
        )
        if tail and not tail[0].text.strip():  # the blank line a list is drawn with, already in head
            tail = tail[1:]
        return head + tail

    # --- the room kept below the question -------------------------------------------
    def _measure_room(self) -> int:
        """The height that puts the question just before this message at the top of the
        chat and this message below it to the bottom (0: no question just before it).

        A chat's first question, below only thau's notes (the welcome), stays where it
        is if the answer can start on the first screen: the answer takes the rest of it,
        and the notes stay in view (nothing scrolls, no scrollbar comes and goes)."""
        chat = self.parent
        if self._released or not isinstance(chat, ChatView) or chat._last_answer() is not self:
            return 0
        question = chat.children[-2] if len(chat.children) > 1 else None
        if not isinstance(question, UserMessage) or not question.virtual_region:
            return 0
        view = chat.scrollable_content_region.height
        if self.virtual_region.y < view and all(isinstance(w, NoteMessage) for w in chat.children[:-2]):
            return view - self.virtual_region.y
        above = self.virtual_region.y - question.virtual_region.y  # the question and the gap
        return max(0, view - above)

    def _step(self) -> int:
        chat = self.parent
        return max(1, chat.scrollable_content_region.height // 4) if isinstance(chat, ChatView) else 0

    def _height(self) -> int:
        return max(len(self._lines), self._room or 0)

    def refit(self) -> None:
        """Measure the room again (the chat was resized); lay out if the height changes."""
        if self._room is None or self._released:
            return
        height = self._height()
        self._room = self._measure_room()
        if self._height() != height:
            self.refresh(layout=True)

    def release(self) -> None:
        """Give the kept room back (something comes after this message now)."""
        if self._released:
            return
        height = self._height()
        self._released, self._room = True, 0
        if self._height() != height:
            self.refresh(layout=True)

    def _redraw(self) -> None:
        before, height = self._lines, self._height()
        width = self.content_size.width
        if width <= 0:  # not laid out yet: the layout pass renders it, then on_resize
            self._dirty = True  # draws again (the question's place is known by then)
            self.refresh(layout=True)
            return
        if self._room is None:  # laid out once: the question's place is known
            self._room = self._measure_room()
        self._update_lines(width)
        after = self._lines
        if len(after) > height and not (self._final or self._released):
            # Outgrew its place: take a quarter of the view more, so the next lines come
            # with no layout (a layout per new line costs more the longer the chat).
            self._room = len(after) + self._step()
        if self._height() != height:  # taller: lay out (the anchored chat scrolls)
            self.refresh(layout=True)
            return
        # Same height: repaint only the lines that changed (usually the last one).
        changed = max(len(before), len(after))
        first = next(
            (y for y, (old, new) in enumerate(zip(before, after)) if old is not new and old != new),
            min(len(before), len(after)),
        )
        if first < changed:
            self.refresh(Region(0, first, width, changed - first))

    def get_content_height(self, container, viewport, width: int) -> int:
        # New text waits for the next frame (_flush); only a new width renders here.
        if width != self._width:
            self._update_lines(width)
        return self._height()

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if width != self._width:
            self._update_lines(width)
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.visual_style.rich_style)


def _one_newline(text: str) -> str:
    """CRLF as the newline it is: made visible first, every line ended in ␍ and a code fence
    never closed (reading review). A lone \r stays, to be shown as a stand-in."""
    return text.replace("\r\n", "\n") if "\r" in text else text


def last_code_block(text: str) -> str | None:
    """The body of the last fenced code block in Markdown `text`, as the chat draws it: the
    same parser, so a block left open runs to the end and one inside a list loses the list's
    indentation. A regex of its own took an earlier block when the last was never closed, and
    kept a list's three spaces on every line (reading review)."""
    from .markdown_stream import normalize, parse

    fences = [token for token in parse(normalize(text)) if token.type == "fence"]
    return fences[-1].content if fences else None


class ChatView(OneLayout, VerticalScroll):
    """The scrolling conversation. Anchored to the bottom while streaming.

    Focusable (Tab reaches it, then each card in it), so the arrows, PgUp/PgDn and
    Home/End scroll it; from the prompt, PgUp/PgDn and Ctrl+Home/End do.

    Like a message, it stores a new virtual size without a second layout (OneLayout):
    the layout that measured it has already scrolled the anchored view, and scrollbars
    that appear or go still ask for their own."""

    @dataclass
    class Typed(Message):
        """A letter typed while the chat itself has focus: it belongs in the prompt."""

        character: str

    @dataclass
    class ReachedTop(Message):
        """The chat was scrolled to its top: a long chat draws its earlier messages there,
        keeping the view on what was at the top (scrolled up) or at the top (Ctrl+Home)."""

        keep_place: bool = True

    _going_home = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value < 1 <= old_value:
            self.post_message(self.ReachedTop(keep_place=not self._going_home))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        # Runs before Widget's own scroll (the MRO's order): already at the top, the wheel has
        # nothing to scroll, so no scroll_y change asks for a long chat's earlier batch; ask here.
        if self.scroll_y < 1 and not (event.ctrl or event.shift):
            self.post_message(self.ReachedTop(keep_place=True))

    def on_key(self, event: events.Key) -> None:
        if self.has_focus and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(event.character))

    def scroll_by_key(self, how: str) -> None:
        """Scroll as a key asks: page_up, page_down, up, down, home or end."""
        if how in ("page_up", "up", "home") and self.scroll_y < 1:  # at the top already: no scroll to
            # see, so a long chat's next earlier batch is asked for here (after Ctrl+Home, PgUp drew
            # nothing: re-review); Ctrl+Home leaves the view at the top, the others keep their place
            self.post_message(self.ReachedTop(keep_place=how != "home"))
        match how:
            case "page_up":
                self.scroll_page_up(animate=False)
            case "page_down":
                self.scroll_page_down(animate=False)
            case "up":
                self.scroll_relative(y=-3, animate=False)
            case "down":
                self.scroll_relative(y=3, animate=False)
            case "home":
                self._going_home = True
                try:
                    self.scroll_home(animate=False, immediate=True)
                finally:
                    self._going_home = False
            case "end":
                self.scroll_end(animate=False)

    def answers(self) -> list[str]:
        """The text of every answer shown, oldest first."""
        return [m.text for m in self.query_children(AssistantMessage) if m.text.strip()]

    def _last_answer(self) -> AssistantMessage | None:
        """The answer at the end of the chat: the only one that may keep room below it."""
        last = self.children[-1] if self.children else None
        return last if isinstance(last, AssistantMessage) else None

    def on_resize(self) -> None:
        if (message := self._last_answer()) is not None:
            message.refit()

    async def add(self, *widgets: Widget) -> Widget:
        """Mount widgets at the end (in one layout); returns the last."""
        if (message := self._last_answer()) is not None:
            message.release()  # something comes after it now
        await self.mount(*widgets)
        self.anchor()
        return widgets[-1]

    async def clear(self) -> None:
        await self.remove_children()
