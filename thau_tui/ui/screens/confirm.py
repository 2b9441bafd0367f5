"""A yes/no question in a modal: delete a chat."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static


class ConfirmModal(ModalScreen[bool]):
    """Returns True for yes; no, Esc or any other answer is False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 60; max-width: 100%; height: auto; padding: 1 2; background: $panel; border: round $warning;
    }
    ConfirmModal .keys { color: $text-muted; margin: 1 0 0 0; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False, classes="question")  # wraps; a Label ran off the box
            yield Label("y yes  ·  n or Esc no", classes="keys")
        yield Footer()  # this modal's keys, not the chat's under it

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
