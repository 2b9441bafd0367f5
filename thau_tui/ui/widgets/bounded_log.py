"""A Log of at most `max_lines` lines that stays sized to the lines it keeps."""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Log


class BoundedLog(Log):
    """Textual's Log, sized again after it drops the lines over `max_lines`: Log.write sets its
    virtual size before it prunes, so once full it was twice as tall as its lines and scrolled
    past them to blank rows (a card for `seq 1 50000` showed 12 empty lines: soak review)."""

    def write(self, data: str, scroll_end: bool | None = None) -> BoundedLog:
        super().write(data, scroll_end)
        if self.max_lines is not None and self.virtual_size.height != self.line_count:
            self.virtual_size = Size(self.virtual_size.width, self.line_count)
            if self.auto_scroll if scroll_end is None else scroll_end:
                self.scroll_end(animate=False, immediate=True, x_axis=False)
        return self
