"""Ctrl+C in the chat, and the chats panel on a narrow screen (UX review)."""

from __future__ import annotations

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import NoteMessage
from thau_tui.ui.widgets.prompt_input import PromptInput
from thau_tui.ui.widgets.sessions import SessionsPanel


def make_app(tmp_path, backend) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(ConfigResult(config, None, []), store=store, backend=backend, watch=False)


async def test_ctrl_c_with_nothing_selected_stops_the_answer(tmp_path):
    """Ctrl+C mid-answer did nothing and said nothing: it reached the prompt's copy."""
    app = make_app(tmp_path, ScriptedBackend(["word " * 400], chunk=2, delay=0.01))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"tell me a story", "enter")
        await wait_until(pilot, lambda: app.turn_running and app.query("AssistantMessage"))
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.turn_running, timeout=10)
        assert [n for n in app.query(NoteMessage) if "stopped" in str(n.render())]
        stored = app.store.messages(app.session.id)
        assert stored[-1]["role"] == "assistant" and len(stored[-1]["content"]) < len("word " * 400)


async def test_ctrl_c_copies_a_selection_in_the_prompt_and_stops_nothing(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # what Textual would send the terminal (OSC 52)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"keep this")
        prompt.select_all()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert copied == ["keep this"] and prompt.text == "keep this"


async def test_ctrl_c_with_nothing_to_stop_says_how_to_quit(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert any("Ctrl+Q quits thau" in text for text in said), said
        assert app.is_running


async def test_opening_a_chat_on_a_narrow_screen_hides_the_chats_panel(tmp_path):
    """At 80 columns the panel kept 31 of them after a chat was opened from it."""
    backend = ScriptedBackend(["First answer."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"first chat", "enter")
        await wait_until(pilot, lambda: not app.turn_running and app.store.messages(app.session.id))
        first = app.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: app.query_one(SessionsPanel).display)
        panel = app.query_one(SessionsPanel)
        listing = panel.query_one("#session-list")
        await wait_until(pilot, lambda: listing.option_count >= 1)
        listing.highlighted = next(i for i in range(listing.option_count) if listing.get_option_at_index(i).id == first)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session is not None and app.session.id == first)
        await pilot.pause()
        assert not panel.display
        assert app.focused is app.query_one(PromptInput)


async def test_a_message_too_long_even_alone_goes_back_to_the_prompt(tmp_path):
    """A 31 KB paste was posted into the chat, pushed the earlier messages out of the model's
    view and was refused anyway (UX review). Now it leaves the chat, is back in the prompt to
    shorten, and the note says why; the earlier exchange is what the model reads next."""
    from thau_tui.ui.widgets.chat import UserMessage

    backend = ScriptedBackend(["Noted.", "Pimento."])
    app = make_app(tmp_path, backend)
    long = "lorem ipsum dolor " * 2500  # 45,000 characters: over 8,192 tokens as the script counts
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"my cat is Pimento", "enter")
        await wait_until(pilot, lambda: not app.turn_running and len(app.session.messages) == 2)
        prompt = app.query_one(PromptInput)
        prompt.load_text(long)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.turn_running and prompt.text == long.strip())
        notes = [str(n.render()) for n in app.query(NoteMessage)]
        assert any("your message is too long" in n and "back in the prompt" in n for n in notes), notes
        assert [u.text for u in app.query(UserMessage)] == ["my cat is Pimento"]
        assert len(app.session.messages) == 2 and len(app.store.messages(app.session.id)) == 2
        assert len(backend.prompts) == 1  # the model was not asked


async def test_ctrl_c_copies_a_selection_in_the_chat_search_and_the_answer_goes_on(tmp_path):
    """The app's Ctrl+C looked only at TextAreas: in the chats panel's search box (an Input)
    it copied nothing and stopped the answer instead (review of the diff)."""
    from textual.widgets import Input

    app = make_app(tmp_path, ScriptedBackend(["word " * 400], chunk=2, delay=0.01))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press(*"tell me a story", "enter")
        await wait_until(pilot, lambda: app.turn_running and app.query("AssistantMessage"))
        if not app.query_one(SessionsPanel).display:  # shown by itself at 120 columns
            await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: app.query_one(SessionsPanel).display)
        search = app.query_one("#session-search", Input)
        search.focus()
        search.value = "needle"
        search.select_all()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert copied == ["needle"] and app.turn_running


async def test_the_palettes_screenshot_is_saved_in_thaus_data_folder(tmp_path, monkeypatch):
    """Textual's Screenshot wrote to ~/Downloads and, where that was missing, said only
    "Failed to save screenshot" (UX review)."""
    from thau_tui.paths import data_dir

    monkeypatch.setenv("HOME", str(tmp_path / "no-downloads-here"))
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Screenshot"].callback()
        await pilot.pause()
        saved = list((data_dir() / "screenshots").glob("*.svg"))
        assert len(saved) == 1 and "<svg" in saved[0].read_text()[:500]
        assert any(str(saved[0]) in str(n.message) for n in app._notifications)
