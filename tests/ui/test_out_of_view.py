"""Where the model's view of a long chat starts is marked in the chat, live and reopened, and
in the Markdown export; an empty answer says so (long-chat review, 2026-12-07). Before, a
reopened chat showed nothing of the cut, the live note came after the newest message, and
an answer stored with 0 characters showed nothing at all."""

from __future__ import annotations

from scripted import ScriptedBackend
from test_app import make_app
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.engine.store import Store
from thau_tui.ui import history
from thau_tui.ui.history import EarlierMessages
from thau_tui.ui.out_of_view import OutOfViewLine
from thau_tui.ui.widgets.chat import AssistantMessage, NoteMessage, UserMessage

LINE = "the model no longer sees the messages above this line"
NO_ANSWER = "(the model gave no answer)"


def _saved_chat(tmp_path, exchanges: int, view_start: int) -> str:
    """A chat of `exchanges` questions and answers whose model's view starts at `view_start`,
    as a turn's end saves it (Store.end_turn)."""
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("long")
    for n in range(exchanges):
        store.add_message(sid, "user", f"question {n}")
        store.add_message(sid, "assistant", f"answer {n}")
    store.end_turn(sid, view_start, 4000)
    store.close()
    return sid


def _lines(app) -> list[OutOfViewLine]:
    return list(app.chat.query_children(OutOfViewLine))


def _after_line(app):
    """The widget just below the chat's one line."""
    (line,) = _lines(app)
    children = list(app.chat.children)
    return children[children.index(line) + 1]


def _notes(app) -> list[str]:
    return [str(n.render()) for n in app.chat.query_children(NoteMessage)]


def _turn_over(app) -> bool:
    """The turn's worker has finished, folding included (it runs after turn_running is cleared)."""
    return not app.turn_running and not any(w.group == "turn" and not w.is_finished for w in app.workers)


async def test_a_reopened_chat_and_its_export_mark_where_the_models_view_starts(tmp_path, thau_home):
    _saved_chat(tmp_path, 10, view_start=8)  # messages 8.. are "question 4" on
    app = make_app(tmp_path, ScriptedBackend([]), resume=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.chat.answers(), what="the chat opened")
        assert len(_lines(app)) == 1, "one line where the model's view starts"
        assert LINE in str(_lines(app)[0].render())
        below = _after_line(app)
        assert isinstance(below, UserMessage) and below.text == "question 4"
        children = list(app.chat.children)
        above = children[children.index(below) - 2]
        assert isinstance(above, AssistantMessage) and above.text == "answer 3"
        (md,) = app.action_export("md")
        text = md.read_text(encoding="utf-8")
        # the rule and its line once, just above the first question the model sees
        assert text.count(LINE) == 1
        assert text.index("> answer 3") < text.index(LINE) < text.index("> question 4")
        assert "---\n\n*(" + LINE in text


async def test_a_long_reopened_chat_marks_the_cut_where_its_messages_get_drawn(tmp_path, monkeypatch):
    # 120 messages, 40 drawn at open: the cut at message 20 is among the ones not drawn yet
    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 40)
    monkeypatch.setattr(history, "EARLIER_BATCH", 40)
    _saved_chat(tmp_path, 60, view_start=20)
    app = make_app(tmp_path, ScriptedBackend([]), resume=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.chat.answers(), what="the chat opened")
        assert not _lines(app)  # the model sees all that is drawn
        earlier = app.chat.query_one(EarlierMessages)
        assert "the model no longer sees the first 20" in str(earlier.render())
        for _ in range(20):  # Ctrl+Home: a batch further back each time
            if not app.chat.query_children(EarlierMessages):
                break
            app.chat.scroll_by_key("home")
            await pilot.pause(0.2)
        assert not app.chat.query_children(EarlierMessages), "the whole chat is drawn"
        assert len(_lines(app)) == 1
        below = _after_line(app)
        assert isinstance(below, UserMessage) and below.text == "question 10"


async def test_live_the_line_follows_the_view_and_the_chat_is_not_drawn_again(tmp_path, monkeypatch):
    # a small context, so that the view moves every few turns; a small fold, so that the chat's
    # oldest messages go back into the earlier line as the turns go on
    monkeypatch.setattr(history, "SHOWN_AT_OPEN", 14)
    monkeypatch.setattr(history, "FOLD_AT", 20)
    config = Config()
    config.generation.max_tokens = 100
    backend = ScriptedBackend([f"answer {n} " + "a " * 120 for n in range(40)], chunk=400)
    backend.n_ctx = 1600
    app = make_app(tmp_path, backend, config=config)
    moves, kept = [], 0
    async with app.run_test(size=(100, 30)) as pilot:
        for n in range(26):
            before = app.session.view_start
            shown = list(app.chat.query_children(UserMessage))[-4:]
            line = _lines(app)[0] if _lines(app) else None
            app.send(f"question {n} " + "q " * 120)
            await wait_until(pilot, lambda: _turn_over(app), timeout=30, what="the turn's end")
            session = app.session
            earlier = next(iter(app.chat.query_children(EarlierMessages)), None)
            first = len(earlier.messages) if earlier is not None else 0
            if session.view_start == 0:
                assert not _lines(app)
                continue
            if session.view_start < first:  # the cut is among the folded messages
                assert not _lines(app) and f"first {session.view_start}" in str(earlier.render())
                continue
            assert len(_lines(app)) == 1, "one line at a time"
            below = _after_line(app)
            assert isinstance(below, UserMessage) and below.text == session.messages[session.view_start]["content"]
            # the messages drawn before stay as they were (a redraw would have made new ones)
            assert all(w.is_attached for w in shown)
            if session.view_start != before:
                moves.append(n)
                assert any("a line in the chat marks where its view starts" in note for note in _notes(app))
            elif line is not None:
                assert _lines(app)[0] is line  # in place already: not made again
                kept += 1
    assert len(moves) >= 2 and kept, (moves, kept)


async def test_an_empty_answer_says_the_model_gave_none(tmp_path, thau_home):
    app = make_app(tmp_path, ScriptedBackend(["", "Hello."]))
    async with app.run_test(size=(100, 30)) as pilot:
        app.send("hi")
        await wait_until(pilot, lambda: _turn_over(app), what="the turn's end")
        assert NO_ANSWER in _notes(app)
        assert isinstance(app.chat.children[-1], NoteMessage) and NO_ANSWER in str(app.chat.children[-1].render())
        app.send("hi again")
        await wait_until(pilot, lambda: _turn_over(app), what="the turn's end")
        assert _notes(app).count(NO_ANSWER) == 1  # an answer with words gets none
        # stored and sent as the model gave it: empty
        stored = app.store.messages(app.session.id)
        assert [m["content"] for m in stored if m["role"] == "assistant"] == ["", "Hello."]
        (md,) = app.action_export("md")
        text = md.read_text(encoding="utf-8")
        first_answer = text.split("## thau", 2)[1]
        assert "*" + NO_ANSWER + "*" in first_answer
        assert not [line for line in first_answer.splitlines() if line.strip() == ">"]
    reopened = make_app(tmp_path, ScriptedBackend([]), resume=True)
    async with reopened.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: reopened.chat.answers(), what="the chat opened")
        assert _notes(reopened).count(NO_ANSWER) == 1
