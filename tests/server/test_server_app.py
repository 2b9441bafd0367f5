"""The real thau app, headless, with model.backend: openai: it connects to the server
itself, shows the model's name, streams an answer; with no server, it says why."""

from __future__ import annotations

import time

from server_fakes import free_port

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import AssistantMessage


async def _wait(pilot, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def _app(tmp_path, base_url: str, key_env: str | None = None) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    config.model.backend = "openai"
    config.model.base_url = base_url
    config.model.api_key_env = key_env
    config.model.n_ctx = 2048
    config.generation.temperature = 0.0
    config.generation.max_tokens = 30
    return ThauApp(ConfigResult(config, None), store=Store(tmp_path / "db"), watch=False)


async def test_app_chats_through_the_server(llama_server, server_key, tmp_path):
    app = _app(tmp_path, llama_server.url, server_key)
    async with app.run_test(size=(160, 30)) as pilot:  # wide enough for every part of the status line
        await _wait(pilot, lambda: app.agent.backend is not None, 240, "the server backend")
        assert app.status.model == "SmolLM2-135M-Instruct.Q4_1"
        assert app.status.tools == "tools: dialect (server ignores tools)"
        assert "tools: dialect (server ignores tools)" in app.status.render().plain
        await pilot.press(*"Say hi")
        await pilot.press("enter")
        await _wait(pilot, lambda: app.store.messages(app.session.id) and not app.turn_running, 120, "the answer")
        stored = app.store.messages(app.session.id)
        assert stored[-1]["role"] == "assistant" and stored[-1]["content"].strip()
        assert app.query(AssistantMessage)


async def test_app_runs_a_native_tool_call_through_its_card(tools_server, server_key, tmp_path):
    """With a server that reads `tools`, the status line says native, and the server's call
    gets the same card: nothing runs before y, the result goes back."""
    from thau_tui.ui.widgets.tool_card import ToolCard

    app = _app(tmp_path, tools_server.url, server_key)
    app.config.generation.max_tool_rounds = 1
    async with app.run_test(size=(120, 30)) as pilot:
        await _wait(pilot, lambda: app.agent.backend is not None, 240, "the server backend")
        assert app.status.tools == "tools: native"
        (tmp_path / "notes.txt").write_text("the launch is on friday\n", encoding="utf-8")
        app.approvals.set_policy({name: "ask" for name in app.registry.names()})  # a card, whichever tool
        await pilot.press(*"Read the file notes.txt")
        await pilot.press("enter")
        await _wait(
            pilot, lambda: app.query(ToolCard) and app.query(ToolCard).first().state == "awaiting", 180, "a card"
        )
        card = app.query(ToolCard).first()
        await pilot.press("y")
        await _wait(pilot, lambda: not app.turn_running, 180, "the turn to end")
        assert card.state in ("done", "failed")  # it ran: the tiny model's arguments decide which
        stored = app.store.messages(app.session.id)
        calls = [m for m in stored if m["role"] == "assistant" and m["meta"].get("tool_calls")]
        results = [m for m in stored if m["role"] == "tool"]
        assert calls and results
        assert results[0]["meta"]["tool_call_id"] == calls[0]["meta"]["tool_calls"][0]["id"]


async def test_app_without_a_server_says_so(tmp_path):
    app = _app(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.model_error is not None, 30, "the load error")
        assert app.model_error.startswith("no server at") and "model.base_url" in app.model_error
        assert app.status.model == "no model"


async def test_a_server_started_after_thau_is_connected_to_when_a_message_is_sent(tmp_path):
    """Down at start, the server came up; Enter only repeated the old "no server" (servers
    review). Sending connects again, and the message goes once the server answers."""
    from server_fakes import FakeServer, serving, sse_chunk

    port = free_port()
    app = _app(tmp_path, f"http://127.0.0.1:{port}/v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.model_error is not None, 30, "the load error")

        def completions(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            conn.sendall(sse_chunk("Back again.") + b"data: [DONE]\n\n")
            conn.close()

        server = FakeServer(serving(completions), port=port)
        try:
            await pilot.press(*"hello", "enter")
            await _wait(pilot, lambda: app.agent.backend is not None, 30, "the connection")
            await _wait(pilot, lambda: "Back again." in " ".join(app.chat.answers()), 30, "the answer")
            assert app.model_error is None and app.query_one("#input").text == ""
        finally:
            server.close()


async def test_model_picker_lists_the_servers_models_and_switches(llama_server, server_key, tmp_path):
    from textual.widgets import OptionList

    from thau_tui.ui.screens.model_picker import ModelPicker

    app = _app(tmp_path, llama_server.url, server_key)
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.agent.backend is not None, 240, "the server backend")
        served = app.agent.backend.model_id
        app.action_choose_model()
        await _wait(
            pilot, lambda: isinstance(app.screen, ModelPicker) and app.screen.choices, 30, "the server's models"
        )
        listing = app.screen.query_one("#picker-models", OptionList)
        assert [str(c) for c in app.screen.choices] == [served]  # GET /v1/models, not models/*.gguf
        assert "(current)" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await _wait(
            pilot, lambda: not isinstance(app.screen, ModelPicker) and app.agent.backend is not None, 60, "the switch"
        )
        assert app.config.model.server_model == served and app.status.model == "SmolLM2-135M-Instruct.Q4_1"


async def test_model_picker_with_a_dead_server_says_why(tmp_path):
    from textual.widgets import Label

    from thau_tui.ui.screens.model_picker import ModelPicker

    # a password in the address is used, never shown (the picker's title showed it: servers review)
    app = _app(tmp_path, f"http://alice:S3cretPass@127.0.0.1:{free_port()}/v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.model_error is not None, 30, "the load error")
        app.action_choose_model()
        await _wait(
            pilot, lambda: isinstance(app.screen, ModelPicker) and app.screen.query("#picker-status"), 10, "the picker"
        )
        status = app.screen.query_one("#picker-status", Label)
        await _wait(pilot, lambda: "cannot list" in str(status.render()), 30, "the error")
        assert "no server at" in str(status.render())
        shown = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert "127.0.0.1" in shown and "S3cretPass" not in shown and "S3cretPass" not in app.model_error, shown
        await pilot.press("escape")
        assert not isinstance(app.screen, ModelPicker)  # and the app goes on
