"""A chat opened again (from the sidebar, or with --resume) shows each tool call as the card
it ended as: run with its output, denied with the user's reason, edited, invalid. Before,
every call was a line `called run_shell {'command': ...}`, so a denied command looked as if
it had run."""

from __future__ import annotations

import json

from scripted import ScriptedBackend
from textual.widgets import Static
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import NoteMessage
from thau_tui.ui.widgets.tool_card import ToolCard


def _call(name, **args):
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"


def _app(tmp_path, backend, resume=False) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    config.generation.temperature = 0.0
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(ConfigResult(config, None, []), resume=resume, store=store, backend=backend, watch=False)


def _cards(app) -> list[tuple[str, str, str, str]]:
    """(tool, state, arguments shown, notes and result shown) of each card, in order."""
    return [
        (
            card.call.name,
            card.state,
            json.dumps(card.call.arguments),
            str(card.query_one(".notes", Static).render()) + str(card.query_one(".result", Static).render()),
        )
        for card in app.query(ToolCard)
    ]


async def test_a_reopened_chat_shows_each_call_as_it_ended(tmp_path):
    replies = [
        _call("run_shell", command="rm -rf notes"),
        "OK, I won't.",
        _call("write_file", path="hello.txt", content="hi there"),
        "Written.",
        '<tool_call>{"name": "write_file", "arguments": {"path": "x.txt"}}</tool_call>',
        "Sorry.",
    ]
    async with _app(tmp_path, ScriptedBackend(replies)).run_test(size=(110, 50)) as pilot:
        app = pilot.app
        for text, keys in (("remove notes", ["n", *"keep them", "enter"]), ("write hello", ["y"])):
            await pilot.press(*text, "enter")
            await wait_until(pilot, lambda: app.query(ToolCard) and app.query(ToolCard).last().state == "awaiting")
            await pilot.press(*keys)
            await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press(*"write x", "enter")  # a call missing its content: invalid, never asked
        await wait_until(pilot, lambda: not app.turn_running)
        live = _cards(app)
        sid = app.session.id
    assert [(name, state) for name, state, _, _ in live] == [
        ("run_shell", "denied"),
        ("write_file", "done"),
        ("write_file", "invalid"),
    ]
    async with _app(tmp_path, ScriptedBackend([]), resume=True).run_test(size=(110, 50)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(ToolCard))
        reopened = _cards(app)
        notes = " ".join(str(n.render()) for n in app.query(NoteMessage))
    assert [(name, state, shown) for name, state, shown, _ in reopened] == [
        ("run_shell", "denied", json.dumps({"command": "rm -rf notes"})),
        ("write_file", "done", json.dumps({"path": "hello.txt", "content": "hi there"})),
        ("write_file", "invalid", json.dumps({"path": "x.txt"})),
    ]
    assert "denied: keep them" in reopened[0][3]
    assert "hello.txt" in reopened[1][3]  # the result line: what it wrote
    assert "called " not in notes


async def test_a_reopened_chat_marks_an_edited_call_and_a_stopped_answer(tmp_path):
    """Reopened, an edited card lost its "(edited)" and a stopped answer read as whole
    (UX walkthrough)."""
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("edited and stopped")
    store.add_message(sid, "user", "count the lines")
    store.add_message(sid, "assistant", _call("run_shell", command="wc -l notes.txt"))
    store.record_call(sid, "c1", "run_shell", {"command": "cat -n notes.txt"}, "done", result="1 hello")
    store.record_decision(sid, "c1", "once", "user", None, {"command": "cat -n notes.txt"})
    store.add_message(sid, "tool", "1 hello", {"call_id": "c1", "tool": "run_shell"})
    store.add_message(sid, "user", "tell me a story")
    store.add_message(sid, "assistant", "Once upon", {"stopped": True})
    store.close()
    async with _app(tmp_path, ScriptedBackend([]), resume=True).run_test(size=(110, 50)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(ToolCard))
        card = app.query_one(ToolCard)
        shown = str(card.query_one(".arguments", Static).render())
        notes = [str(n.render()) for n in app.query(NoteMessage)]
    assert "cat -n notes.txt" in shown and "(edited)" in shown
    assert "stopped" in notes


async def test_a_reopened_chat_still_says_which_call_ran_unasked(tmp_path):
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("unasked")
    store.add_message(sid, "user", "list again")
    store.add_message(sid, "assistant", _call("run_shell", command="ls"))
    store.record_call(sid, "c1", "run_shell", {"command": "ls"}, "done", result="a.txt")
    store.record_decision(sid, "c1", "auto", "auto", "allowed for this chat")
    store.add_message(sid, "tool", "a.txt", {"call_id": "c1", "tool": "run_shell"})
    store.close()
    async with _app(tmp_path, ScriptedBackend([]), resume=True).run_test(size=(110, 50)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(ToolCard))
        label = str(app.query_one(ToolCard).query_one(".state-label", Static).render())
    assert label == "done · ran unasked: allowed for this chat"


async def test_resume_opens_a_long_chat_at_its_latest_exchange(tmp_path):
    """`thau --resume` opened a long chat at its first question, its last answer off the
    screen; opening it from the chats list scrolled to the end (helper's UX review)."""
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("long")
    for n in range(30):
        store.add_message(sid, "user", f"question {n}")
        store.add_message(sid, "assistant", f"answer {n}\n\nwith a second paragraph")
    store.close()
    async with _app(tmp_path, ScriptedBackend([]), resume=True).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid)
        await wait_until(pilot, lambda: app.chat.max_scroll_y > 0 and app.chat.scroll_y == app.chat.max_scroll_y)


async def test_keys_while_a_chat_is_being_drawn_neither_duplicate_nor_mix_chats(tmp_path, monkeypatch):
    """Opening a long chat from the list took seconds, and meanwhile a message sent was drawn
    twice (the drawing walked the list the turn appended to) and Ctrl+N's new chat kept
    filling with the old chat's messages (reliability review)."""
    import asyncio

    from thau_tui.ui import history

    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("long")
    for n in range(5):
        store.add_message(sid, "user", f"question {n}")
        store.add_message(sid, "assistant", f"answer {n}")
    store.close()
    gate = asyncio.Event()
    real_draw = history.draw_history

    async def slow_draw(*args, **kwargs):
        await gate.wait()  # a long chat, still drawing
        await real_draw(*args, **kwargs)

    monkeypatch.setattr(history, "draw_history", slow_draw)
    async with _app(tmp_path, ScriptedBackend(["fine"])).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        app.post_message(app.query_one("#sessions").Resume(sid))
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid)
        app.query_one("#input").focus()
        await pilot.press(*"hi", "enter")  # sent while the chat is drawn: not yet
        await pilot.pause()
        assert app.query_one("#input").text == "hi" and not app.turn_running
        await pilot.press("ctrl+n")  # the drawing stops: the new chat stays new
        await pilot.pause()
        gate.set()
        await pilot.pause(0.3)
        assert app.session.id != sid
        texts = [str(w.render()) for w in app.chat.children]
        assert not any("question 0" in t for t in texts)


async def test_esc_while_a_call_is_written_says_which_call_was_not_run_as_reopened(tmp_path):
    """Esc while the model wrote a run_python call showed a bare "stopped" (the half call has
    no card), while the export and the reopened chat said "run_python ...: not run" (new-user
    review, 2026-12-07 night). Live and reopened now say the same."""
    from test_app import type_and_send

    code = "print(1)\n" * 400  # long enough to be cut: about 1,200 pieces of 3 characters
    half = '<tool_call>\n{"name": "run_python", "arguments": {"code": ' + json.dumps(code) + "}}\n</tool_call>"
    store_file = tmp_path / "sessions.sqlite3"
    async with _app(tmp_path, ScriptedBackend([half], delay=0.01)).run_test(size=(110, 40)) as pilot:
        app = pilot.app
        await type_and_send(pilot, "count with python")
        await pilot.pause(0.6)  # the call is being written (its text is never shown)
        assert app.turn_running and not app.query(ToolCard)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.turn_running)
        live = [str(n.render()) for n in app.query(NoteMessage)]
        sid = app.session.id
    assert live[-2:] == ["stopped", "run_python: not run; the user stopped the turn before this call ran"], live
    messages = Store(store_file).messages(sid)
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    async with _app(tmp_path, ScriptedBackend([]), resume=True).run_test(size=(110, 40)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(NoteMessage))
        reopened = [str(n.render()) for n in app.query(NoteMessage)]
    assert reopened[-2:] == live[-2:], reopened
