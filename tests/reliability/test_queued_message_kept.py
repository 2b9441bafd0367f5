"""A message sent while the model loads waits in `queued`, and the prompt is empty: Ctrl+Q,
a closed terminal or a crash before the model was ready lost it, as only the prompt was
kept as the draft (reliability review). The draft holds it until its turn starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.paths import unsent_path
from thau_tui.ui import services
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import UserMessage
from thau_tui.ui.widgets.prompt_input import PromptInput

QUEUED = "startup queued words"


def loading_app(tmp_path, backend=None) -> ThauApp:
    """The real app with its model still loading (none comes unless the test posts one)."""
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(ConfigResult(config, None), store=store, backend=backend, load_model=False, watch=False)


async def queue(app, pilot) -> None:
    await pilot.press(*QUEUED)
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.queued == QUEUED, 5, "the message to be queued")
    assert app.query_one(PromptInput).text == "" and "queued" in app.status.activity


async def test_ctrl_q_while_the_model_loads_keeps_the_queued_message_for_the_next_start(tmp_path, notices):
    app = loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await queue(app, pilot)
        # kept at once (a kill -9 comes without warning), and still after the emptied
        # prompt's own save a second later, which removed the draft
        assert unsent_path().read_text(encoding="utf-8") == QUEUED
        await pilot.pause(services.UNSENT_SAVE_S + 0.5)
        assert unsent_path().read_text(encoding="utf-8") == QUEUED
        await pilot.press("ctrl+q")
        await pilot.pause()
    again = loading_app(tmp_path)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.query_one(PromptInput).text == QUEUED
        assert notices.any("back in the prompt")


async def test_what_is_typed_after_the_queued_message_is_kept_after_it(tmp_path):
    app = loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await queue(app, pilot)
        await pilot.press(*"and a second thought")
        await pilot.pause(services.UNSENT_SAVE_S + 0.5)
        assert unsent_path().read_text(encoding="utf-8") == QUEUED + "\nand a second thought"


async def test_the_queued_message_leaves_the_draft_once_its_turn_starts(tmp_path):
    app = loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await queue(app, pilot)
        app.post_message(app.ModelLoaded(ScriptedBackend(["Hi!"]), 0.1))
        await wait_until(pilot, lambda: app.query(UserMessage) and not app.turn_running, 10, "the turn")
        assert [u.text for u in app.query(UserMessage)] == [QUEUED]
        assert not unsent_path().exists()  # sent and saved with the chat: not given back again
        await pilot.pause(services.UNSENT_SAVE_S + 0.5)
        assert not unsent_path().exists()


async def test_escape_still_gives_the_queued_message_back_and_the_draft_holds_it_once(tmp_path):
    app = loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await queue(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.queued is None and app.query_one(PromptInput).text == QUEUED
        await pilot.pause(services.UNSENT_SAVE_S + 0.5)
        assert unsent_path().read_text(encoding="utf-8") == QUEUED


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from thau_tui.config import Config, ConfigResult
    from thau_tui.engine.store import Store
    from thau_tui.ui.app import ThauApp

    async def main():
        config = Config()
        config.tools.workspace = sys.argv[1]
        store = Store(sys.argv[1] + "/sessions.sqlite3")
        app = ThauApp(ConfigResult(config, None), store=store, load_model=False, watch=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(*sys.argv[2])
            await pilot.press("enter")
            await pilot.pause()
            print("queued" if app.queued == sys.argv[2] else f"not queued: {app.queued!r}", flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
    """
)


async def test_kill_9_while_the_model_loads_keeps_the_queued_message(tmp_path, notices):
    """A crash (or SIGHUP, which ends thau without Ctrl+Q) right after Enter."""
    workspace = tmp_path / "child"
    workspace.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace), QUEUED],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ.copy(),  # the test's THAU_HOME
    )
    try:
        said = child.stdout.readline().strip()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
    assert said == "queued"
    app = loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.query_one(PromptInput).text == QUEUED
