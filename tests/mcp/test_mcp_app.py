"""The real thau app with an MCP server configured: its tools arrive in the background,
a destructive one waits for y on its card, an image result shows in the image pane, and a
server that cannot start is a notification while the chat goes on."""

from __future__ import annotations

import json

from mcp_support import server_config
from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult, MCPServerConfig
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp


def call(tool: str, **args) -> str:
    return "<tool_call>" + json.dumps({"name": tool, "arguments": args}) + "</tool_call>"


async def test_mcp_tools_get_cards_approvals_and_the_image_pane(tmp_path, notes_dir, notices):
    config = Config()
    config.tools.workspace = str(tmp_path)
    config.mcp.servers = [
        server_config(env={"NOTES_DIR": str(notes_dir)}),
        MCPServerConfig(name="broken", command="thau-no-such-mcp-server"),
    ]
    backend = ScriptedBackend(
        [call("notes__write_note", name="plan", text="ship it"), "Written.", call("notes__draw"), "Here it is."]
    )
    app = ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db.sqlite3"), backend=backend, watch=False)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: "notes__write_note" in app.registry, what="the notes server's tools")
        await wait_until(
            pilot,
            lambda: notices.any("'broken' did not start"),
            what="the broken server's notification",
        )
        # The MCP thread adds the tools first and posts this notice after: wait for it, do not race it.
        await wait_until(
            pilot,
            lambda: "MCP server 'notes': 8 tools" in [n.message for n in notices],
            what="the notes server's notification",
        )

        await pilot.press(*"write the plan")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: app.query("ToolCard") and app.query_one("ToolCard").state == "awaiting", what="the card"
        )
        assert not (notes_dir / "plan").exists()  # nothing runs before y
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.turn_running, what="the turn to end")
        assert (notes_dir / "plan").read_text() == "ship it"
        assert app.query_one("ToolCard").state == "done"

        await pilot.press(*"draw")
        await pilot.press("enter")
        # read-only by its hints, but the server runs outside the sandbox: it asks too
        await wait_until(
            pilot,
            lambda: len(app.query("ToolCard")) == 2 and app.query("ToolCard")[1].state == "awaiting",
            what="the card",
        )
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.turn_running and len(app.query("ToolCard")) == 2, what="the draw")
        pane = app.query_one("#images")
        assert pane.display and pane.current is not None and pane.current.suffix == ".png"
    assert "notes__write_note" not in app.registry  # the servers stop with the app
