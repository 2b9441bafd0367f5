"""Plugins load off the event loop at start: a slow import neither hides nor freezes thau."""

from __future__ import annotations

import time

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui import services
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.prompt_input import PromptInput

PLUGIN = """
import pathlib, time

started = time.monotonic()
while not pathlib.Path({go!r}).exists() and time.monotonic() - started < 20:
    time.sleep(0.02)  # stands for a network call, a lock or input() at import
NAME = "slow_tool"
DESCRIPTION = "Answers ok."
PARAMETERS = {{"type": "object", "properties": {{}}}}

def run(args):
    return "ok"
"""


async def test_a_plugin_slow_to_import_leaves_the_app_usable_and_is_named(tmp_path, notices, monkeypatch):
    """The import ran on the event loop in on_mount: a plugin sleeping 8 s at import held
    the whole UI that long, and one that never returned meant thau never appeared."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(services, "PLUGIN_IMPORT_NOTICE_S", 0.5)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    go = tmp_path / "GO"
    (plugins / "slow.py").write_text(PLUGIN.format(go=str(go)))
    (plugins / "exits.py").write_text("import sys\nsys.exit(2)\n")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    config = Config()
    config.tools.plugins_dir = str(plugins)
    config.tools.workspace = str(workspace)
    app = ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=False)
    started = time.monotonic()
    try:
        async with app.run_test() as pilot:
            assert "slow_tool" not in app.registry, f"the app waited {time.monotonic() - started:.1f} s for it"
            await pilot.press("h", "i")
            assert app.query_one("#input", PromptInput).text == "hi"  # usable meanwhile
            await wait_until(pilot, lambda: notices.any("slow.py"), timeout=10, what="the still-importing notice")
            note = next(n for n in notices if "slow.py" in n.message)
            assert "still importing" in note.message and "thau works meanwhile" in note.message, note
            go.write_text("")
            await wait_until(pilot, lambda: "slow_tool" in app.registry, timeout=10, what="the slow plugin")
            await wait_until(pilot, lambda: notices.any("exits.py"), timeout=10)
            assert notices.any("called sys.exit(2)")
    finally:
        go.write_text("")


WORD = """
NAME = "shout"
DESCRIPTION = "Shout the text back."
RISK = "read"
PARAMETERS = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}

def run(args, ctx):
    return args["text"].upper()
"""


def _watching_app(tmp_path, plugins) -> ThauApp:
    """The app with its plugins folder at `plugins` (not made yet) and the folders watched."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    config = Config()
    config.tools.plugins_dir = str(plugins)
    config.tools.workspace = str(workspace)
    return ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=True)


async def test_a_plugins_folder_made_while_thau_runs_is_loaded_and_watched(tmp_path, notices, monkeypatch):
    """The README says a .py dropped in the plugins folder is picked up while thau runs; a
    folder that did not exist at start (a fresh install has none) was never watched, so
    nothing was, until a restart (docs review)."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    plugins = tmp_path / "plugins"
    app = _watching_app(tmp_path, plugins)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        plugins.mkdir()
        (plugins / "shout.py").write_text(WORD)
        await wait_until(pilot, lambda: "shout" in app.registry, timeout=15, what="the plugin in the new folder")
        (plugins / "broken.py").write_text("def run(:\n")  # and the folder is watched from then on
        await wait_until(pilot, lambda: notices.any("broken.py"), timeout=15, what="the broken plugin's notice")


async def test_a_plugins_folder_made_later_inside_the_workspace_is_refused(tmp_path, notices, monkeypatch):
    """A folder that appears while thau runs gets the check a folder there at start gets: inside
    the workspace, where tools write, a plugin would run inside thau, outside the sandbox."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    plugins = tmp_path / "workspace" / "plugins"
    app = _watching_app(tmp_path, plugins)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        plugins.mkdir()
        (plugins / "shout.py").write_text(WORD)
        await wait_until(pilot, lambda: notices.any("are not loaded: it is inside the workspace"), timeout=15)
        await pilot.pause(1.5)
        assert "shout" not in app.registry
