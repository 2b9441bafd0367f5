"""A few screens at a fixed size, compared with the committed snapshots.

Update after an intended change: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import json

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp

SIZE = (110, 32)


def _app(tmp_path, replies=()):
    config = Config()
    config.tools.workspace = str(tmp_path)
    config.ui.sidebar = False  # session ages ("3m") would make the picture depend on the clock
    app = ThauApp(
        ConfigResult(config, None), store=Store(tmp_path / "db"), backend=ScriptedBackend(list(replies)), watch=False
    )
    return app


async def _ready(app, pilot) -> None:
    """The model is loaded and its name is in the status line (a busy machine took the
    picture before, once)."""
    await wait_until(pilot, lambda: app.model_ready_s is not None, what="the model")
    await pilot.pause()


def test_startup_screen(snap_compare, tmp_path):
    app = _app(tmp_path)
    assert snap_compare(app, run_before=lambda pilot: _ready(app, pilot), terminal_size=SIZE)


def test_help_screen(snap_compare, tmp_path):
    from thau_tui.ui.screens.help import HelpScreen

    app = _app(tmp_path)

    async def run_before(pilot):
        await _ready(app, pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_card_awaiting_approval(snap_compare, tmp_path):
    call = (
        "Let me look. <tool_call>"
        + json.dumps({"name": "write_file", "arguments": {"path": "notes.md", "content": "# Notes\n- buy milk"}})
        + "</tool_call>"
    )
    app = _app(tmp_path, [call, "done"])

    async def run_before(pilot):
        app.send("save my notes")
        await wait_until(
            pilot, lambda: app.query("ToolCard") and app.query_one("ToolCard").state == "awaiting", what="the card"
        )
        await pilot.pause(0.2)

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
