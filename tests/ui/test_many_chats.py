"""Many chats over weeks, and two windows on one home (chats review): what the panel lists,
what a delete leaves highlighted, what a rename moves, what an export writes, what a search
finds, what a send in a chat deleted elsewhere does."""

from __future__ import annotations

import json
import time

from scripted import ScriptedBackend
from test_app import make_app, type_and_send, wait_until

from thau_tui.engine import chat_export
from thau_tui.engine.session import title_from
from thau_tui.engine.store import Store


def _chats(tmp_path, count: int, title: str = "chat {n}", days_old: float = 0.0) -> list[str]:
    """`count` chats of one question each, the last made newest."""
    store = Store(tmp_path / "sessions.sqlite3")
    ids = []
    for n in range(count):
        sid = store.create_session(title.format(n=n))
        store.add_message(sid, "user", f"question {n}")
        ids.append(sid)
    if days_old:
        store._run("UPDATE sessions SET updated = updated - ?", (days_old * 86400,))
    store.close()
    return ids


def _listed(app) -> list[str]:
    return [info.id for info in app.query_one("#sessions").listed]


async def test_past_200_chats_the_list_says_the_older_ones_are_a_search_away_one_row_each(tmp_path):
    _chats(tmp_path, 205, title="Refactor the parser number {n} with care", days_old=300)
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        view = app.query_one("#session-list")
        await wait_until(pilot, lambda: view.option_count > 200)
        assert "older: type to search" in str(view.get_option_at_index(view.option_count - 1).prompt)
        assert view.virtual_size.height == view.option_count  # "10mo" and the date wrapped: two rows a chat
        app.query_one("#session-search").focus()
        await pilot.press(*"number 203")
        await wait_until(pilot, lambda: view.option_count == 1)  # an old one, by search


async def test_a_delete_leaves_the_next_chat_highlighted_not_the_open_one(tmp_path):
    ids = _chats(tmp_path, 5)
    app = make_app(tmp_path, ScriptedBackend([]), resume=True)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None and app.session.id == ids[-1])
        view = app.query_one("#session-list")
        view.focus()
        view.highlighted = 3  # newest first: ids[1]
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: ids[1] not in _listed(app))
        assert _listed(app)[view.highlighted] == ids[0]  # the next one; it was the top: the open chat
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmModal" and "chat 0" in app.screen.question
        assert "now)" in app.screen.question  # its age: titles repeat
        await pilot.press("n")


async def test_a_rename_keeps_the_chats_place_and_resume_opens_the_chat_in_use(tmp_path):
    ids = _chats(tmp_path, 3)
    store = Store(tmp_path / "sessions.sqlite3")
    store.rename_session(ids[0], "Groceries for the week")
    assert [s.id for s in store.list_sessions()] == ids[::-1] and store.last_session().id == ids[-1]
    store.close()


async def test_an_empty_chat_the_user_named_is_kept_when_left(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_until(pilot, lambda: app.session is not None)
        named = app.session.id
        app.store.rename_session(named, "Plans for Q3 (keep)")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.session.id != named)
        assert app.store.get_session(named) is not None
        assert app.store.prune_abandoned() == 0 and app.store.get_session(named) is not None


async def test_a_chat_deleted_in_another_window_exports_what_is_here_and_is_not_sent_to(tmp_path, thau_home):
    app = make_app(tmp_path, ScriptedBackend(["An answer.", "never"]))
    async with app.run_test(size=(110, 30)) as pilot:
        await type_and_send(pilot, "a question")
        await wait_until(pilot, lambda: not app.turn_running and app.chat.answers())
        other = Store(tmp_path / "sessions.sqlite3")  # the other window
        other.delete_session(app.session.id)
        other.close()
        written = app.action_export()
        text = [p.read_text(encoding="utf-8") for p in written]
        assert "a question" in text[0] and "An answer." in text[0], text[0]
        assert [m["role"] for m in json.loads(text[1])["messages"]] == ["user", "assistant"]
        await type_and_send(pilot, "list the files")
        await pilot.pause(0.3)
        assert not app.turn_running and app.query_one("#input").text == "list the files"
        assert len(app.session.messages) == 2  # no turn ran


def test_an_answer_cut_short_is_marked_in_the_export():
    messages = [
        {"role": "user", "content": "a tale", "meta": {}},
        {"role": "assistant", "content": "Once upon a", "meta": {"stopped": True}},
    ]
    assert "*(stopped before it finished)*" in chat_export.markdown("t", messages)
    row = json.loads(chat_export.jsonl("t", messages))["messages"][1]
    assert row["cut_short"] == "stopped before it finished"


async def test_an_export_while_an_answer_streams_says_the_answer_is_not_in_it(tmp_path, thau_home):
    """Ctrl+E mid-answer wrote a file that ended on the question, as if nothing followed
    (concurrency review); the Markdown now says an answer was still being written."""
    app = make_app(tmp_path, ScriptedBackend(["word " * 400], chunk=2, delay=0.02))
    async with app.run_test(size=(110, 30)) as pilot:
        await type_and_send(pilot, "tell me a story")
        await wait_until(pilot, lambda: app.turn_running and app.chat.answers())
        written = app.action_export("md")
        assert "still being written when this was exported" in written[0].read_text(encoding="utf-8")
        app.agent.cancel()
        await wait_until(pilot, lambda: not app.turn_running)
        again = app.action_export("md")
        assert "still being written" not in again[-1].read_text(encoding="utf-8")


def test_search_folds_case_beyond_ascii_and_titles_end_at_a_word(tmp_path):
    store = Store(tmp_path / "sessions.sqlite3")
    for title in ("Überprüfung der Daten", "Mon RÉSUMÉ", "plain"):
        store.add_message(store.create_session(title), "user", "x")
    assert [s.title for s in store.list_sessions("überprüfung")] == ["Überprüfung der Daten"]
    assert [s.title for s in store.list_sessions("résumé")] == ["Mon RÉSUMÉ"]
    assert [s.title for s in store.list_sessions("PLAIN")] == ["plain"]
    long = "Write a very long essay about the history of the Roman Empire with many sections"
    assert title_from(long) == "Write a very long essay about the history of the Roman…"
    assert time.time() > 0


async def test_the_older_chats_note_comes_into_view_from_the_keyboard_and_a_new_chat_is_now(tmp_path):
    """End stopped a row short of "older: type to search" (it cannot be highlighted); a chat
    seconds old was "0m" (skeptic re-review)."""
    from thau_tui.ui.widgets.sessions import _when

    _chats(tmp_path, 205)
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        view = app.query_one("#session-list")
        await wait_until(pilot, lambda: view.option_count > 200)
        view.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: view.scroll_y == view.max_scroll_y, timeout=5)
        assert view.highlighted == view.option_count - 2
    assert _when(time.time() - 5) == "now" and _when(time.time() - 120) == "2m"


async def test_a_remapped_image_pane_key_works_from_the_prompt(tmp_path):
    """ui.keys toggle-images: f6 did nothing: the prompt's own F6 won (skeptic re-review)."""
    from test_image_pane import make_png

    from thau_tui.config import Config

    config = Config()
    config.ui.keys = {"toggle-images": "f6"}
    app = make_app(tmp_path, ScriptedBackend([]), config=config)
    async with app.run_test(size=(120, 30)) as pilot:
        app.show_image(str(make_png(tmp_path, "red", "red", "a red square", 1)))
        await pilot.pause(0.2)
        app.focus_input()
        await pilot.press("f6")
        await pilot.pause(0.2)
        assert not app.query_one("#images").display
