"""A screen whose updates draw only the rows they change.

When a widget repaints part of itself, Textual's compositor draws every widget whose
container overlaps the changed region, each over its whole visible height, and then
keeps the changed rows. While an answer streams, a frame changes one or two rows of a
40-row screen, so most of that drawing is thrown away: it was half of the compositor's
time per frame (bench/stream_overhead.py; README, "Streaming"), CPU that the model
needs on a small machine.

RowCompositor draws the same widgets over the changed rows only, and stops at the first
widget that covers the whole change: the widgets behind it (the chat, the screen) would
be drawn and then hidden. Every frame it makes is the one Textual's own compositor
makes (tests/ui/test_rows.py checks this on the real chat, row by row, for the columns
an update writes), and a full update is Textual's own code. It overrides one private
method of Textual's compositor and replaces the screen's; ui/compat.py checks both, and
where they are not as expected (another Textual) the screen keeps Textual's compositor.
"""

from __future__ import annotations

from typing import Iterable

from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip

from .compat import CompositorBase, install_compositor


class RowCompositor(CompositorBase):
    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if not crop:  # a full update: Textual's own
            yield from super()._get_renders(crop)
            return
        covers = Region.contains_region
        for widget, (region, clip) in self.visible_widgets.items():  # front to back
            if not crop.overlaps(clip):
                continue
            visible = region.intersection(clip)
            top, bottom = max(visible.y, crop.y), min(visible.bottom, crop.bottom)
            if bottom <= top or not visible.width:
                continue
            # whole rows of the widget's visible part: the compositor cuts them into columns
            rows = Region(visible.x, top, visible.width, bottom - top)
            yield rows, rows, widget.render_lines(Region(rows.x - region.x, rows.y - region.y, rows.width, rows.height))
            if covers(visible, crop):  # what lies behind is hidden wherever the update writes
                return


class RowScreen(Screen):
    """A Screen with the RowCompositor (where this Textual has what it overrides)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows_only = install_compositor(self, RowCompositor())  # False: Textual's compositor
