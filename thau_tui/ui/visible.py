"""Text made safe to draw, for Textual widgets: see thau_tui/visible_text.py."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from ..visible_text import has_controls, visible

__all__ = ["has_controls", "plain", "visible"]


def cell(text: str) -> Text:
    """`text` as a plain DataTable cell: rich Text, which the table measures (Textual 8.2's
    DataTable sized a Content cell's column by its header, so "run_shell" showed as "run_")."""
    return Text(visible(text))


def plain(text: str) -> Content:
    """`text` as plain Content, for widgets that read a str as markup (DataTable cells,
    OptionList options): '[/b]' in a program name crashed the approvals screen, and
    '[@click=app.quit]' made a clickable action."""
    return Content(visible(text))
