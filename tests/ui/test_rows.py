"""The chat screen's RowCompositor draws exactly the frames Textual's compositor draws."""

from __future__ import annotations

from types import MethodType

from scripted import ScriptedBackend
from test_app import make_app, wait_until
from textual._compositor import Compositor

from thau_tui.ui.rows import RowCompositor, RowScreen

ANSWER = (
    "Here is the plan:\n\n"
    + "".join(f"{i}. **Step {i}**: do the {i}th thing, carefully, and check it twice.\n" for i in range(1, 12))
    + "\n```python\nfor step in plan:\n    step.run()\n```\n\n"
    + "A closing paragraph that wraps over more than one line of the chat, so the last "
    "line grows word by word while the frames come. " * 3
)


async def test_every_partial_frame_is_the_one_textuals_compositor_draws(tmp_path, monkeypatch):
    frames: list[tuple[int, int, int]] = []  # (rows changed, rows the row compositor drew, rows Textual's drew)
    ours = RowCompositor._render_chops

    def compare(self, crop, is_rendered_line):
        drawn = ours(self, crop, is_rendered_line)
        rows = sum(region.height for region, _, _ in self._get_renders(crop))
        self._get_renders = MethodType(Compositor._get_renders, self)  # Textual's own, once
        try:
            stock = Compositor._render_chops(self, crop, is_rendered_line)
            stock_rows = sum(region.height for region, _, _ in self._get_renders(crop))
        finally:
            del self._get_renders
        assert len(drawn) == len(stock)
        ends = [cut_set[1:] for cut_set in self.cuts]
        for y in range(crop.y, crop.bottom):
            if not is_rendered_line(y):
                continue
            # the pieces of the row that an update inside `crop` writes (ChopsUpdate.render_segments)
            written = [x for x, end in zip(stock[y], ends[y]) if x < crop.right and end > crop.x]
            assert written
            for x in written:
                assert stock[y][x] is not None
                assert drawn[y][x] == stock[y][x], f"row {y} at column {x} differs for the update {crop}"
        frames.append((crop.height, rows, stock_rows))
        return drawn

    monkeypatch.setattr(RowCompositor, "_render_chops", compare)
    app = make_app(tmp_path, ScriptedBackend([ANSWER, "Short."], chunk=4, delay=0.008))
    async with app.run_test(size=(100, 24)) as pilot:
        assert isinstance(app.screen, RowScreen) and isinstance(app.screen._compositor, RowCompositor)
        await pilot.press(*"plan it")
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press(*"next question")  # typing while it streams: the prompt repaints too
        await wait_until(pilot, lambda: not app.turn_running, timeout=30)
        assert app.chat.scroll_y > 0  # the answer outgrew the view: clipped widgets were drawn too
        await pilot.press("ctrl+b")  # the sessions panel goes and comes back
        await pilot.pause(0.1)
        await pilot.press("ctrl+b")
        await pilot.pause(0.2)
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "  the frames come." in screen  # the end of the answer, drawn by frames

    # most frames changed a row or two (a line of the answer), and for those the row
    # compositor drew a small part of what Textual's compositor drew
    small = [(rows, stock) for changed, rows, stock in frames if changed <= 2]
    assert len(small) >= 8  # ~30 in 2 s of streaming; fewer on a loaded machine
    assert sum(rows for rows, _ in small) * 4 < sum(stock for _, stock in small)
