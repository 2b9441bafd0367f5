"""A long chat opens at its latest messages and draws the earlier ones as the user scrolls up
to them: drawing the whole of a 1,000-exchange chat took 19 s before the prompt answered
(long-use review)."""

from __future__ import annotations

import json

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui import history
from thau_tui.ui.app import ThauApp
from thau_tui.ui.history import EarlierMessages, batch_start
from thau_tui.ui.widgets.chat import AssistantMessage, UserMessage
from thau_tui.ui.widgets.tool_card import ToolCard


def _app(tmp_path, replies=()) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(
        ConfigResult(config, None, []), resume=True, store=store, backend=ScriptedBackend(list(replies)), watch=False
    )


def _long_chat(tmp_path, exchanges: int) -> str:
    """Exchanges of a question and an answer; every fifth answer calls run_shell and gets its result."""
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("long")
    for n in range(exchanges):
        store.add_message(sid, "user", f"question {n}")
        if n % 5 == 0:
            call = {"name": "run_shell", "arguments": {"command": f"echo {n}"}}
            store.add_message(sid, "assistant", "<tool_call>" + json.dumps(call) + "</tool_call>")
            store.record_call(sid, f"c{n}", "run_shell", call["arguments"], "done", result=f"{n}\n")
            store.add_message(sid, "tool", f"{n}\n", {"call_id": f"c{n}", "tool": "run_shell"})
        store.add_message(sid, "assistant", f"answer {n}")
    store.close()
    return sid


def _questions(app) -> list[int]:
    return [int(w.text.split()[1]) for w in app.chat.query_children(UserMessage)]


def test_a_batch_starts_at_a_question_and_never_between_a_call_and_its_result():
    roles = ["user", "assistant", "tool", "tool", "assistant"] * 100
    messages = [{"role": role} for role in roles]
    for end, count in ((500, 200), (300, 120), (137, 50)):
        start = batch_start(messages, end, count)
        assert messages[start]["role"] == "user" and end - count - 5 < start <= end - count
    assert batch_start(messages, 40, 200) == 0  # fewer than a batch: all of them
    assert batch_start(messages, 240, 200) == 0  # the rest would be a sliver: all of them
    calls = [{"role": "assistant"}] + [{"role": "tool"}] * 400  # one answer's many results, no question
    assert batch_start(calls, 401, 200) == 0
    mixed = [{"role": "assistant"}, {"role": "tool"}] * 300
    start = batch_start(mixed, 600, 200)
    assert mixed[start]["role"] == "assistant" and start <= 400


async def test_a_long_chat_opens_at_its_end_and_scrolling_up_draws_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 40)
    monkeypatch.setattr(history, "EARLIER_BATCH", 40)
    _long_chat(tmp_path, 60)
    async with _app(tmp_path, ["fine"]).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.query(AssistantMessage))
        shown = _questions(app)
        assert shown[-1] == 59 and shown[0] > 30  # the latest exchanges, not the first
        earlier = app.chat.query_one(EarlierMessages)
        assert app.chat.children[0] is earlier and "earlier messages" in str(earlier.render())
        await wait_until(pilot, lambda: app.chat.scroll_y == app.chat.max_scroll_y > 0)
        top_before = shown[0]
        for _ in range(40):  # scrolled up a page at a time, as a reader does
            if _questions(app)[0] < top_before:
                break
            await pilot.press("pageup")
            await pilot.pause(0.05)
        await wait_until(pilot, lambda: _questions(app)[0] < top_before)
        # the view stays on what was at the top, so scrolling on up draws the next batch
        first = next(w for w in app.chat.query_children(UserMessage) if w.text == f"question {top_before}")
        await wait_until(pilot, lambda: app.chat.scroll_y > 0 and abs(first.virtual_region.y - app.chat.scroll_y) <= 1)
        # Ctrl+Home goes to the top, and each press draws one batch further back
        while app.chat.query(EarlierMessages):
            before = _questions(app)[0]
            await pilot.press("ctrl+home")
            await wait_until(pilot, lambda before=before: _questions(app)[0] < before)
            assert app.chat.scroll_y == 0
        assert _questions(app) == list(range(60))  # each once, in order
        assert len(app.chat.query_children(ToolCard)) == 12
        # every card follows its own question: nothing drawn out of place
        order = [
            w.text if isinstance(w, UserMessage) else w.call.arguments["command"]
            for w in app.chat.children
            if isinstance(w, (UserMessage, ToolCard))
        ]
        for n in range(0, 60, 5):
            assert order[order.index(f"question {n}") + 1] == f"echo {n}"
        await pilot.press(*"and now", "enter")  # the chat goes on at its end
        await wait_until(pilot, lambda: app.chat.answers()[-1:] == ["fine"])


async def test_a_new_chat_while_earlier_messages_are_drawn_stays_new(tmp_path, monkeypatch):
    import asyncio

    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 40)
    monkeypatch.setattr(history, "EARLIER_BATCH", 40)
    _long_chat(tmp_path, 60)
    gate = asyncio.Event()
    real = history.draw_history

    async def slow(*args, **kwargs):  # a batch still being drawn
        await gate.wait()
        await real(*args, **kwargs)

    async with _app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.query(EarlierMessages))
        monkeypatch.setattr(history, "draw_history", slow)
        await wait_until(pilot, lambda: app.chat.scroll_y == app.chat.max_scroll_y > 0)
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: app.chat.query_one(EarlierMessages).drawing)
        await pilot.press("ctrl+n")
        gate.set()
        await pilot.pause(0.3)
        assert not app.chat.query(UserMessage) and not app.chat.query(EarlierMessages)
        assert app.is_running


async def test_pgup_at_the_top_draws_the_next_batch(tmp_path, monkeypatch):
    """After Ctrl+Home the view sits at the top, so PgUp scrolled nothing and drew nothing,
    though the line says "scroll up (PgUp, Ctrl+Home)" (re-review)."""
    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 40)
    monkeypatch.setattr(history, "EARLIER_BATCH", 40)
    _long_chat(tmp_path, 60)
    async with _app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.query(EarlierMessages))
        await wait_until(pilot, lambda: app.chat.scroll_y == app.chat.max_scroll_y > 0)
        top = _questions(app)[0]
        await pilot.press("ctrl+home")  # a batch drawn, the view left at the top
        await wait_until(pilot, lambda: _questions(app)[0] < top and not app.chat.query_one(EarlierMessages).drawing)
        await pilot.pause()
        assert app.chat.scroll_y == 0
        top = _questions(app)[0]
        await pilot.press("pageup")
        await wait_until(pilot, lambda: _questions(app)[0] < top, timeout=10)


async def test_the_mouse_wheel_at_the_top_draws_the_next_earlier_batch(tmp_path, monkeypatch):
    """At the top already, the wheel scrolls nothing, so no scroll change asked for the
    earlier batch: a mouse user saw '... earlier messages' and could not reach them."""
    from textual import events

    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 30)
    monkeypatch.setattr(history, "EARLIER_BATCH", 30)
    _long_chat(tmp_path, 60)
    async with _app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.query(AssistantMessage))
        await wait_until(pilot, lambda: app.chat.scroll_y == app.chat.max_scroll_y > 0)
        before = _questions(app)[0]
        await pilot.press("ctrl+home")  # one batch, and the view at the very top
        await wait_until(pilot, lambda: _questions(app)[0] < before and app.chat.scroll_y == 0)
        assert app.chat.query(EarlierMessages), "the test needs a batch still to draw"
        before = _questions(app)[0]
        under_pointer = app.chat.children[1]  # a message: the wheel event bubbles up to the chat
        for _ in range(3):
            under_pointer.post_message(events.MouseScrollUp(under_pointer, 5, 1, 0, -1, 0, False, False, False))
            await pilot.pause(0.1)
            if _questions(app)[0] < before:
                break
        await wait_until(pilot, lambda: _questions(app)[0] < before, 5, "the wheel to draw the earlier batch")


async def test_a_question_nothing_answered_is_marked_when_the_chat_reopens(tmp_path):
    """Ctrl+Q while the status said 'thinking...': reopened, the question stood there with
    nothing under it and no note, though the README says an interrupted answer is marked
    (first-hour review)."""
    from thau_tui.ui.history import UNANSWERED
    from thau_tui.ui.widgets.chat import NoteMessage

    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("quit while thinking")
    for role, text in [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("user", "q3"), ("assistant", "a3")]:
        store.add_message(sid, role, text)
    store.add_message(sid, "user", "Write a poem about the sea")
    store.close()
    async with _app(tmp_path).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.query(AssistantMessage))
        order = []
        for widget in app.chat.children:
            if isinstance(widget, NoteMessage) and UNANSWERED in str(widget.render()):
                order.append("note")
            elif isinstance(widget, (UserMessage, AssistantMessage)):
                order.append(widget.text)
        assert order == ["q1", "a1", "q2", "note", "q3", "a3", "Write a poem about the sea", "note"], order


async def test_a_long_live_chat_folds_its_oldest_messages_and_draws_them_again_from_the_store(tmp_path, monkeypatch):
    """A live chat kept every exchange's widgets: ~70 MB more per 100 exchanges, and every
    layout slower (soak review). Past FOLD_AT messages drawn, the oldest go back into the
    earlier line after a turn; scrolled up to, they are drawn from the store, a call made in
    this very session as the card it ended as."""
    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 8)
    monkeypatch.setattr(history, "EARLIER_BATCH", 8)
    monkeypatch.setattr(history, "FOLD_AT", 16)
    (tmp_path / "notes.txt").write_text("the notes\n")
    call = "<tool_call>" + json.dumps({"name": "read_file", "arguments": {"path": "notes.txt"}}) + "</tool_call>"
    replies = [call, "read it"] + [f"answer {n}" for n in range(1, 14)]
    app = _app(tmp_path, replies)
    app.resume = False
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.agent.backend is not None and app.session is not None)
        for n in range(14):
            await pilot.press(*f"question {n}", "enter")
            await wait_until(pilot, lambda n=n: len(app.session.messages) >= 2 * n + 2 and not app.turn_running, 20)
            widgets = len(app.chat.children)
        shown = _questions(app)
        assert shown[-1] == 13 and shown[0] > 0, shown  # the oldest were folded
        assert len(app.session.messages) > history.FOLD_AT and widgets < 2 * history.FOLD_AT
        earlier = app.chat.query_one(EarlierMessages)
        assert app.chat.children[0] is earlier
        assert [m["content"] for m in earlier.messages if m["role"] == "user"] == [
            f"question {n}" for n in range(shown[0])
        ]
        for _ in range(20):  # Ctrl+Home: a batch further back at each press
            if not app.chat.query(EarlierMessages):
                break
            await pilot.press("ctrl+home")
            await pilot.pause(0.2)
        assert _questions(app) == list(range(14))
        card = app.chat.query_one(ToolCard)  # question 0's call, drawn again from the store
        assert card.call.name == "read_file" and card.state == "done", card.state
