"""Plugin tools: real files imported from a folder, errors recorded, hot reload via watchfiles."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from waiting import wait_until

from thau_tui.tools import ToolRegistry, build_registry
from thau_tui.tools.plugins import PluginLoader, plugins_folder

REPO_TOOLS = Path(__file__).resolve().parents[2] / "tools"

SIMPLE = """
NAME = "{name}"
DESCRIPTION = "Shout the text back."
RISK = "read"
PARAMETERS = {{"type": "object", "properties": {{"text": {{"type": "string"}}}}, "required": ["text"]}}

def run(args, ctx):
    return args["text"].upper() + "{suffix}"
"""


def test_example_plugin_loads_and_runs(tmp_path, ctx, workspace):
    folder = tmp_path / "tools"
    folder.mkdir()
    shutil.copy(REPO_TOOLS / "word_count.py", folder)
    shutil.copy(REPO_TOOLS / "README.md", folder)  # not a plugin: ignored
    registry = build_registry()
    assert PluginLoader(registry, folder).load_all() == {}
    tool = registry.get("word_count")
    assert tool.source == str((folder / "word_count.py").resolve()) and tool.risk == "read"
    assert tool.run({"text": "two words\nand more"}, ctx).output == "2 lines, 4 words, 18 characters"
    (workspace / "a.txt").write_text("x y z\n")
    assert tool.run({"path": "a.txt"}, ctx).output == "1 lines, 3 words, 6 characters"
    assert not tool.run({"path": "../etc"}, ctx).ok


def test_broken_plugins_record_errors_and_the_rest_still_load(tmp_path, ctx):
    folder = tmp_path / "tools"
    folder.mkdir()
    (folder / "good.py").write_text(SIMPLE.format(name="shout", suffix="!"))
    (folder / "syntax.py").write_text("NAME = 'x'\ndef run(:\n")
    (folder / "raises.py").write_text("import json\nraise RuntimeError('no config')\n")
    (folder / "schema.py").write_text(
        SIMPLE.format(name="bad_schema", suffix="").replace('{"type": "string"}', '{"type": "text"}')
    )
    (folder / "clash.py").write_text(SIMPLE.format(name="run_shell", suffix=""))
    (folder / "empty.py").write_text("# nothing here\n")
    (folder / "_helper.py").write_text("raise SystemExit('never imported')\n")
    registry = build_registry()
    errors = PluginLoader(registry, folder).load_all()
    by_file = {Path(p).name: message for p, message in errors.items()}
    assert set(by_file) == {"syntax.py", "raises.py", "schema.py", "clash.py", "empty.py"}
    assert "syntax error at line 2" in by_file["syntax.py"]
    assert "raised RuntimeError at line 2 while loading: no config" in by_file["raises.py"]
    assert "PARAMETERS is not a valid JSON Schema" in by_file["schema.py"]
    assert "tool name 'run_shell' is already taken (a built-in tool)" in by_file["clash.py"]
    assert "define TOOL = Tool(...)" in by_file["empty.py"]
    assert all("fix the file and save it" in m for m in by_file.values())
    assert registry.plugin_errors == errors
    assert registry.get("run_shell").source == "builtin"  # the clash did not replace the built-in
    assert registry.get("shout").run({"text": "hey"}, ctx).output == "HEY!"


def test_tool_form_and_plugins_folder_setting(tmp_path, config):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "full.py").write_text(
        "from thau_tui.tools import Tool\n"
        "TOOL = Tool(name='full', description='d', risk='write', function=lambda a, c: 'ok',\n"
        "            parameters={'type': 'object', 'properties': {}})\n"
    )
    registry = ToolRegistry()
    assert PluginLoader(registry, folder).load_all() == {}
    assert registry.get("full").risk == "write"
    config.tools.plugins_dir = "mine"
    assert plugins_folder(config, base=tmp_path) == folder


async def test_watch_adds_reloads_and_removes_plugins_as_their_files_change(tmp_path):
    folder = tmp_path / "tools"
    folder.mkdir()
    registry = ToolRegistry()
    loader = PluginLoader(registry, folder)
    loader.load_all()
    messages: list[str] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(loader.watch(messages.extend, stop_event=stop))

    async def until(condition) -> None:
        try:
            await wait_until(None, condition, what="the watcher", step=0.02)
        except AssertionError as error:
            raise AssertionError(f"{error}; its messages: {messages}") from None

    try:
        await asyncio.sleep(0.3)  # let the watcher start
        path = folder / "shout.py"
        path.write_text(SIMPLE.format(name="shout", suffix="!"))
        # The registry changes a moment before the message is handed over: wait for both.
        await until(lambda: "shout" in registry and any("plugin tool 'shout' loaded" in m for m in messages))

        path.write_text(SIMPLE.format(name="shout", suffix="?!"))
        await until(lambda: any("reloaded" in m for m in messages))
        from thau_tui.tools.base import ToolContext

        assert registry.get("shout").run({"text": "a"}, ToolContext(workspace=tmp_path)).output == "A?!"

        path.write_text("def run(:\n")
        await until(lambda: str(path.resolve()) in registry.plugin_errors)
        assert "shout" not in registry

        path.unlink()
        await until(lambda: str(path.resolve()) not in registry.plugin_errors)
        assert "shout" not in registry and any("removed" in m for m in messages)
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 5)


def test_a_plugin_that_exits_or_nests_too_deep_costs_only_itself(tmp_path, ctx):
    """sys.exit() or argparse at import raised SystemExit out of load_all (thau stopped);
    a PARAMETERS schema 3000 deep raised RecursionError from check_schema, and the plugins
    after it were not registered either."""
    folder = tmp_path / "tools"
    folder.mkdir()
    (folder / "a_deep.py").write_text(
        "NAME = 'deep'\nDESCRIPTION = 'deep schema'\ns = {'type': 'string'}\n"
        "for _ in range(3000):\n    s = {'type': 'array', 'items': s}\n"
        "PARAMETERS = {'type': 'object', 'properties': {'x': s}}\ndef run(args):\n    return 'ok'\n"
    )
    (folder / "b_exits.py").write_text("import sys\n\nsys.exit(3)\n")
    (folder / "c_cli.py").write_text(
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--limit', type=int)\n"
        "opts = parser.parse_args(['--nope'])\n"
    )
    (folder / "d_good.py").write_text(SIMPLE.format(name="shout", suffix="!"))
    registry = build_registry()
    errors = PluginLoader(registry, folder).load_all()
    by_file = {Path(p).name: message for p, message in errors.items()}
    assert set(by_file) == {"a_deep.py", "b_exits.py", "c_cli.py"}
    assert "PARAMETERS is nested too deeply to check" in by_file["a_deep.py"]
    assert "called sys.exit(3) at line 3 while loading" in by_file["b_exits.py"]
    assert "called sys.exit(2) at line 4 while loading" in by_file["c_cli.py"] and "argparse" in by_file["c_cli.py"]
    assert all("fix the file and save it" in m for m in by_file.values())
    assert "deep" not in registry
    assert registry.get("shout").run({"text": "hey"}, ctx).output == "HEY!"


async def test_loading_off_the_event_loop_says_when_an_import_is_slow(tmp_path):
    """A plugin that sleeps at import held the event loop (the whole UI) at start; one that
    never returns meant thau never appeared. Loaded on a thread, the loop keeps running, and
    a plugin still importing after a while is named."""
    folder = tmp_path / "tools"
    folder.mkdir()
    go = tmp_path / "GO"
    (folder / "slow.py").write_text(
        "import pathlib, time\n"
        f"while not pathlib.Path({str(go)!r}).exists():\n    time.sleep(0.02)\n"
        + SIMPLE.format(name="slow_tool", suffix="")
    )
    registry = ToolRegistry()
    slow: list[Path] = []
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    loading = asyncio.create_task(PluginLoader(registry, folder).load_all_async(slow.append, slow_s=0.3))
    try:
        await wait_until(None, lambda: slow, what="the slow notice", step=0.02)
        assert slow == [(folder / "slow.py").resolve()] and ticks >= 10  # the loop ran meanwhile
        assert "slow_tool" not in registry
        assert await asyncio.wait_for(loading, 10) == {}  # it does not wait for the slow file
        go.write_text("")
        await wait_until(None, lambda: "slow_tool" in registry, what="the slow tool", step=0.02)
    finally:
        go.write_text("")
        ticker.cancel()


async def test_a_plugin_that_never_finishes_importing_holds_back_neither_the_others_nor_the_watching(tmp_path):
    """Files were imported one after another on one thread, and the folder watched only after
    the last: a plugin looping at import kept every later file out, and a fixed or new file
    was never loaded (MCP review). Each file has its own thread now; the slow one is named,
    the others load, and it reports when it ends."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    go = tmp_path / "GO"
    tool = (
        'NAME = "{name}"\nDESCRIPTION = "Says ok."\nPARAMETERS = {{"type": "object", "properties": {{}}}}\n'
        'def run(args):\n    return "ok"\n'
    )
    (folder / "a_good.py").write_text(tool.format(name="a_good"))
    (folder / "b_loop.py").write_text(
        f"import pathlib, time\nwhile not pathlib.Path({str(go)!r}).exists():\n    time.sleep(0.02)\n"
        + tool.format(name="b_loop")
    )
    (folder / "c_after.py").write_text(tool.format(name="c_after"))
    registry = build_registry()
    loader = PluginLoader(registry, folder)
    slow, late = [], []
    try:
        errors = await asyncio.wait_for(loader.load_all_async(slow.append, 0.3, late.append), 10)
        assert errors == {} and [p.name for p in slow] == ["b_loop.py"]
        assert "a_good" in registry and "c_after" in registry and "b_loop" not in registry
        go.write_text("")
        for _ in range(200):
            if late:
                break
            await asyncio.sleep(0.02)
        assert late == [f"plugin tool 'b_loop' loaded from {loader._show((folder / 'b_loop.py').resolve())}"]
        assert "b_loop" in registry
    finally:
        go.write_text("")


async def test_a_slow_import_overtaken_by_the_users_fix_counts_for_nothing(tmp_path):
    """Re-review: v1 slept at import, the user saved v2, which loaded; then v1 finished and
    registered its old tool beside the new one, the file now mapped to the old name."""
    import threading

    folder = tmp_path / "plugins"
    folder.mkdir()
    go = tmp_path / "GO"
    body = 'NAME = "{name}"\nDESCRIPTION = "Weather."\nPARAMETERS = {{"type": "object", "properties": {{}}}}\n'
    body += 'def run(args):\n    return "ok"\n'
    plugin = folder / "weather.py"
    plugin.write_text(
        f"import pathlib, time\nwhile not pathlib.Path({str(go)!r}).exists():\n    time.sleep(0.02)\n"
        + body.format(name="weather_v1")
    )
    registry = build_registry()
    loader = PluginLoader(registry, folder)
    late = []
    try:
        assert await asyncio.wait_for(loader.load_all_async(None, 0.2, late.append), 10) == {}
        plugin.write_text(body.format(name="weather"))  # the user's fix, loaded by the watcher
        assert loader.load_file(plugin)[0]
        go.write_text("")
        await asyncio.sleep(0.5)
        assert "weather" in registry and "weather_v1" not in registry and late == []
        assert loader.loaded == {plugin.resolve(): "weather"}
        loader.remove_file(plugin)
        assert "weather" not in registry
    finally:
        go.write_text("")
    # two files that name one tool, both slow: one registers, the other is told the name is taken
    gate = threading.Event()
    for name in ("a.py", "b.py"):
        (folder / name).write_text(
            f"import pathlib, time\nwhile not pathlib.Path({str(tmp_path / 'GO2')!r}).exists():\n    time.sleep(0.01)\n"
            + body.format(name="dup")
        )
    results: dict[str, tuple[bool, str]] = {}

    def load(name: str) -> None:
        gate.wait()
        results[name] = loader.load_file(folder / name)

    threads = [threading.Thread(target=load, args=(name,)) for name in ("a.py", "b.py")]
    for thread in threads:
        thread.start()
    gate.set()
    (tmp_path / "GO2").write_text("")
    for thread in threads:
        thread.join(10)
    assert sorted(ok for ok, _ in results.values()) == [False, True]
    assert any("already taken" in message for ok, message in results.values() if not ok)
    assert list(loader.loaded.values()).count("dup") == 1


def test_a_plugins_mistakes_are_pointed_at(tmp_path, ctx):
    """A misspelt type said no more than "'integr' is not valid under any of the given
    schemas"; "required": ["txt"] beside a property "text" loaded, and the tool could never
    work; a crash said "KeyError: 'b'" with no file or line; a run that forgot to return
    counted as a success, and a dict reached the model as a Python repr (tools review)."""
    folder = tmp_path / "tools"
    folder.mkdir()
    (folder / "typo.py").write_text(SIMPLE.format(name="typo", suffix="").replace('"string"', '"integr"'))
    (folder / "req.py").write_text(SIMPLE.format(name="req", suffix="").replace('["text"]', '["txt"]'))
    helper = "\ndef helper(a):\n    return a['b']\n"
    (folder / "boom.py").write_text(
        SIMPLE.format(name="boom", suffix="").replace("    return args", "    helper({})\n    return args") + helper
    )
    (folder / "none.py").write_text(SIMPLE.format(name="none", suffix="").replace("    return args", "    args"))
    (folder / "dict.py").write_text(
        SIMPLE.format(name="as_dict", suffix="").replace(
            'return args["text"].upper() + ""', 'return {"words": 2, "text": args["text"]}'
        )
    )
    registry = build_registry()
    by_file = {Path(p).name: m for p, m in PluginLoader(registry, folder).load_all().items()}
    assert "at $.properties.text.type" in by_file["typo.py"], by_file["typo.py"]
    assert "requires ['txt'] but has no such properties (they are ['text'])" in by_file["req.py"]
    crashed = registry.get("boom").run({"text": "x"}, ctx)
    assert not crashed.ok and "KeyError: 'b' (boom.py line" in crashed.output and "in helper)" in crashed.output
    nothing = registry.get("none").run({"text": "x"}, ctx)
    assert not nothing.ok and "returned nothing" in nothing.output
    assert registry.get("as_dict").run({"text": "x"}, ctx).output == '{"words": 2, "text": "x"}'
