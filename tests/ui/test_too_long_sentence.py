"""The over-long message's note read "…or raise model.n_ctx in config.yaml It is back in the
prompt." (long-chat review of 2026-12-07): the engine's sentence had no full stop, and the
chat adds its own after it. The engine's context messages end as sentences now."""

from __future__ import annotations

from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import NoteMessage
from thau_tui.ui.widgets.prompt_input import PromptInput


async def test_the_too_long_note_reads_as_two_sentences(tmp_path):
    config = Config()
    config.tools.workspace = str(tmp_path)
    app = ThauApp(
        ConfigResult(config, None, []), store=Store(tmp_path / "s.sqlite3"), backend=ScriptedBackend([]), watch=False
    )
    long = "lorem ipsum dolor " * 2500  # over 8,192 tokens as the script counts
    async with app.run_test(size=(200, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.load_text(long)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.turn_running and prompt.text == long.strip())
        notes = [" ".join(str(n.render()).split()) for n in app.query(NoteMessage)]
    refused = [n for n in notes if "your message is too long" in n]
    assert refused and refused[0].endswith("raise model.n_ctx in config.yaml. It is back in the prompt."), notes


def test_every_context_message_ends_with_a_full_stop():
    """What the chat shows of a context that is full, each way it can be."""
    from thau_tui.engine.backend import ContextFull
    from thau_tui.engine.prompt import context_full

    error = ContextFull(5000, 4096)
    question = [{"role": "user", "content": "x"}]
    after = [{"role": "assistant", "content": "call"}, {"role": "tool", "content": "result"}]
    said = [
        context_full(error, question, 0),  # the message itself
        context_full(error, question + after, 0),  # the exchange with its calls
        context_full(error, question, 0, system_tokens=4000),  # thau's own instructions
    ]
    assert len(set(said)) == 3, said
    assert all(line.endswith(".") and not line.endswith("..") for line in said), said
