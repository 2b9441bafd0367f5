"""Textual's and Rich's internals behind ui/compat.py: each is there as thau expects, and
the screen still works on each fallback."""

from __future__ import annotations

import pytest
from test_markdown_stream import LONG_LIST, TRICKY, OneMessage, plain, stream_in_pieces
from textual.app import App
from textual.widget import Widget

from thau_tui.ui import compat
from thau_tui.ui.app import ThauApp
from thau_tui.ui.rows import RowCompositor, RowScreen
from thau_tui.ui.widgets.chat import AssistantMessage, ChatView, UserMessage
from thau_tui.ui.widgets.markdown_stream import StreamMarkdown
from thau_tui.ui.widgets.prompt_input import PromptInput
from thau_tui.ui.widgets.sessions import SessionsPanel
from thau_tui.ui.widgets.tool_card import ToolCard


@pytest.mark.parametrize("internal", compat.INTERNALS, ids=lambda internal: internal.name.split("(")[0])
def test_each_internal_thau_relies_on_is_as_expected(internal):
    assert internal.check(), (
        f"{internal.package} {internal.version} changed or removed {internal.name}. thau now runs on the "
        f"fallback ({internal.fallback}); adapt thau_tui/ui/compat.py to this version or pin {internal.package}."
    )


def test_the_flags_read_at_run_time_agree_with_the_checks():
    # The flags are computed once at import; a check that passes must have turned its flag on.
    assert compat.ONE_LAYOUT == compat._size_updated_as_known()
    assert compat.ROW_COMPOSITOR == compat._compositor_as_known()
    assert compat.MARKDOWN_INIT == compat._markdown_init_as_known()
    assert compat.LIST_ELEMENTS == compat._list_elements_as_known()
    assert compat.BINDINGS == compat._bindings_as_known()
    assert (compat.EVENT_CLOCK is not None) == compat._event_clock_as_known()


# --- each fallback still draws the screen ---------------------------------------------------


class Chat(App):
    def compose(self):
        yield ChatView()


@pytest.mark.parametrize("one_layout", [True, False])
async def test_messages_are_laid_out_with_or_without_the_one_layout_override(one_layout, monkeypatch):
    monkeypatch.setattr(compat, "ONE_LAYOUT", one_layout)
    asked: list[bool] = []
    real = Widget._size_updated

    def spy(self, size, virtual_size, container_size, layout=True):
        if isinstance(self, (UserMessage, AssistantMessage)):
            asked.append(layout)
        return real(self, size, virtual_size, container_size, layout)

    monkeypatch.setattr(Widget, "_size_updated", spy)
    app = Chat()
    async with app.run_test(size=(60, 20)) as pilot:
        chat = app.query_one(ChatView)
        await chat.add(UserMessage("a question"), AssistantMessage("A stored answer."))
        await pilot.pause(0.1)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "a question" in shown and "A stored answer." in shown
    # the override asks Textual for no second layout; the fallback passes Textual's default through
    assert asked and all(layout is not one_layout for layout in asked)


async def test_without_the_row_compositor_the_screen_keeps_textuals(monkeypatch, tmp_path):
    from scripted import ScriptedBackend
    from test_app import make_app

    async with make_app(tmp_path, ScriptedBackend([])).run_test() as pilot:
        assert isinstance(pilot.app.screen, RowScreen) and pilot.app.screen.rows_only
        assert type(pilot.app.screen._compositor) is RowCompositor
    monkeypatch.setattr(compat, "ROW_COMPOSITOR", False)
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.rows_only and type(app.screen._compositor) is compat.TextualCompositor
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "Ask anything." in shown


@pytest.mark.parametrize("flag", ["MARKDOWN_INIT", "LIST_ELEMENTS"])
@pytest.mark.parametrize("answer", [LONG_LIST, TRICKY], ids=["long-list", "tricky"])
async def test_a_streamed_answer_draws_the_same_on_rich_fallbacks(flag, answer, monkeypatch):
    monkeypatch.setattr(compat, flag, False)
    app = OneMessage()
    async with app.run_test(size=(80, 60)) as pilot:
        message = app.query_one(AssistantMessage)
        await pilot.pause()
        for whole in stream_in_pieces(message, answer, seed=3, most=40):
            assert plain(message._lines) == plain(whole)
        if flag == "LIST_ELEMENTS":
            assert message._list == ()  # no item was kept: lists were drawn whole


def test_stream_markdown_fields_match_rich_on_both_paths(monkeypatch):
    from rich.markdown import Markdown

    text = "# Title\n\n- one\n- two\n"
    expected = {key: value for key, value in vars(Markdown(text)).items() if key != "parsed"}
    for init in (True, False):
        monkeypatch.setattr(compat, "MARKDOWN_INIT", init)
        fields = vars(StreamMarkdown(text))
        assert {key: fields[key] for key in expected} == expected
        assert [t.type for t in fields["parsed"]] == [t.type for t in Markdown(text).parsed]


@pytest.mark.parametrize("cls", [ThauApp, PromptInput, ToolCard, SessionsPanel])
def test_bindings_read_without_textuals_merge_are_the_same(cls, monkeypatch):
    merged = {(key, b.action) for key, b in compat.class_bindings(cls)}
    monkeypatch.setattr(compat, "BINDINGS", False)
    assert {(key, b.action) for key, b in compat.class_bindings(cls)} == merged
    assert merged


def test_a_keymap_that_cannot_be_read_is_no_remap():
    class NoKeymap:
        pass

    assert compat.keymap(NoKeymap()) == {}
    app = App()
    app.set_keymap({"quit": "ctrl+x"})
    assert compat.keymap(app) == {"quit": "ctrl+x"}
