"""Export (Ctrl+E): each file whole or not at all, and written off the UI thread so keys
typed meanwhile show at once (reliability review)."""

from __future__ import annotations

import resource
import signal
import threading

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine import chat_export
from thau_tui.engine.store import Store
from thau_tui.paths import data_dir
from thau_tui.ui.app import ThauApp


def _app(tmp_path, answers: list[str]) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(ConfigResult(config, None, []), store=store, backend=ScriptedBackend(answers), watch=False)


async def _one_turn(pilot, app: ThauApp) -> None:
    await pilot.press(*"hello there", "enter")
    await wait_until(pilot, lambda: not app.turn_running and len(app.session.messages) >= 2, what="the answer")


async def test_an_export_that_fails_mid_write_leaves_no_file_behind(tmp_path, thau_home, notices):
    """A write that failed part way (a full disk) left a cut .md under its final name that the
    "export failed" notice did not mention. A file-size limit makes the write fail for real,
    half way through the Markdown."""
    app = _app(tmp_path, ["An answer long enough to be cut in half. " * 20])
    async with app.run_test(size=(110, 30)) as pilot:
        await _one_turn(pilot, app)
        size = len(chat_export.markdown(app.session.title, app.session.messages).encode())
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, hard))
        try:
            written = app.action_export()
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, old_handler)
        assert written == []
        failed = [n for n in notices if n.title == "export failed"]
        assert failed and "saved" not in failed[0].message, failed
        left = sorted(p.name for p in (data_dir() / "exports").iterdir())
        assert left == [], left  # neither the cut file nor the temporary one
        assert len(app.action_export()) == 2  # room again: both files, whole
        md = next((data_dir() / "exports").glob("*.md")).read_text(encoding="utf-8")
        assert md == chat_export.markdown(app.session.title, app.session.messages, app.store.tool_calls(app.session.id))


async def test_keys_typed_during_an_export_show_before_it_ends(tmp_path, thau_home, notices):
    """The export ran on the UI thread: a key typed after Ctrl+E on a 5,000-message chat took
    1.85 s to show. Here the export waits on the store (its lock held by another thread) until
    the test lets it go: the key must show while it waits, and the files come after."""
    app = _app(tmp_path, ["Hi."])
    async with app.run_test(size=(110, 30)) as pilot:
        await _one_turn(pilot, app)
        held, release = threading.Event(), threading.Event()

        def hold_the_store() -> None:
            with app.store._lock:  # what a long store read elsewhere does to the export's read
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold_the_store, daemon=True)
        holder.start()
        held.wait(5)
        try:
            await pilot.press("ctrl+e", "x")
            await wait_until(pilot, lambda: app.query_one("#input").text == "x", what="the key typed")
            exports = data_dir() / "exports"
            assert not (exports.exists() and list(exports.glob("*.md"))), "the export ran before the key"
        finally:
            release.set()
        await wait_until(pilot, lambda: notices.any("saved "), what="the export's notice")
        assert len(list((data_dir() / "exports").glob("*.md"))) == 1
        assert len(list((data_dir() / "exports").glob("*.jsonl"))) == 1
        holder.join(5)
