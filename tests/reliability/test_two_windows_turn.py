"""Two thau windows in one chat while the first one's turn is still running (two-window
review): the other window sent anyway, and the saved chat held U's question, U's call, T's
question and answer, then U's tool result. Window U here is a real thau turn in a child
process (crash_child.py "approval": its card waits for ever); window T is the real app on
the same database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import NoteMessage

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ROOT = Path(__file__).resolve().parents[2]


def window_u_waiting_on_a_card(db: Path) -> tuple[subprocess.Popen, str]:
    """Start window U's turn and return once its first call waits for approval."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "approval", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sid = child.stdout.readline().strip()
    deadline = time.monotonic() + 120
    while True:
        assert child.poll() is None, f"window U ended early: {child.communicate()}"
        try:
            with sqlite3.connect(db) as reader:
                row = reader.execute("SELECT 1 FROM tool_calls WHERE status='proposed'").fetchone()
        except sqlite3.OperationalError:  # still creating its tables
            row = None
        if row is not None:
            return child, sid
        assert time.monotonic() < deadline, "window U's card never came"
        time.sleep(0.05)


def kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    child.stderr.close()


def window_t(tmp_path: Path, db: Path, backend: ScriptedBackend) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    return ThauApp(ConfigResult(config, None, []), resume=True, store=Store(db), backend=backend, watch=False)


async def test_a_window_does_not_send_while_another_windows_card_waits(tmp_path, notices):
    """The counts matched (U had stored all it would until its card was answered), so T's
    message went in between U's call and its result; T now refuses and keeps the text."""
    db = tmp_path / "sessions.sqlite3"
    child, sid = window_u_waiting_on_a_card(db)
    backend = ScriptedBackend(["T's answer"])
    try:
        app = window_t(tmp_path, db, backend)
        async with app.run_test(size=(110, 40)) as pilot:
            await wait_until(pilot, lambda: app.session is not None and app.session.id == sid)
            await pilot.press(*"hello from window T", "enter")
            await wait_until(pilot, lambda: notices.any("is answering in it"), what="the not-sent notice")
            await pilot.pause(0.3)
            assert app.query_one("#input").text == "hello from window T" and not app.turn_running
            assert backend.prompts == []  # T's model was never asked
    finally:
        kill(child)
    assert [m["role"] for m in Store(db).messages(sid)] == ["user", "assistant"]  # U's question and call only


async def test_a_turn_whose_window_was_killed_is_closed_before_sending(tmp_path, notices):
    """T opened the chat while U's card waited, then U was killed: T's message went after a
    call that never got a result, and the reopened chat showed no card for it. T now closes
    U's turn (a result per call, marked interrupted), shows it, and sends after it."""
    db = tmp_path / "sessions.sqlite3"
    child, sid = window_u_waiting_on_a_card(db)
    backend = ScriptedBackend(["T's answer"])
    try:
        app = window_t(tmp_path, db, backend)
        async with app.run_test(size=(110, 40)) as pilot:
            await wait_until(pilot, lambda: app.session is not None and app.session.id == sid)
            kill(child)
            await pilot.press(*"hello from window T", "enter")
            await wait_until(pilot, lambda: "T's answer" in app.chat.answers(), what="T's answer")
            await wait_until(pilot, lambda: not app.turn_running)
            notes = [str(note.render()) for note in app.query(NoteMessage)]
            prompt = backend.prompts[0]
    finally:
        if child.returncode is None:
            kill(child)
    stored = Store(db).messages(sid)
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "tool", "tool", "user", "assistant"]
    assert all(m["meta"].get("interrupted") for m in stored[2:5])
    assert [m["content"] for m in stored[5:]] == ["hello from window T", "T's answer"]
    # T's model read U's calls closed before T's question, and T's chat shows them closed
    assert prompt.index("interrupted: thau stopped") < prompt.index("hello from window T")
    assert sum("not run; thau stopped while it waited for your approval" in note for note in notes) == 3, notes


async def test_two_windows_sending_at_one_instant_one_is_refused(tmp_path):
    """Both windows found the chat idle when they sent within milliseconds, and the store got
    U's question, T's question, U's answer, T's answer; the reopened chat said U's question
    was "not answered" (reliability review). The turn's mark is claimed in one statement
    now: the second sender is refused, its text back in the prompt, nothing added."""
    from thau_tui.engine.agent import ANSWERING_ELSEWHERE, Agent
    from thau_tui.engine.events import MessageRefused, TurnDone
    from thau_tui.tools import build_registry

    db = tmp_path / "sessions.sqlite3"
    first = Store(db)
    sid = first.create_session("one chat")
    first.close()
    # window U: another live process that claimed the turn an instant before
    claim = (
        "import time; from thau_tui.engine.store import Store; "
        f"print(Store({str(db)!r}).claim_turn({sid!r}), flush=True); time.sleep(60)"
    )
    window_u = subprocess.Popen([sys.executable, "-c", claim], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert window_u.stdout.readline().strip() == "True"
        store = Store(db)
        agent = Agent(Config(), build_registry(), backend=ScriptedBackend(["Rome."]), store=store, workspace=tmp_path)
        session = agent.load_session(sid)
        events = [event async for event in agent.run_turn(session, "Capital of Italy?")]
        refused = [e for e in events if isinstance(e, MessageRefused)]
        assert refused and refused[0].message == ANSWERING_ELSEWHERE and refused[0].text == "Capital of Italy?"
        assert isinstance(events[-1], TurnDone) and store.messages(sid) == []
    finally:
        window_u.kill()
        window_u.wait()
    # U is gone: its mark is taken over, and the question goes in
    events = [event async for event in agent.run_turn(agent.load_session(sid), "Capital of Italy?")]
    assert not any(isinstance(e, MessageRefused) for e in events)
    assert [m["content"] for m in store.messages(sid)] == ["Capital of Italy?", "Rome."]
