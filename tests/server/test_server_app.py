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
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.agent.backend is not None, 60, "the server backend")
        assert app.status.model == "SmolLM2-135M-Instruct.Q4_1"
        await pilot.press(*"Say hi")
        await pilot.press("enter")
        await _wait(pilot, lambda: app.store.messages(app.session.id) and not app.turn_running, 120, "the answer")
        stored = app.store.messages(app.session.id)
        assert stored[-1]["role"] == "assistant" and stored[-1]["content"].strip()
        assert app.query(AssistantMessage)


async def test_app_without_a_server_says_so(tmp_path):
    app = _app(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await _wait(pilot, lambda: app.model_error is not None, 30, "the load error")
        assert app.model_error.startswith("no server at") and "model.base_url" in app.model_error
        assert app.status.model == "no model"
