"""F1 help at 80x24: about four keys a screen, as the title took seven lines, a rule followed
every row and the prompt's editing keys wrapped over eleven lines (UX review)."""

from __future__ import annotations

import re

from scripted import ScriptedBackend
from textual.containers import VerticalScroll
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.screens.help import HelpScreen, slash_rows

# Each key the one editing row listed before it became one row a group
EDITING = "Ctrl+Left Ctrl+Right Ctrl+A Ctrl+K Ctrl+U Ctrl+W Ctrl+Z Ctrl+Y Ctrl+X Ctrl+C Ctrl+V".split()


def make_app(tmp_path) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    return ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=False)


def help_lines(app) -> list[str]:
    """The lines the help box shows now, inside its border."""
    box = app.screen.query_one(VerticalScroll).region
    strips = list(app.screen._compositor.render_strips())
    return [strip.text[box.x + 1 : box.right - 1] for strip in strips[box.y + 1 : box.bottom - 1]]


def key_cell(line: str) -> str:
    """The first column of a help line: what comes before the gap (or a table's rule)."""
    inner = line.strip().strip("│").strip()
    return re.split(r"\s{2,}|\s*│", inner, maxsplit=1)[0].strip()


async def open_help(app, pilot) -> None:
    await wait_until(pilot, lambda: app.model_ready_s is not None, 10, "the model")
    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), 10, "the help screen")
    await pilot.pause()


async def test_the_first_screen_of_help_at_80x24_shows_a_dozen_keys(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_help(app, pilot)
        keys = {key for _, rows in app.screen.sections for key, _ in rows}
        lines = help_lines(app)
        shown = [key_cell(line) for line in lines if key_cell(line) in keys]
        assert len(shown) >= 12, "\n".join(lines)  # 4 before
        # the title is on the border: the first line is already the first section
        assert lines[0].strip() == "Everywhere", lines[:3]


async def test_paging_through_help_shows_every_key_on_a_row_of_its_own(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_help(app, pilot)
        box = app.screen.query_one(VerticalScroll)
        seen = help_lines(app)
        while box.scroll_y < box.max_scroll_y:
            await pilot.press("pagedown")
            await pilot.pause()
            seen += help_lines(app)
        rows: dict[str, list[str]] = {}  # Esc, Enter, r... have a row in several sections
        for line in seen:
            rows.setdefault(key_cell(line), []).append(line)
        everything = [row for _, section in app.screen.sections for row in section] + slash_rows()
        missing = [
            (key, what)
            for key, what in everything
            # its keys in the first column, what it does beside them on the same line
            if not any(what[:20].strip() in line for line in rows.get(key, ()))
        ]
        assert not missing, missing
        editing = dict(app.screen.sections)["Editing the prompt"]
        assert sorted(k for key, _ in editing for k in key.split(" / ")) == sorted(EDITING)
        assert all(key in rows for key, _ in editing)
