"""The status line's context use across a model or adapter switch: after Ctrl+O,
`ctx 1824/4096` became `ctx 4096`, as if the chat were empty (UX review)."""

from __future__ import annotations

import re

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import AssistantMessage

USED = re.compile(r"ctx (\d+)/(\d+)")


def make_app(tmp_path, backend, config: Config | None = None) -> ThauApp:
    config = config or Config()
    config.tools.workspace = str(tmp_path)
    config.generation.temperature = 0.0
    return ThauApp(ConfigResult(config, None), store=Store(tmp_path / "sessions.sqlite3"), backend=backend, watch=False)


async def answered(app, pilot, question: str) -> str:
    """Send `question`, wait for the answer and return the context the status line shows."""
    answers = len(app.query(AssistantMessage))
    await pilot.press(*question, "enter")
    await wait_until(pilot, lambda: len(app.query(AssistantMessage)) > answers, 240, "the answer to start")
    await wait_until(pilot, lambda: not app.turn_running and USED.fullmatch(app.status.context), 240, "the answer")
    return app.status.context


async def loaded(app, pilot, backend) -> None:
    """What the load worker sends when a switch has loaded `backend` (ThauApp.ModelLoaded)."""
    app.post_message(ThauApp.ModelLoaded(backend, 0.1))
    await wait_until(pilot, lambda: app.agent.backend is backend, 10, "the new backend")


async def test_another_adapter_on_the_same_model_keeps_the_chats_context_use(tmp_path):
    app = make_app(tmp_path, ScriptedBackend(["Hello there, how can I help?"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready_s is not None, 10, "the model")
        before = await answered(app, pilot, "hi")
        adapted = ScriptedBackend(["Adapted."])
        adapted.lora_path = str(tmp_path / "runs" / "tiny-1" / "adapter.gguf")
        await loaded(app, pilot, adapted)
        # the same tokenizer counts the same chat: the count stands
        assert app.status.context == before, app.status.context
        assert app.status.adapter == "tiny-1/adapter.gguf"


async def test_another_model_says_the_use_is_unknown_until_its_next_answer(tmp_path):
    app = make_app(tmp_path, ScriptedBackend(["Hello there, how can I help?"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_ready_s is not None, 10, "the model")
        await answered(app, pilot, "hi")
        other = ScriptedBackend([])
        other.name, other.n_ctx = "other-model", 4096
        await loaded(app, pilot, other)
        # another tokenizer: the old count is not this model's, and "ctx 4096" read as an empty chat
        assert app.status.context == "ctx ?/4096 until the next answer", app.status.context
        assert "ctx ?/4096 until the next answer" in app.status.render().plain
        # an adapter on that model before it answered: still unknown, not a number made up
        adapted = ScriptedBackend(["The adapted model's answer."])
        adapted.name, adapted.n_ctx, adapted.lora_path = "other-model", 4096, str(tmp_path / "a.gguf")
        await loaded(app, pilot, adapted)
        assert app.status.context == "ctx ?/4096 until the next answer", app.status.context
        counted = await answered(app, pilot, "and now?")
        assert USED.fullmatch(counted) and counted.endswith("/4096"), counted


async def test_choosing_the_adapter_in_the_picker_keeps_the_context_use(tmp_path, real_backend):
    """End to end: the bundled model answers, Ctrl+O loads it again with the shipped adapter."""
    from thau_tui.paths import bundled_adapter, bundled_model

    config = Config()
    config.generation.max_tokens = 16
    app = make_app(tmp_path, real_backend, config)
    async with app.run_test(size=(120, 30)) as pilot:
        before = await answered(app, pilot, "Say hi")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ModelPicker", 10, "the picker")
        listing = app.screen.query_one("OptionList")
        listing.highlighted = app.screen.choices.index((bundled_model(), bundled_adapter()))
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.agent.backend is not None and app.agent.backend.lora_path is not None,
            120,
            "the model with its adapter",
        )
        assert app.status.context == before, app.status.context


async def test_a_gguf_without_a_chat_template_is_said_to_be_a_base_model(tmp_path):
    """A base GGUF (no tokenizer.chat_template) loaded without a word and answered "Say hello"
    by repeating it for 781 tokens (UX review). Loading one says what to expect."""
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        base = ScriptedBackend([])
        base.name, base.metadata = "gemma3-270m", {"general.architecture": "gemma3"}
        await loaded(app, pilot, base)
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert any("gemma3-270m carries no chat template" in text for text in said), said
        tuned = ScriptedBackend([])
        tuned.metadata = {"general.architecture": "llama", "tokenizer.chat_template": "{{ messages }}"}
        before = len(app._notifications)
        await loaded(app, pilot, tuned)
        await pilot.pause()
        assert not any("no chat template" in str(n.message) for n in list(app._notifications)[before:])
