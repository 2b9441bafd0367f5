"""The chat from the keyboard (issue 13): scrolling, history, copy, keys from every focus,
queued messages, stop feedback, busy states, narrow terminals, help, config, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

from scripted import ScriptedBackend
from test_app import make_app, type_and_send, wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage
from thau_tui.ui.widgets.prompt_input import PromptInput


def _call(name, **args):
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"


class SlowSecondReply(ScriptedBackend):
    """The reply after a tool result waits `wait` s before its first token, as a model
    reading a long result does."""

    def __init__(self, replies, wait: float, **kwargs) -> None:
        super().__init__(replies, **kwargs)
        self.wait = wait

    def stream(self, prompt, settings, stats, grammar=None):
        if "<tool_response>" in prompt and grammar is None:
            time.sleep(self.wait)
        yield from super().stream(prompt, settings, stats, grammar)


async def _fill_chat(app, pilot, lines: int = 80) -> ChatView:
    await app.chat.add(*[NoteMessage(f"line {i}") for i in range(lines)])
    await pilot.pause(0.1)
    return app.chat


# --- 1. scrolling and Tab ------------------------------------------------------------
async def test_page_keys_scroll_the_chat_from_the_prompt(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await _fill_chat(app, pilot)
        assert isinstance(app.focused, PromptInput)
        bottom = chat.max_scroll_y
        assert bottom > 0 and chat.scroll_y == bottom
        await pilot.press("pageup")
        await pilot.pause()
        assert chat.scroll_y < bottom
        await pilot.press("ctrl+home")
        await pilot.pause()
        assert chat.scroll_y == 0
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert chat.scroll_y > 0
        await pilot.press("end")  # an empty prompt: End goes to the end of the chat
        await pilot.pause()
        assert chat.scroll_y == bottom
        await pilot.press("home")
        await pilot.pause()
        assert chat.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert chat.scroll_y > 0
        assert isinstance(app.focused, PromptInput)  # the prompt kept the focus throughout
        await pilot.press(*"ab", "home")  # with text, Home is the line's start again
        await pilot.pause()
        assert app.query_one(PromptInput).cursor_location == (0, 0)


async def test_tab_reaches_the_chat_and_each_card(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    app = make_app(tmp_path, ScriptedBackend([_call("read_file", path="notes.txt"), "It says hello."]))
    async with app.run_test(size=(110, 40)) as pilot:
        app.query_one("#sessions").display = False
        await type_and_send(pilot, "read notes.txt")
        await wait_until(pilot, lambda: not app.turn_running)
        assert isinstance(app.focused, PromptInput)
        await pilot.press("tab")
        assert isinstance(app.focused, ChatView)
        await _fill_chat(app, pilot)
        await pilot.press("home")  # the focused chat scrolls with its own keys
        await pilot.pause()
        assert app.chat.scroll_y == 0
        await pilot.press("tab")
        assert app.focused is app.query_one("ToolCard")
        await pilot.press("shift+tab", *"so")  # letters typed in the chat go to the prompt
        assert isinstance(app.focused, PromptInput) and app.focused.text == "so"
        app.focused.clear()
        await pilot.press("tab", "tab")
        await pilot.press("shift+tab", "shift+tab")
        assert isinstance(app.focused, PromptInput)
        assert app.focused.text == ""


async def test_tab_from_the_prompt_goes_to_the_chat_with_the_panel_and_images_shown(tmp_path):
    """Textual's order is the layout's: with the chats panel shown (the default from 90
    columns), Tab from the prompt went to its search box, and with an image shown, to the
    image pane, not to the chat as README and F1 say (new-user review, 2026-12-07 night).
    Now: prompt, chat, its cards, the chats panel, the image pane, and round again."""
    from PIL import Image

    (tmp_path / "notes.txt").write_text("hello")
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "red.png")
    app = make_app(tmp_path, ScriptedBackend([_call("read_file", path="notes.txt"), "It says hello."]))
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "read notes.txt")
        await wait_until(pilot, lambda: not app.turn_running)
        images = app.query_one("#images")
        images.add(tmp_path / "red.png")
        images.display = True
        await pilot.pause()
        assert isinstance(app.focused, PromptInput) and app.query_one("#sessions").display
        seen = []
        for _ in range(6):
            await pilot.press("tab")
            seen.append(app.focused.id or type(app.focused).__name__)
        assert seen == ["chat", "ToolCard", "session-search", "session-list", "images", "input"], seen
        await pilot.press("shift+tab", "shift+tab")  # and back: the image pane, then the panel's list
        assert app.focused.id == "session-list"


# --- 2. history and copy ---------------------------------------------------------------
async def test_up_and_down_in_an_empty_prompt_walk_this_chats_questions(tmp_path):
    app = make_app(tmp_path, ScriptedBackend(["one", "two", "three"]))
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        for question in ("first question", "second question"):
            await type_and_send(pilot, question)
            await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("up")
        assert prompt.text == "second question"
        await pilot.press("up")
        assert prompt.text == "first question"
        await pilot.press("up")  # the oldest stays
        assert prompt.text == "first question"
        await pilot.press("down")
        assert prompt.text == "second question"
        await pilot.press("down")  # past the newest: empty again
        assert prompt.text == ""
        await pilot.press(*"draft", "up")  # typed text is not replaced
        assert prompt.text == "draft"
        prompt.clear()
        sid = app.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("up")  # a new chat has no questions yet
        assert prompt.text == ""
        await app.open_session(sid)
        await pilot.press("up")  # a chat opened again has its own
        assert prompt.text == "second question"


async def test_keys_copy_the_last_answer_and_its_last_code_block(tmp_path, notices):
    answer = "Run this:\n\n```python\nprint('a')\nprint('b')\n```\n\nThen this.\n\n```sh\nls -l\n```\n\nDone."
    app = make_app(tmp_path, ScriptedBackend([answer, "No code here."]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        assert app.clipboard == "" and notices.any("no answer")
        await type_and_send(pilot, "give me code")
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("f3")
        assert app.clipboard == "ls -l\n"
        await type_and_send(pilot, "and now?")
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("f2")
        assert app.clipboard == "No code here."
        await pilot.press("f3")  # the last code block of the answers: an earlier one's
        assert app.clipboard == "ls -l\n"
        keys = {binding.action for _key, binding in ((k, a.binding) for k, a in app.screen.active_bindings.items())}
        assert {"copy_answer", "copy_code"} <= keys


# --- 3. sending before the model is ready ------------------------------------------------
def _loading_app(tmp_path) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    return ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), load_model=False, watch=False)


async def test_a_message_sent_while_the_model_loads_is_sent_when_it_is_ready(tmp_path):
    app = _loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hello there")
        await pilot.pause()
        assert app.queued == "hello there" and "queued" in app.status.activity
        assert not app.query(UserMessage)
        app.post_message(app.ModelLoaded(ScriptedBackend(["Hi!"]), 0.1))
        await wait_until(pilot, lambda: app.query(AssistantMessage) and not app.turn_running)
        assert [u.text for u in app.query(UserMessage)] == ["hello there"]
        assert app.query(AssistantMessage).last().text == "Hi!"
        assert app.queued is None and app.status.activity == ""


async def test_a_failed_model_keeps_the_message_in_the_prompt_and_leaves_no_empty_chat(tmp_path, notices):
    app = _loading_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "queued one")
        app.post_message(app.ModelFailed("model.gguf: not a GGUF file"))
        await wait_until(pilot, lambda: app.model_error is not None)
        prompt = app.query_one(PromptInput)
        assert prompt.text == "queued one"  # back where it was typed
        prompt.clear()
        await type_and_send(pilot, "are you there?")
        await pilot.pause()
        assert prompt.text == "are you there?"
        shown = [n.message for n in notices]
        assert any("not a GGUF file" in m and "still in the prompt" in m for m in shown)
        assert not any("still loading" in m for m in shown)
        # a server's error text reaches the toast as text, never Textual markup
        assert all(not n.markup for n in notices if "not a GGUF file" in n.message)
        empty = app.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.store.get_session(empty) is None  # no empty "New chat" left behind
        assert [s.id for s in app.store.list_sessions()] == [app.session.id]


# --- 4. and 5. what the status line says during a turn ------------------------------------
async def test_escape_says_stopping_at_once_while_the_engine_winds_down(tmp_path):
    app = make_app(tmp_path, ScriptedBackend(["word " * 400], chunk=5, delay=0.02))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "talk")
        await wait_until(pilot, lambda: app.query(AssistantMessage) and app.query(AssistantMessage).last().text)
        cancel = app.agent.cancel
        app.agent.cancel = lambda: None  # an engine slow to stop
        await pilot.press("escape")
        assert app.status.activity == "stopping…"
        await pilot.pause(0.3)  # more text arrives meanwhile
        assert app.turn_running and app.status.activity == "stopping…"
        cancel()
        await wait_until(pilot, lambda: not app.turn_running, timeout=10)
        assert app.status.activity == ""


async def test_the_status_line_says_what_the_turn_is_doing_after_a_tool_result(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    backend = SlowSecondReply(
        [_call("read_file", path="notes.txt"), "It says hello. " * 20], wait=1.0, chunk=4, delay=0.01
    )
    app = make_app(tmp_path, backend)
    seen: list[tuple[str, str, int]] = []  # (activity, card state, answer length)
    async with app.run_test(size=(110, 40)) as pilot:
        await type_and_send(pilot, "read notes.txt")
        while app.turn_running or not seen:
            cards = app.query("ToolCard")
            answers = app.query(AssistantMessage)
            seen.append(
                (app.status.activity, cards.first().state if cards else "", len(answers.last().text) if answers else 0)
            )
            await pilot.pause(0.02)
    after_card = [(a, n) for a, state, n in seen if state == "done"]
    assert after_card[0] == ("reading the result of read_file…", 0)
    assert all(a for a, _ in after_card[:-1])  # never idle before the turn ends
    streaming = [a for a, n in after_card if n > 0]
    assert streaming and all(a in ("writing…", "") for a in streaming)
    assert "writing…" in streaming


# --- 6. keys from every focus -------------------------------------------------------------
async def test_app_keys_work_from_every_focus_and_the_footer_shows_them(tmp_path, thau_home):
    app = make_app(tmp_path, ScriptedBackend(["An answer."]))
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "question")
        await wait_until(pilot, lambda: not app.turn_running)
        exports = thau_home / "data" / "exports"
        for target in ("#input", "#session-search", "#session-list", "#chat"):
            app.query_one(target).focus()
            await pilot.pause()
            shown = {a.binding.action for a in app.screen.active_bindings.values() if a.binding.show}
            assert {"export", "new_chat", "help", "copy_answer"} <= shown, target
            before = len(list(exports.glob("*.md"))) if exports.exists() else 0
            await pilot.press("ctrl+e")
            await pilot.pause()
            assert len(list(exports.glob("*.md"))) == before + 1, target
            time.sleep(1.0)  # export names have a one-second clock
        await pilot.press("f1")
        await pilot.pause()
        await pilot.press("ctrl+n")  # under a modal the chat keys wait
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen" and app.query(UserMessage)


# --- 9. narrow terminals ----------------------------------------------------------------------
async def test_the_sidebar_hides_on_a_narrow_terminal_and_comes_back(tmp_path):
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one("#sessions")
        assert not panel.display and app.chat.size.width > 50
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert panel.display
        await pilot.press("ctrl+b")  # hidden by the user: stays hidden
        await pilot.resize_terminal(60, 30)
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert not panel.display


async def test_the_sidebar_opened_on_a_narrow_terminal_stays_through_a_resize_and_esc_leaves_it(tmp_path):
    """Opened with Ctrl+B at 80x24, the panel hid again when only the height changed, the
    focus thrown to the prompt; Esc in the list did nothing (keyboard review)."""
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one("#sessions")
        assert not panel.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert panel.display and app.focused is not None and panel in app.focused.ancestors
        await pilot.resize_terminal(80, 26)
        await pilot.pause()
        assert panel.display and panel in app.focused.ancestors
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.query_one("#input") and panel.display
        await pilot.resize_terminal(140, 40)
        await pilot.resize_terminal(80, 24)  # narrowed again: it goes, as at start
        await pilot.pause()
        assert not panel.display


async def test_the_status_line_fits_at_140_columns_with_the_sidebar(tmp_path):
    app = make_app(tmp_path, ScriptedBackend(["Hi."]))
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "hi")
        await wait_until(pilot, lambda: not app.turn_running)
        status = app.status
        assert status.render().plain.count("ctx") == 1  # the model's part no longer says it too
        status.model = "SmolLM2-135M-Instruct.Q4_1"
        status.adapter = "smollm2-tools-20250101-1200"
        status.speed, status.context = "7.2 tok/s", "ctx 1234/8192"
        status.sandbox = "bubblewrap (network off)"
        status.activity = "reading the result of run_shell…"
        await pilot.pause()
        line = status.render().plain
        assert len(line) <= status.content_size.width
        # whole parts, the least useful left out (the long adapter name, marked on the model
        # instead, so the bare model reads differently: keyboard review; the sandbox), "ctx" once
        assert line == (
            "SmolLM2-135M-Instruct.Q4_1 +LoRA  ·  reading the result of run_shell…  ·  7.2 tok/s  ·  ctx 1234/8192"
        )
        status.adapter = ""
        await pilot.pause()
        assert "+LoRA" not in status.render().plain
        await pilot.resize_terminal(70, 40)  # narrower (the sidebar goes too): what the turn does stays
        await pilot.pause()
        line = status.render().plain
        assert len(line) <= status.content_size.width and "reading the result of run_shell…" in line


# --- 10. help from the live bindings ------------------------------------------------------------
async def test_help_shows_keys_as_remapped(tmp_path):
    config = Config()
    config.ui.keys = {"export": "f7", "approve-once": "o"}  # f5 is the image pane's: a clash is refused
    app = make_app(tmp_path, ScriptedBackend([]), config=config)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        sections = {title: dict((what.split(":")[0], key) for key, what in rows) for title, rows in app.screen.sections}
        assert sections["Everywhere"]["Export"] == "F7"
        assert sections["Everywhere"]["New chat"] == "Ctrl+N"
        assert sections["On a tool card"]["Allow once"] == "o"
        assert sections["In the prompt"]["Scroll the chat up a page"] == "PgUp"
        # the image pane's, the question card's and the chats list's Enter were in the README only
        pane = sections["On the image pane (click it, or Tab to it)"]
        assert {pane["Open"], pane["Copy path"], pane["Prev"], pane["Next"]} == {"o", "c", "[", "]"}, pane
        assert sections["On a question from the model"]["send the answer"] == "Enter"
        assert sections["In the chats list"]["open the chat"] == "Enter"


async def test_help_lists_the_prompt_keys_that_work_there(tmp_path):
    """Help listed TextArea's thirty editing keys for the prompt, among them "Ctrl+E Cursor
    line end", which exports the chat there, and names such as LEFT and BACKSPACE."""
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        sections = dict(app.screen.sections)
        prompt = sections["In the prompt"]
        keys = [key for key, _ in prompt]
        assert "Ctrl+E" not in keys and not any("Cursor line end" in what for _, what in prompt)
        assert len(prompt) <= 14
        everything = " ".join(key for rows in sections.values() for key, _ in rows)
        assert not [word for word in everything.replace("/", " ").split() if word.isupper() and len(word) > 3]
        assert dict((what.split(":")[0], key) for key, what in sections["Everywhere"])["Export"] == "Ctrl+E"


# --- 11. config.yaml created after start -----------------------------------------------------------
async def test_a_config_file_created_after_start_is_picked_up(tmp_path):
    path = tmp_path / "config.yaml"
    app = ThauApp(ConfigResult(Config(), path), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=True)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        path.write_text("generation:\n  temperature: 0.55\n")
        await wait_until(pilot, lambda: app.config.generation.temperature == 0.55, timeout=10)


async def test_keys_rebound_in_config_yaml_apply_while_thau_runs(tmp_path):
    """'config.yaml reloaded' was said, but ui.keys waited for a restart: the footer and F1
    still showed Ctrl+N, and Ctrl+K did nothing (docs review)."""
    path = tmp_path / "config.yaml"
    app = ThauApp(ConfigResult(Config(), path), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=True)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        path.write_text("ui:\n  keys:\n    new-chat: ctrl+k\n")
        await wait_until(pilot, lambda: app.config.ui.keys == {"new-chat": "ctrl+k"}, timeout=10)
        keys = {binding.key for _, binding, _, _ in app.screen.active_bindings.values() if binding.id == "new-chat"}
        assert keys == {"ctrl+k"}, keys


# --- 12. images without an image model ---------------------------------------------------------------
async def test_an_image_call_without_an_image_model_says_so_instead_of_asking(tmp_path):
    backend = ScriptedBackend([_call("generate_image", prompt="a cat"), "No image model, sorry."])
    app = make_app(tmp_path, backend)
    states = []
    async with app.run_test(size=(110, 40)) as pilot:
        await type_and_send(pilot, "draw a cat")
        while app.turn_running or not states:
            cards = app.query("ToolCard")
            states.append(cards.first().state if cards else "")
            await pilot.pause(0.02)
        card = app.query_one("ToolCard")
        assert card.state == "unavailable" and "awaiting" not in states and "denied" not in states
        assert "no image model is configured" in str(card.query_one(".notes").render())
        assert "no image model is configured" in backend.prompts[-1]  # the model is told why


# --- 13. an error in the UI during a turn --------------------------------------------------------------
async def test_an_error_while_showing_a_turn_is_reported_and_the_turn_ends(tmp_path, monkeypatch, notices, caplog):
    from thau_tui.engine.events import TextDelta
    from thau_tui.ui.turn import TurnRenderer

    handle = TurnRenderer.handle

    async def broken(self, event):
        if isinstance(event, TextDelta):
            raise ValueError("cannot draw this")
        await handle(self, event)

    monkeypatch.setattr(TurnRenderer, "handle", broken)
    app = make_app(tmp_path, ScriptedBackend(["word " * 200, "Fine now."], delay=0.01))
    cancels: list[bool] = []
    cancel = app.agent.cancel
    app.agent.cancel = lambda: (cancels.append(True), cancel())
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await wait_until(pilot, lambda: not app.turn_running, timeout=10)
        assert cancels  # the engine was stopped, not left generating
        assert any("ValueError: cannot draw this" in n.message and n.severity == "error" for n in notices)
        # in the chat, under the question, where the answer would have been
        note = app.query(NoteMessage).last()
        assert "could not show it (ValueError: cannot draw this)" in str(note.render())
        assert note.has_class("note-error") and app.chat.children[-1] is note
        # and in the log, with the traceback
        logged = [r for r in caplog.records if r.name == "thau_tui.ui.app" and r.levelname == "ERROR"]
        assert logged and logged[0].exc_info and "cannot draw this" in str(logged[0].exc_info[1])
        assert app.status.activity == ""
        monkeypatch.setattr(TurnRenderer, "handle", handle)
        await type_and_send(pilot, "again")
        await wait_until(
            pilot,
            lambda: (
                not app.turn_running
                and app.query(AssistantMessage)
                and app.query(AssistantMessage).last().text == "Fine now."
            ),
            timeout=10,
        )


async def test_a_config_in_the_folder_thau_starts_in_is_not_read(tmp_path, monkeypatch):
    """The folder thau starts in is the workspace, where tools write: a ./config.yaml there
    (one a tool wrote, or one a cloned repository brought) could start programs through
    mcp.servers or set run_shell to auto. It is read only when named (--config); at start
    thau says so, and one written while it runs changes nothing."""
    from thau_tui.paths import config_dir, default_config_file

    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    (folder / "config.yaml").write_text("tools:\n  policy:\n    run_shell: auto\n")
    path = default_config_file()
    assert path == config_dir() / "config.yaml"
    app = ThauApp(ConfigResult(Config(), path), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=True)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        notes = [n.message for n in app._notifications]
        assert any(f"{folder / 'config.yaml'} is not read" in note for note in notes), notes
        (folder / "config.yaml").write_text("generation:\n  temperature: 0.65\n")
        await pilot.pause(2.0)
        assert app.config.generation.temperature != 0.65 and app.config.tools.policy == {}
        assert app.config_result.path == path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("generation:\n  temperature: 0.35\n")  # the user's own config still applies live
        await wait_until(pilot, lambda: app.config.generation.temperature == 0.35, timeout=10)


async def test_plugins_in_the_workspace_are_not_loaded(tmp_path, monkeypatch):
    """A plugin runs inside thau, outside the sandbox: one in the workspace (where a tool
    could have written it) is not imported, and thau says where plugins go instead."""
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    plugins = tmp_path / "tools"
    plugins.mkdir()
    (plugins / "planted.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('x')\n"
        "NAME = 'planted'\nDESCRIPTION = 'd'\nPARAMETERS = {'type': 'object', 'properties': {}}\n"
        "def run(args, ctx):\n    return 'ok'\n"
    )
    config = Config()
    config.tools.plugins_dir = str(plugins)
    app = make_app(tmp_path, ScriptedBackend([]), config=config)  # the workspace is tmp_path
    async with app.run_test() as pilot:
        await pilot.pause(0.3)
        assert app.registry.get("planted") is None
        assert not (plugins / "RAN").exists()
        notes = [n.message for n in app._notifications]
        assert any("plugins in" in note and "inside the workspace" in note for note in notes), notes


async def test_a_named_config_in_a_missing_folder_does_not_end_the_app(tmp_path):
    path = tmp_path / "not-yet" / "config.yaml"
    app = ThauApp(ConfigResult(Config(), path), store=Store(tmp_path / "db"), backend=ScriptedBackend([]), watch=True)
    async with app.run_test() as pilot:
        await pilot.pause(0.5)
        path.write_text("generation:\n  temperature: 0.45\n")
        await wait_until(pilot, lambda: app.config.generation.temperature == 0.45, timeout=10)
        assert app.is_running


async def test_the_footers_palette_key_ends_the_row_on_a_narrow_terminal(tmp_path):
    """At 80 columns the keys overflow under the palette key docked at the right; the
    compact footer's one-column margin let the key beneath show through ("paletteC")."""
    app = _loading_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:

        def last_row() -> str:
            return list(app.screen._compositor.render_strips())[-1].text

        # under load (CI, two workers) the footer can still be blank after one pause
        await wait_until(pilot, lambda: last_row().strip() != "", timeout=10)
        last = last_row()
        assert len(last) == 80
        assert last.endswith("▏^p palette"), repr(last[-20:])
        assert "f1 Help" in last, last  # the key that lists the others is never the one cut off


async def test_a_narrow_footer_leaves_out_whole_keys_least_useful_first(tmp_path):
    """At 80 columns the footer ended in "^g I": Images cut in half, Train, Copy and Copy
    code gone without a sign. Now whole keys are left out, Copy code first, and come back
    when the terminal widens; the keys left out still work (F1 lists them)."""
    from thau_tui.ui.widgets.fitting_footer import FittingFooter

    app = _loading_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.query_one(FittingFooter)

        def last_row() -> str:
            return list(app.screen._compositor.render_strips())[-1].text

        await wait_until(pilot, lambda: "Export" in last_row(), timeout=10)
        row = last_row()
        assert row.startswith("^q Quit esc Stop f1 Help ^n New chat ^b Chats ^o Model ^e Export"), row
        assert footer.hidden_actions() == ["gallery", "training", "copy_answer", "copy_code"], row
        shown = {a.binding.action for a in app.screen.active_bindings.values()}
        assert {"export", "gallery", "copy_answer", "copy_code"} <= shown  # hidden, not unbound
        await pilot.resize_terminal(160, 24)
        await wait_until(pilot, lambda: not footer.hidden_actions(), timeout=10)
        assert "f3 Copy code" in last_row()
        await pilot.resize_terminal(60, 24)
        await wait_until(pilot, lambda: "Model" not in last_row(), timeout=10)
        row = last_row()
        assert "f1 Help" in row and "esc Stop" in row and row.endswith("▏^p palette"), row
        await pilot.resize_terminal(42, 24)
        await pilot.press("ctrl+b")  # the chats panel's r and d come first: at 35 columns "^q Qui▏"
        await wait_until(pilot, lambda: "rename" in footer.hidden_actions() or "Rename" in last_row())
        await pilot.pause(0.3)
        row = last_row()
        assert row.startswith("^q Quit esc Stop f1 Help") and row.endswith("▏^p palette"), row


async def test_a_narrow_footer_keeps_a_cards_allow_once_and_deny_and_other_screens_fit_too(tmp_path):
    """At 80 columns a waiting card's footer ended "esc Can" with Quit and Help gone; dropping
    the longest first then kept "A Always allow" over "a Allow for session"; the training
    screen's footer cut "f Run folder", Quit and Help (narrow-terminal review)."""
    from thau_tui.ui.widgets.fitting_footer import FittingFooter

    call = "<tool_call>" + json.dumps({"name": "write_file", "arguments": {"path": "n.md", "content": "x"}})
    app = make_app(tmp_path, ScriptedBackend([call + "</tool_call>", "done"]))
    async with app.run_test(size=(60, 20)) as pilot:

        def last_row() -> str:
            return list(app.screen._compositor.render_strips())[-1].text

        app.send("save it")
        await wait_until(pilot, lambda: app.query("ToolCard") and app.query_one("ToolCard").state == "awaiting")
        await wait_until(pilot, lambda: "Allow once" in last_row(), timeout=10)
        await pilot.pause(0.3)
        row = last_row()
        assert row.startswith("y Allow once n Deny") and "f1 Help" in row and "^q Quit" in row, row
        assert "Always" not in row and row.endswith("▏^p palette"), row
        await pilot.press("n", "enter")  # denied, no reason
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.resize_terminal(80, 24)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: app.screen.query(FittingFooter) and "Back" in last_row(), timeout=10)
        await pilot.pause(0.3)
        row = last_row()
        assert "esc Back" in row and "f1 Help" in row and "^q Quit" in row and row.endswith("▏^p palette"), row


async def test_a_silent_model_is_counted_on_the_status_line(tmp_path, monkeypatch):
    """A server that stalls mid-answer left "writing…" standing for minutes, with nothing to
    tell it from a slow model (servers review): after QUIET_S the seconds are counted, with
    Esc named; the next words put "writing…" back."""
    from thau_tui.ui import model_loading

    monkeypatch.setattr(model_loading, "QUIET_S", 0.5)

    class Stalls(ScriptedBackend):
        def stream(self, prompt, settings, stats, grammar=None):
            pieces = super().stream(prompt, settings, stats, grammar)
            yield next(pieces)
            time.sleep(2.5)  # the server goes quiet mid-answer
            yield from pieces

    app = make_app(tmp_path, Stalls(["Once upon a time there was a lighthouse."]))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "a tale")
        await wait_until(pilot, lambda: "with no word from the model" in app.status.activity, timeout=10)
        assert app.status.activity.startswith("writing… (") and "Esc stops" in app.status.activity
        await wait_until(pilot, lambda: not app.turn_running, timeout=10)
        assert "lighthouse" in app.chat.answers()[-1]


async def test_a_turn_that_failed_before_the_model_read_leaves_the_context_count_alone(tmp_path):
    """After any failed turn the status line said "ctx 0/8192" (servers review)."""
    from thau_tui.engine.backend import ModelLoadError

    class Fails(ScriptedBackend):
        def stream(self, prompt, settings, stats, grammar=None):
            raise ModelLoadError("no server at http://127.0.0.1:9 (ConnectError)")
            yield ""  # a generator, as a backend's stream is

    app = make_app(tmp_path, Fails([]))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.status.context == "ctx 8192")
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: not app.turn_running and app.query(NoteMessage))
        await pilot.pause(0.2)
        assert app.status.context == "ctx 8192", app.status.context


async def test_copying_also_uses_the_systems_clipboard_tool_and_says_which_way(
    tmp_path, tmp_path_factory, notices, monkeypatch
):
    """OSC 52 (Textual's copy) does nothing in many terminals and thau cannot tell: F2 said
    "copied" either way. A clipboard tool on PATH (here a stand-in xclip that keeps what it
    reads) gets the text too, and the notice says which way it went. (The stand-in lies
    outside the workspace, tmp_path: one in the workspace is never run.)"""
    kept = tmp_path / "clipboard.txt"
    bin_dir = tmp_path_factory.mktemp("bin")
    xclip = bin_dir / "xclip"
    xclip.write_text(f"#!/bin/sh\nexec {shutil.which('cat')} > {kept}\n")
    xclip.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("TMUX", raising=False)  # run inside tmux, its paste buffer would take it
    app = make_app(tmp_path, ScriptedBackend(["Use this:\n\n```sh\nls -l\n```\n", "plain"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("f3")
        await pilot.pause()
        assert kept.read_text() == "ls -l\n" and notices.any("with xclip")
        monkeypatch.delenv("DISPLAY")  # no display: the terminal's copy is all there is
        await pilot.press("f2")
        await pilot.pause()
        assert app.clipboard.startswith("Use") and notices.any("through the terminal (OSC 52)")


def test_inside_tmux_a_copy_goes_to_its_paste_buffer(tmp_path, monkeypatch):
    """In tmux without set-clipboard F3 copied nothing (helper's tmux review): the text now
    goes to tmux's paste buffer too (a real tmux server on its own socket)."""
    from thau_tui.ui.clipboard import copied_note, system_copy

    socket = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-s", "t"], check=True, timeout=20)
    try:
        pid = subprocess.run(
            ["tmux", "-S", str(socket), "display-message", "-p", "#{pid}"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
        monkeypatch.setenv("TMUX", f"{socket},{pid},0")
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        assert system_copy("ls -l\n") == "tmux"
        shown = subprocess.run(["tmux", "-S", str(socket), "show-buffer"], capture_output=True, text=True, timeout=20)
        assert shown.stdout == "ls -l\n"
        assert "tmux's paste buffer" in copied_note("the code", "tmux")
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], timeout=20, check=False)


async def test_a_paste_larger_than_the_prompt_takes_is_refused_with_what_to_do(tmp_path, notices):
    """A 1 MB paste on one line made every later key take a second (reliability review)."""
    from textual import events

    from thau_tui.ui.widgets.prompt_input import MAX_PASTE_CHARS

    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one("#input")
        prompt.focus()
        app.post_message(events.Paste("x" * (MAX_PASTE_CHARS + 1)))  # as the terminal sends it
        await pilot.pause()
        assert prompt.text == "" and notices.any("Not pasted")
        app.post_message(events.Paste("a short paste"))
        await pilot.pause()
        assert prompt.text == "a short paste"


async def test_ctrl_n_while_a_card_waits_leaves_the_old_turns_notes_out_of_the_new_chat(tmp_path):
    """The new chat showed the cancelled turn's "stopped" (tools review, chats review)."""
    call = "<tool_call>" + json.dumps({"name": "write_file", "arguments": {"path": "n.md", "content": "x"}})
    app = make_app(tmp_path, ScriptedBackend([call + "</tool_call>", "done"]))
    async with app.run_test(size=(110, 30)) as pilot:
        app.send("save it")
        await wait_until(pilot, lambda: app.query("ToolCard") and app.query_one("ToolCard").state == "awaiting")
        old = app.session.id
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.session.id != old and not app.turn_running)
        await pilot.pause(0.3)
        notes = [str(n.render()) for n in app.chat.query(NoteMessage)]
        assert not any("stopped" in n for n in notes) and not app.chat.query("ToolCard"), notes


async def test_f3_copies_the_block_the_chat_draws_last(tmp_path, notices):
    """F3 took an earlier block when the last was never closed, kept a list's indentation on
    every line, and called a block from an earlier answer "the last" (reading review)."""
    replies = [
        "First:\n\n```python\nprint('first')\n```\n",
        "Now an open one:\n\n```rust\nfn main() {}\n",
        "1. Install:\n\n   ```bash\n   pip install foo\n   pip install bar\n   ```\n",
        "No code here.",
    ]
    app = make_app(tmp_path, ScriptedBackend(replies))
    async with app.run_test(size=(100, 30)) as pilot:
        for question, copied in (
            ("a", "print('first')\n"),
            ("b", "fn main() {}\n"),
            ("c", "pip install foo\npip install bar\n"),
        ):
            await type_and_send(pilot, question)
            await wait_until(pilot, lambda: not app.turn_running)
            await pilot.press("f3")
            assert app.clipboard == copied
        assert notices.any("copied the last code block (2 lines)")
        await type_and_send(pilot, "d")
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("f3")
        assert app.clipboard == "pip install foo\npip install bar\n"
        assert notices.any("the last code block of the answer 2 back (the last has none)")


async def test_a_wrong_id_or_key_in_ui_keys_is_said_and_changes_nothing(tmp_path, notices):
    """`new-chat: banana` took Ctrl+N away (the footer showed a banana) and `gallry: ctrl+k`
    did nothing, both without a word (docs review)."""
    config = Config()
    config.ui.keys = {"export": "ctrl+y", "gallry": "ctrl+k", "new-chat": "banana"}
    app = make_app(tmp_path, ScriptedBackend(["Hi."]), config=config)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: notices.any("ui.keys.gallry"), 10, "the notice")
        assert notices.any("ui.keys.gallry: no key has this id, so it changes nothing (did you mean gallery?)")
        assert notices.any("ui.keys.new-chat: banana is not a key")
        assert not notices.any("tools.policy")  # no tools.policy in this file (skeptic review)
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: not app.turn_running)
        await pilot.press("ctrl+y")  # the valid entry applied
        await wait_until(pilot, lambda: notices.any("saved"), 10, "the export")
        first = app.session.id
        await pilot.press("ctrl+n")  # still its default key
        await pilot.pause()
        assert app.session.id != first


async def test_ui_keys_that_take_another_keys_binding_are_said_and_not_applied(tmp_path, notices):
    """`toggle-sessions: ctrl+n` left New chat with no key, and nothing said so (skeptic review)."""
    config = Config()
    config.ui.keys = {"toggle-sessions": "ctrl+n"}
    app = make_app(tmp_path, ScriptedBackend(["Hi."]), config=config)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: notices.any("ui.keys.toggle-sessions"), 10, "the notice")
        assert notices.any("ctrl+n is already new-chat's key; move new-chat too, or pick another")
        await type_and_send(pilot, "hello")
        await wait_until(pilot, lambda: not app.turn_running)
        first = app.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.session.id != first
