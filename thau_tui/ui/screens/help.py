"""The help screen: every key and slash command, read from the live bindings (a key
remapped in ui.keys shows as remapped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..compat import class_bindings, keymap, node_bindings

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

Section = tuple[str, list[tuple[str, str]]]

KEY_NAMES = {
    "escape": "Esc",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "enter": "Enter",
    "tab": "Tab",
    "up": "Up",
    "down": "Down",
    "home": "Home",
    "end": "End",
    "delete": "Del",
    "space": "Space",
}

PROMPT_KEYS = [
    ("Enter", "send"),
    ("Shift+Enter / Ctrl+J", "new line"),
    ("Up / Down", "in an empty prompt: this chat's earlier questions"),
    ("Home / End", "in an empty prompt: the start / end of the chat"),
    ("Tab", "to the chat (arrows scroll it), then each card"),
    ("Home / End", "otherwise: the start / end of the line"),
]
# One row a group: on one row, these keys wrapped over 11 lines at 80 columns (UX review)
EDITING_KEYS = [
    ("Ctrl+Left / Ctrl+Right", "a word left / right"),
    ("Ctrl+A", "to the line's start (Ctrl+E is Export here)"),
    ("Ctrl+K / Ctrl+U", "delete to the line's end / start"),
    ("Ctrl+W", "delete a word"),
    ("Ctrl+Z / Ctrl+Y", "undo / redo"),
    ("Ctrl+X / Ctrl+C / Ctrl+V", "cut / copy (none selected: stop the answer) / paste"),
]


def key_name(key: str) -> str:
    """`ctrl+e` -> `Ctrl+E`, `pageup` -> `PgUp`, `f1` -> `F1`, `left` -> `Left`, `A` -> `A`."""
    *modifiers, name = key.split("+") if key != "+" else [key]
    if name in KEY_NAMES:
        name = KEY_NAMES[name]
    elif len(name) > 1:
        name = name.upper() if name[0] == "f" and name[1:].isdigit() else name.capitalize()
    elif modifiers:
        name = name.upper()
    return "+".join([m.capitalize() for m in modifiers] + [name])


def own_bindings(widget: type) -> BindingsMap:
    """The bindings a widget class declares itself, not those it inherits (TextArea's
    thirty editing keys, summed up in EDITING_KEYS instead)."""
    return BindingsMap(widget.__dict__.get("BINDINGS", []))


def live_rows(app: "App", bindings: BindingsMap, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(keys, description) for each binding that has a description, keys as the app's
    keymap has them now; the keys of one binding on one row."""
    live = bindings.copy()
    if remap := keymap(app):
        live.apply_keymap(remap)
    rows: dict[tuple[str, str], list[str]] = {}
    for key, binding in live:
        if binding.description and binding.action not in skip:
            what = f"{binding.description}: {binding.tooltip}" if binding.tooltip else binding.description
            rows.setdefault((binding.action, what), []).append(key_name(key))
    return [(" / ".join(dict.fromkeys(keys)), what) for (_, what), keys in rows.items()]


def help_sections(app: "App") -> list[Section]:
    """What F1 shows, from the bindings of the app, the prompt, a tool card and the
    chats list, with any remap applied."""
    from ..widgets.ask_card import AskCard
    from ..widgets.image_pane import ImagePane
    from ..widgets.prompt_input import PromptInput
    from ..widgets.sessions import SessionsPanel
    from ..widgets.tool_card import ToolCard
    from ..widgets.tool_card_text import SECOND_BINDINGS
    from .approvals import ApprovalsScreen
    from .gallery import GalleryScreen
    from .training import TrainingScreen

    def of(node: "DOMNode | type") -> BindingsMap:
        return node_bindings(node) if not isinstance(node, type) else class_bindings(node)

    return [
        ("Everywhere", live_rows(app, of(app))),
        ("In the prompt", PROMPT_KEYS + live_rows(app, own_bindings(PromptInput), skip=("home", "end"))),
        ("Editing the prompt", EDITING_KEYS),
        # a and A as they work where a call can be remembered; the card says it where it cannot
        ("On a tool card", live_rows(app, of(ToolCard), skip=SECOND_BINDINGS)),
        (
            "In the chats list",
            [("Enter", "open the chat")] + live_rows(app, of(SessionsPanel)) + [("other letters", "search")],
        ),
        # the pane's and the question card's keys were in the README only (docs review)
        ("On the image pane (click it, or Tab to it)", live_rows(app, own_bindings(ImagePane))),
        ("On a question from the model", [("Enter", "send the answer")] + live_rows(app, own_bindings(AskCard))),
        # the other screens' keys too: only the chat's were here (keyboard review)
        ("On the training screen (Ctrl+T)", live_rows(app, own_bindings(TrainingScreen))),
        ("In the image gallery (Ctrl+G)", live_rows(app, own_bindings(GalleryScreen))),
        ("On the approvals screen (Ctrl+R)", live_rows(app, own_bindings(ApprovalsScreen))),
    ]


def slash_rows() -> list[tuple[str, str]]:
    from ..commands import COMMANDS

    return [
        (f"/{name}" + (" [md|jsonl]" if name == "export" else ""), help_text)
        for name, (_, help_text) in COMMANDS.items()
    ]


KEY_WIDTH = 24  # the key column at most; a longer key wraps in it rather than squeezing what it does


def key_table(rows: list[tuple[str, str]]) -> Table:
    """Two columns with no rules between rows, so a key takes one line where what it does
    fits: the Markdown tables drew a rule after each row, about four keys to an 80x24
    screen (UX review). Text, not markup: keys such as `[` and `/export [md|jsonl]`."""
    table = Table.grid(padding=(0, 2))
    table.add_column(max_width=KEY_WIDTH, style="bold")
    table.add_column(ratio=1)
    for key, what in rows:
        table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close", id="help-close"),
        # A modal hides the app's keys: F4 here too, shown only while a card asks
        Binding("f4", "app.answer_card", "Answer", id="help-answer-card", tooltip="Go back to the card that asks"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; max-height: 90%; height: auto;
        background: $panel; border: round $primary; border-title-align: center; padding: 0 1;
    }
    HelpScreen .help-section { text-style: bold; color: $accent; margin-top: 1; }
    HelpScreen .help-section.-first { margin-top: 0; }
    """

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        everything = self.sections + [("Slash commands", slash_rows())]
        with VerticalScroll() as box:
            box.border_title = "thau — keys"  # on the border: the title took seven lines (UX review)
            for i, (title, rows) in enumerate(everything):
                yield Static(Text(title), classes="help-section -first" if i == 0 else "help-section")
                yield Static(key_table(rows))
        yield Footer()  # Esc closes help: not the chat's "Esc Stop" under it
