"""The help screen: every key and slash command, read from the live bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

SLASH = """
| command | what it does |
|---|---|
| `/new` | start a new chat |
| `/sessions` | show or hide past chats |
| `/model` | choose the model or adapter |
| `/export [md\\|jsonl]` | save this chat as Markdown or JSONL (the training format) |
| `/approvals` | review remembered approvals |
| `/gallery` | generated images |
| `/train` | the training screen |
| `/help` | this screen |
"""

CARD_KEYS = """
| key | on a tool card |
|---|---|
| `y` | allow once |
| `a` | allow this tool (shell: this program) for the session |
| `A` | always allow (saved) |
| `n` | deny, with an optional reason |
| `e` | edit the arguments |
| `Esc` | cancel the turn |
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help-close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-height: 90%; background: $panel; border: round $primary; padding: 0 1; }
    """

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.key_rows = bindings

    def compose(self) -> ComposeResult:
        rows = "\n".join(f"| `{key}` | {what} |" for key, what in self.key_rows)
        text = (
            "# thau — keys\n\n| key | what it does |\n|---|---|\n"
            f"{rows}\n| `Enter` | send |\n| `Shift+Enter` / `Ctrl+J` | new line |\n"
            f"\n## Tool cards\n{CARD_KEYS}\n## Slash commands\n{SLASH}"
        )
        with VerticalScroll():
            yield Markdown(text)
