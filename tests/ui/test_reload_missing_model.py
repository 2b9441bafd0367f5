"""Reloading a model whose file has gone threw the working model (still in memory) away,
fell back to the same missing file, and said "Back on" it (reliability review): the switch
is refused before anything is freed, and the chat goes on with the model it had."""

from __future__ import annotations

from scripted import ScriptedBackend
from test_app import make_app, type_and_send
from waiting import wait_until

from thau_tui.config import Config
from thau_tui.ui.widgets.chat import AssistantMessage


def _app_on(tmp_path, replies):
    """The app with model.path a file of its own (loaded: the scripted model stands in)."""
    model = tmp_path / "copy.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 60)
    config = Config()
    config.model.path = str(model)
    return make_app(tmp_path, ScriptedBackend(replies), config=config), model


async def test_enter_on_the_current_model_whose_file_is_gone_keeps_the_loaded_one(tmp_path, notices):
    app, model = _app_on(tmp_path, ["still here"])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        loaded = app.agent.backend
        model.rename(tmp_path / "moved-away.gguf")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ModelPicker")
        listing = app.screen.query_one("OptionList")
        assert "(current)" in str(listing.get_option_at_index(listing.highlighted).prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: notices.any("did not happen"), 10, "the refusal")
        await pilot.pause(0.5)  # a load started anyway would fail in this time
        assert app.agent.backend is loaded and app.status.model == "scripted"
        refused = [n for n in notices if n.title == "model not switched"]
        assert len(refused) == 1 and "file not found" in refused[0].message
        assert "Still on scripted" in refused[0].message
        assert not notices.any("Back on") and not any(n.title == "model not loaded" for n in notices)
        assert app.config.model.path == str(model)
        await type_and_send(pilot, "are you there?")
        await wait_until(pilot, lambda: app.query(AssistantMessage) and not app.turn_running, 10, "the answer")
        assert app.query(AssistantMessage).last().text == "still here"


async def test_a_missing_or_unreadable_adapter_or_another_model_is_refused_before_the_model_goes(tmp_path, notices):
    app, model = _app_on(tmp_path, [])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        loaded = app.agent.backend
        app._reload_model(tmp_path / "gone" / "adapter.gguf", "loading adapter…")  # the training screen's u
        assert app.agent.backend is loaded
        assert notices.any("adapter") and notices.any("file not found")
        not_gguf = tmp_path / "notes.gguf"
        not_gguf.write_text("a text file\n")
        app.config.model.path = str(not_gguf)  # what the picker does before it reloads
        app._reload_model(None, "loading notes.gguf…")
        assert app.agent.backend is loaded and notices.any("not a GGUF file")
        assert app.config.model.path == str(model)  # the config names the model in use again
        await pilot.pause(0.5)
        assert app.agent.backend is loaded and app.status.model == "scripted"


async def test_back_on_is_said_only_once_the_model_has_loaded_again(tmp_path, notices):
    """A switch that passes the check and still fails to load: the model that worked loads
    again, and "Back on" waits for it (it came before, and also when that load failed)."""
    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.model_fallback = app.model_in_use
        app.agent.backend = None
        app.config.model.path = str(tmp_path / "other.gguf")
        app.post_message(app.ModelFailed("other.gguf: failed to load"))
        await wait_until(pilot, lambda: notices.any("did not happen"), 10, "the failure")
        assert not notices.any("Back on")
        # the model that worked (the bundled one here, model.path empty) loads again
        await wait_until(pilot, lambda: notices.any("Back on scripted"), 120, "the model to load again")
        assert app.agent.backend is not None and app.model_error is None
