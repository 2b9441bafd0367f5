"""Text made safe to draw, for Textual widgets: see thau_tui/visible_text.py."""

from __future__ import annotations

from textual.content import Content

from ..visible_text import has_controls, visible

__all__ = ["has_controls", "plain", "visible"]


def plain(text: str) -> Content:
    """`text` as plain Content, for widgets that read a str as markup (DataTable cells,
    OptionList options): '[/b]' in a program name crashed the approvals screen, and
    '[@click=app.quit]' made a clickable action."""
    return Content(visible(text))
