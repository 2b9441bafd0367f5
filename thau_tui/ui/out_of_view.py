"""Where the model's view of a long chat starts: one line in the chat, just above the first
message the model still sees, moved when the view moves and drawn when a chat is opened.

Before, a reopened chat showed nothing of it (though the store keeps `view_start`), and live
a note said how many messages had left the view, after the newest message, not where the cut
is (long-chat review). The view moves by whole exchanges (Agent.render_prompt), so it starts
at a question: the line goes above that question's UserMessage, found by counting questions
as history.fold_earliest does; moving it touches no other widget (no redraw of the chat).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from .widgets.chat import ChatView, UserMessage

OUT_OF_VIEW_LINE = "── the model no longer sees the messages above this line; the chat keeps them ──"


class OutOfViewLine(Static):
    """The line above the first message the model still sees (one per chat at most)."""

    DEFAULT_CLASSES = "message note out-of-view"

    def __init__(self) -> None:
        super().__init__(OUT_OF_VIEW_LINE, markup=False)


def first_seen_question(messages: list[dict[str, Any]], view_start: int) -> int | None:
    """The index of the question the model's view starts at; None when it sees the whole chat.
    A view saved at another message (none is made so) gets the next question: the line then
    never says the model sees a message it does not."""
    if view_start <= 0:
        return None
    return next((at for at in range(view_start, len(messages)) if messages[at]["role"] == "user"), None)


def line_target(chat: ChatView, messages: list[dict[str, Any]], view_start: int, first: int = 0) -> UserMessage | None:
    """The UserMessage the line goes above, or None: the model sees all that is drawn, the cut
    is among the `first` oldest messages the chat holds undrawn (history.EarlierMessages), or
    the questions drawn do not match the chat's, one for one (the place cannot be told)."""
    at = first_seen_question(messages, view_start)
    if at is None or at < first:
        return None
    questions = [n for n in range(first, len(messages)) if messages[n]["role"] == "user"]
    shown = list(chat.query_children(UserMessage))
    if len(shown) != len(questions):
        return None
    target = shown[questions.index(at)]
    return target if target.text == messages[at]["content"] else None


async def mark_view_start(chat: ChatView, messages: list[dict[str, Any]], view_start: int, first: int = 0) -> None:
    """Put the chat's one OutOfViewLine above the message the model's view starts at (made,
    moved or removed as needed; nothing is touched when it is in place already)."""
    target = line_target(chat, messages, view_start, first)
    lines = list(chat.query_children(OutOfViewLine))
    for extra in lines[1:]:  # only ever one: a second would say two different things
        await extra.remove()
    line = lines[0] if lines else None
    if target is None:
        if line is not None:
            await line.remove()
        return
    if line is None:
        await chat.mount(OutOfViewLine(), before=target)
        return
    children = chat.children
    if children.index(target) != children.index(line) + 1:
        chat.move_child(line, before=target)
