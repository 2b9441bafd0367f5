"""The chats list from the keyboard (issue 13): delete asks first, type-to-search,
and the first match is highlighted so Enter opens it."""

from __future__ import annotations

from scripted import ScriptedBackend
from test_app import make_app, wait_until

from thau_tui.engine.store import Store
from thau_tui.ui.widgets.chat import UserMessage


def _dogs_chat(tmp_path):
    """A store with one saved chat about dogs, and an app over it."""
    store = Store(tmp_path / "sessions.sqlite3")
    dogs = store.create_session("dogs")
    store.add_message(dogs, "user", "tell me about dogs")
    return store, dogs, make_app(tmp_path, ScriptedBackend([]))


def _cats_and_birds(tmp_path):
    """A store with two saved chats, about cats and about birds, and an app over it."""
    store = Store(tmp_path / "sessions.sqlite3")
    cats = store.create_session("cats")
    store.add_message(cats, "user", "tell me about cats")
    birds = store.create_session("birds")
    store.add_message(birds, "user", "tell me about birds")
    return store, cats, birds, make_app(tmp_path, ScriptedBackend([]))


def _highlight(app, sid: str) -> None:
    """Focus the chats list with `sid` highlighted."""
    view = app.query_one("#session-list")
    view.focus()
    view.highlighted = [i.id for i in app.query_one("#sessions").listed].index(sid)


async def test_deleting_a_chat_asks_first(tmp_path):
    store, gone, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        _highlight(app, gone)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmModal" and "dogs" in app.screen.question
        assert "right now" not in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert store.get_session(gone) is not None
        await pilot.press("d", "y")
        await pilot.pause()
        assert store.get_session(gone) is None


async def test_deleting_a_chat_another_window_is_answering_in_says_so(tmp_path):
    """The question did not say the chat was in the middle of a turn in another window,
    which then wrote on into a deleted chat (crash review)."""
    import json
    import os
    import socket

    store, busy, app = _dogs_chat(tmp_path)
    other = {"turn": {"pid": os.getppid(), "host": socket.gethostname()}}  # a live process, not this one
    store._run("UPDATE sessions SET meta=? WHERE id=?", (json.dumps(other), busy))
    async with app.run_test(size=(110, 30)) as pilot:
        _highlight(app, busy)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmModal"
        assert "answering in it right now" in app.screen.question
        await pilot.press("n")


async def test_letters_typed_in_the_list_search_and_the_first_match_is_highlighted(tmp_path):
    store = Store(tmp_path / "sessions.sqlite3")
    cats = store.create_session("cats")
    store.add_message(cats, "user", "tell me about cats")
    store.create_session("birds")
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        app.query_one("#session-list").focus()
        await pilot.press(*"cat")
        await pilot.pause()
        search = app.query_one("#session-search")
        assert search.value == "cat" and search.has_focus
        assert [i.title for i in app.query_one("#sessions").listed] == ["cats"]
        await pilot.press("enter")  # to the list, where the match is highlighted: Enter opens it
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.id == cats)
        assert [u.text for u in app.query(UserMessage)] == ["tell me about cats"]


async def test_opening_a_chat_another_thau_deleted_says_so_and_keeps_the_open_one(tmp_path, notices):
    """Two thau windows: a chat deleted in one was still listed in the other, and Enter on it
    raised KeyError out of a worker, which ended the app."""
    _store, gone, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        _highlight(app, gone)
        open_chat = app.session.id
        Store(tmp_path / "sessions.sqlite3").delete_session(gone)  # the other window
        await pilot.press("enter")
        await wait_until(pilot, lambda: notices.any("the chat you had open stays open"))
        assert app.is_running and app.session.id == open_chat
        assert gone not in [i.id for i in app.query_one("#sessions").listed]


async def test_a_title_with_brackets_is_listed_as_written(tmp_path):
    """escape() left tags that start with a capital: "[WIP] fix the parser" was listed as
    " fix the parser"."""
    store = Store(tmp_path / "sessions.sqlite3")
    sid = store.create_session("[WIP] fix \x1b[31m")
    store.add_message(sid, "user", "hi")
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        view = app.query_one("#session-list")
        shown = [str(view.get_option_at_index(i).prompt) for i in range(view.option_count)]
        assert any(line.startswith("[WIP] fix ␛[31m") for line in shown), shown


async def test_an_export_that_cannot_be_written_says_so(tmp_path, thau_home, notices):
    """Ctrl+E with the data folder on a full or read-only disk raised out of the action."""
    from thau_tui.paths import data_dir

    data_dir().mkdir(parents=True, exist_ok=True)
    (data_dir() / "exports").write_text("a file where the exports folder should be")
    app = make_app(tmp_path, ScriptedBackend(["Hi."]))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: not app.turn_running and len(app.session.messages) >= 2)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.is_running and [n for n in notices if n.title == "export failed"]


async def test_an_empty_chat_is_not_exported(tmp_path, thau_home, notices):
    """Ctrl+E on a new chat said "saved" and wrote a file holding "# New chat" (UX review)."""
    from thau_tui.paths import data_dir

    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert notices.any("Nothing to export yet")
        assert not list((data_dir() / "exports").glob("*")) if (data_dir() / "exports").exists() else True


async def test_modals_fit_an_80_by_24_terminal(tmp_path):
    """At 80x24 help and the model picker (90 wide) ran off the right edge, and the delete
    question was cut: "... It cannot be un"."""
    _store, gone, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#sessions").display = True  # Ctrl+B: the list shows on a narrow screen too
        _highlight(app, gone)
        await pilot.press("d")
        await pilot.pause()
        box = app.screen.query_one("Vertical")
        question = box.children[0]
        assert box.region.right <= 80
        # wrapped inside the box, all of it drawn
        assert question.region.height >= 2 and question.region.right <= box.content_region.right
        await pilot.press("n")
        for key, screen in (("f1", "HelpScreen"), ("ctrl+o", "ModelPicker")):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.__class__.__name__ == screen
            box = app.screen.query_one("VerticalScroll" if screen == "HelpScreen" else "Vertical")
            assert box.region.x >= 0 and box.region.right <= 80, (screen, box.region)
            await pilot.press("escape")
            await pilot.pause()


async def test_opening_a_chat_from_the_list_gives_the_prompt_the_keys(tmp_path):
    """After Enter on a chat the focus stayed in the list, so typing searched the list."""
    _store, dogs, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        _highlight(app, dogs)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.id == dogs and app.query(UserMessage), 10, "the chat to open")
        await wait_until(pilot, lambda: app.focused is app.query_one("#input"), 5, "the prompt to have the focus")


async def test_modals_show_their_own_keys_in_a_footer(tmp_path):
    """Under help the footer said "esc Stop", under the rename box "r Rename d Delete":
    the chat's keys, not the modal's (helper's UX review)."""
    from textual.widgets import Footer

    _store, dogs, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        for keys, screen, wanted in (
            (["f1"], "HelpScreen", "Close"),
            (["d"], "ConfirmModal", "No"),
            (["r"], "PromptModal", "Cancel"),
            (["ctrl+o"], "ModelPicker", "Cancel"),
        ):
            if keys[0] in ("d", "r"):
                _highlight(app, dogs)
            await pilot.press(*keys)
            await pilot.pause()
            assert app.screen.__class__.__name__ == screen
            assert app.screen.query(Footer), screen
            shown = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
            assert wanted in shown and "Stop" not in shown and "Rename" not in shown, (screen, shown)
            await pilot.press("escape")
            await pilot.pause()


async def test_down_from_the_search_box_reaches_the_list(tmp_path):
    _store, dogs, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        search = app.query_one("#session-search")
        search.focus()
        await pilot.press(*"dog", "down")
        assert app.focused is app.query_one("#session-list")
        await pilot.press("d")  # the panel's Delete, no longer typed into the search
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmModal" and search.value == "dog"


async def test_the_list_highlights_the_open_chat(tmp_path):
    """After Ctrl+N the highlight stayed on the chat before, so d offered to delete it."""
    _store, dogs, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        _highlight(app, dogs)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.id == dogs, 10, "the chat to open")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.session.id != dogs, 10, "a new chat")
        view = app.query_one("#session-list")
        await wait_until(pilot, lambda: view.highlighted_option.id == app.session.id, 5, "the new chat highlighted")


async def test_esc_clears_the_search_and_a_filter_that_matches_nothing_says_so(tmp_path):
    """Searched "cats", opened it and deleted it: the box kept "cats" over an empty list, the
    other chats looked gone, and Esc did nothing in the box or the list (helper's UX review)."""
    store, cats, birds, app = _cats_and_birds(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        panel, search = app.query_one("#sessions"), app.query_one("#session-search")
        app.query_one("#session-list").focus()
        await pilot.press(*"zebra")
        await pilot.pause()
        shown = [str(o.prompt) for o in app.query_one("#session-list").options]
        assert panel.listed == [] and shown and "no chat matches" in shown[0]
        await pilot.press("escape")  # in the box
        await pilot.pause()
        assert search.value == "" and {i.title for i in panel.listed} >= {"cats", "birds"}
        app.query_one("#session-list").focus()
        await pilot.press(*"cats", "enter")  # the box, then the list
        await pilot.pause()
        await pilot.press("escape")  # in the list
        await pilot.pause()
        assert search.value == ""
        await pilot.press(*"cats", "enter")
        await pilot.pause()
        await pilot.press("d", "y")  # the only match deleted: the filter goes with it
        await pilot.pause()
        assert store.get_session(cats) is None and search.value == ""
        assert "birds" in [i.title for i in panel.listed]


def test_a_title_is_cut_to_the_panels_columns_not_its_characters():
    """20 CJK characters took 40 columns and wrapped onto a second row (narrow-terminal review)."""
    from rich.cells import cell_len

    from thau_tui.ui.widgets.sessions import _short

    cjk = _short("中文标题很长很长很长很长很长很长很长很长")
    assert cell_len(cjk) <= 20 and cjk.endswith("…") and cjk.startswith("中文标题")
    assert _short("short title") == "short title" and cell_len(_short("a" * 40)) == 20


async def test_a_burst_of_keys_and_a_paste_in_the_list_reach_the_search(tmp_path):
    """Keys sent at once (tmux, a slow ssh) searched "buil" for "build": the d after the focus
    had not yet moved was the panel's Delete key; a paste into the list was dropped (chats review)."""
    from textual import events

    _store, _dogs, app = _dogs_chat(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        view = app.query_one("#session-list")
        view.focus()
        await pilot.pause()
        for char in "build":  # all queued before any is handled, as a terminal's burst arrives
            app.post_message(events.Key(char, char))
        await pilot.pause(0.3)
        search = app.query_one("#session-search")
        assert search.value == "build" and app.screen.__class__.__name__ != "ConfirmModal", search.value
        search.value = ""
        view.focus()
        await pilot.pause(0.4)
        view.post_message(events.Paste("dogs and cats\nsecond line"))
        await pilot.pause(0.3)
        assert search.value == "dogs and cats"


async def test_the_markdown_export_gives_each_result_the_status_the_store_recorded(tmp_path, thau_home):
    """The export read a result's status from its text alone, so a call with invalid arguments
    read as one that failed; Ctrl+E now passes the store's rows."""
    from scripted import hermes_call

    from thau_tui.paths import data_dir

    backend = ScriptedBackend([hermes_call("read_file", path=7), "Sorry."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.press(*"read it", "enter")
        await wait_until(pilot, lambda: not app.turn_running and len(app.session.messages) >= 3)
        await pilot.press("ctrl+e")
        await pilot.pause()
    exported = next((data_dir() / "exports").glob("*.md")).read_text()
    assert "`read_file`: not run: its arguments were invalid" in exported, exported


async def test_the_panel_shown_again_starts_a_new_search_when_a_letter_is_typed(tmp_path):
    """Ctrl+B hid and showed the panel with "cats" still in the box: typing "birds" searched
    "catsbirds", matched nothing, and kept the focus, so the next message went into the box
    (new-user review, 2026-12-07 night)."""
    store, cats, birds, app = _cats_and_birds(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        app.query_one("#session-list").focus()
        await pilot.press(*"cats", "enter", "enter")
        await wait_until(pilot, lambda: app.session.id == cats)
        search = app.query_one("#session-search")
        assert search.value == "cats"
        await pilot.press("ctrl+b", "ctrl+b")  # hidden, shown again: the old matches stay listed
        await pilot.pause()
        assert search.value == "cats" and [i.title for i in app.query_one("#sessions").listed] == ["cats"]
        await pilot.press(*"birds")
        await pilot.pause()
        assert search.value == "birds"  # before: "catsbirds"
        assert [i.title for i in app.query_one("#sessions").listed] == ["birds"]
        await pilot.press("enter", "enter")
        await wait_until(pilot, lambda: app.session.id == birds)
        # typed into the box itself, a search goes on from what is there
        search.focus()
        await pilot.press(*"xyz")
        await pilot.pause()
        assert search.value == "birdsxyz"
