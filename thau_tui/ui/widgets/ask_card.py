"""AskCard: the model's ask_user question, inline in the chat, with an answer box.

Enter resolves the engine's future with the typed text; Esc resolves it with
None (the tool then tells the model the user dismissed the question).
"""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from ..visible import visible
from .key_hold import writing_in


class AskCard(Widget):
    """A question from the model and the user's answer."""

    DEFAULT_CSS = """
    AskCard {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border: round $accent;
        background: $boost;
    }
    AskCard.-answered { border: round $panel-lighten-2; }
    AskCard .question { height: auto; text-style: bold; }
    AskCard .answer { display: none; height: auto; color: $text-muted; }
    AskCard.-answered .answer { display: block; }
    AskCard.-answered Input { display: none; }
    """

    BINDINGS = [
        Binding(
            "escape", "dismiss_question", "Dismiss", id="dismiss-question", tooltip="Leave the question unanswered"
        ),
    ]

    class Answered(Message):
        """The user answered (text) or dismissed (None) the question."""

        def __init__(self, card: AskCard, answer: str | None) -> None:
            self.card = card
            self.answer = answer
            super().__init__()

        @property
        def control(self) -> AskCard:
            return self.card

    def __init__(self, question: str, future: asyncio.Future | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = question
        self.future = future
        self.answer: str | None = None
        self.answered = False

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("? ", "bold $text-accent"), visible(self.question)), classes="question")
        yield Input(placeholder="Your answer — Enter sends, Esc dismisses", classes="reply")
        yield Static("", classes="answer")

    def on_mount(self) -> None:
        if self.future is not None:
            self.future.add_done_callback(self._on_future_done)
        if writing_in(self.screen.focused):  # the message being written (and its Enter) must not become the answer
            self.app.notify(
                "The model asks you a question: press F4 to answer it (what you type stays here)",
                title="A card waits for your answer",
                severity="warning",
                timeout=12,
            )
        else:
            self.focus_answer()
        self.scroll_visible()
        self.app.refresh_bindings()

    def focus_answer(self) -> None:
        for box in self.query(Input):  # none before the card is mounted
            box.focus()

    @property
    def waiting(self) -> bool:
        """Open, and the answer box does not have the focus. Asked by the footer's binding
        check too, which can run before the card's box is mounted (CI: NoMatches)."""
        boxes = self.query(Input)
        return not self.answered and not (boxes and boxes.first().has_focus)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc belongs to the card only while the question is open."""
        return not self.answered if action == "dismiss_question" else True

    @on(Input.Submitted, ".reply")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._resolve(event.value)

    def action_dismiss_question(self) -> None:
        self._resolve(None)

    def _resolve(self, answer: str | None) -> None:
        if self.answered:
            return
        if self.future is not None and not self.future.done():
            self.future.set_result(answer)
        self._show(answer)
        self.post_message(self.Answered(self, answer))

    def _on_future_done(self, future: asyncio.Future) -> None:
        """The engine stopped waiting (turn cancelled, timeout): close the box."""
        if not self.answered:
            answer = None if future.cancelled() else future.result()
            self._show(answer if isinstance(answer, str) else None)  # a cancelled turn's Decision (concurrency review)

    def _show(self, answer: str | None) -> None:
        self.answered = True
        self.answer = answer
        self.add_class("-answered")
        text = Content.styled("(dismissed)", "italic") if answer is None else Content(f"→ {answer}")
        self.query_one(".answer", Static).update(text)
        self.refresh_bindings()
        self.app.refresh_bindings()
