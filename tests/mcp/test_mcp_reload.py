"""mcp.servers changed while thau runs (config.yaml reloaded): the manager stops the servers
whose entry changed or went, starts the new ones, and leaves the others running; the app
does it when its config reloads."""

from __future__ import annotations

import os

from mcp_support import server_config, wait_for
from scripted import ScriptedBackend
from test_mcp_app import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pid(folder) -> int:
    return int((folder / "server.pid").read_text())


def test_update_starts_new_servers_restarts_changed_ones_and_stops_removed_ones(start_servers, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    notes = server_config(env={"NOTES_DIR": str(first)})
    manager, registry, _ = start_servers(notes)
    first_pid = _pid(first)
    assert "notes__read_note" in registry.names()

    more = server_config("more", env={"NOTES_DIR": str(second)})
    manager.update([notes, more])
    assert manager.wait_ready(60)
    assert [state.status for state in manager.states()] == ["ready", "ready"]
    assert "more__read_note" in registry.names() and "notes__read_note" in registry.names()
    assert _pid(first) == first_pid and _alive(first_pid)  # unchanged: not restarted

    untrusted = notes.model_copy(update={"trust_hints": False})
    more_pid = _pid(second)
    manager.update([untrusted])
    assert manager.wait_ready(60)
    assert not _alive(more_pid)  # removed: its process ended before update() returned
    assert not any(name.startswith("more__") for name in registry.names())
    wait_for(lambda: _pid(first) != first_pid, 30, "the changed server to start again")
    assert not _alive(first_pid)
    assert registry.get("notes__read_note").risk == "exec"  # the new entry's trust_hints: false

    manager.update([])
    assert not _alive(_pid(first))
    assert not any("__" in name for name in registry.names())
    assert manager.states() == []


async def test_the_app_reloads_mcp_servers_when_its_config_changes(tmp_path, notes_dir):
    config = Config()
    config.tools.workspace = str(tmp_path)
    app = ThauApp(
        ConfigResult(config, None), store=Store(tmp_path / "db.sqlite3"), backend=ScriptedBackend([]), watch=False
    )
    async with app.run_test(size=(110, 40)) as pilot:
        assert app.mcp is not None and "notes__read_note" not in app.registry
        changed = config.model_copy(deep=True)
        changed.mcp.servers = [server_config(env={"NOTES_DIR": str(notes_dir)})]
        app._config_changed(ConfigResult(changed, None))
        await wait_until(pilot, lambda: "notes__read_note" in app.registry, what="the new server's tools")
        pid = _pid(notes_dir)
        app._config_changed(ConfigResult(config.model_copy(deep=True), None))
        await wait_until(pilot, lambda: "notes__read_note" not in app.registry, what="its tools to go")
        await wait_until(pilot, lambda: not _alive(pid), what="its process to end")
