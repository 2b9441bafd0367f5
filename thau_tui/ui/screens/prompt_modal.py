"""A one-line question in a modal: rename a chat, name an export file."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label


class PromptModal(ModalScreen[str | None]):
    """Returns the typed text, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal-cancel")]
    DEFAULT_CSS = """
    PromptModal { align: center middle; }
    PromptModal > Vertical {
        width: 70; max-width: 100%; height: auto; padding: 1 2; background: $panel; border: round $primary;
    }
    """

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text, self.value = title, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield Input(value=self.value)
        yield Footer()  # this modal's keys, not the chat's under it

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
