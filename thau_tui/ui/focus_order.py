"""Tab's order on the chat screen: the prompt, the chat and each of its cards, then the chats
panel and the image pane. Textual's own order is the layout's, where the chats panel comes
first: Tab from the prompt went to the chats search box, not to the chat as README and F1 say,
and with the image pane shown, to the pane (new-user review, 2026-12-07 night)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.css.query import NoMatches
from textual.widget import Widget


def tab_order(chain: Sequence[Widget], prompt: Widget, chat: Widget) -> list[Widget]:
    """`chain` (the screen's focus chain, in layout order) with the prompt first, the chat and
    what is inside it next, everything else after, each part in its own order."""
    inside = [w for w in chain if w is chat or chat in w.ancestors]
    first = [prompt] if prompt in chain else []
    return first + inside + [w for w in chain if w is not prompt and w not in inside]


class FocusOrder:
    """Tab and Shift+Tab (Textual's app.focus_next / focus_previous) on the chat screen; other
    screens keep Textual's order."""

    app: Any
    screen: Any
    screen_stack: Any
    focused: Any

    def action_focus_next(self) -> None:
        self._tab(1)

    def action_focus_previous(self) -> None:
        self._tab(-1)

    def _tab(self, step: int) -> None:
        screen = self.screen
        order: list[Widget] = []
        if screen is self.screen_stack[0]:
            try:
                order = tab_order(screen.focus_chain, screen.query_one("#input"), screen.query_one("#chat"))
            except NoMatches:  # a layout without them (a test's host app): Textual's order
                order = []
        if self.focused in order:
            order[(order.index(self.focused) + step) % len(order)].focus()
        elif step > 0:
            screen.focus_next()
        else:
            screen.focus_previous()
