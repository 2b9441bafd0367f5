"""Every llama.cpp decode runs on the one model thread, whoever asks for the tokens."""

from __future__ import annotations

import asyncio
import threading

import pytest

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.backend import MODEL_THREAD, ModelLoadError, ModelThread, SamplingSettings, StreamStats
from thau_tui.engine.events import TurnDone
from thau_tui.tools import ToolRegistry

PROMPT = "<|im_start|>user\nName three colours.<|im_end|>\n<|im_start|>assistant\n"
GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


@pytest.fixture
def decode_threads(real_backend, monkeypatch):
    """The names of the threads llama.cpp's eval ran on (a spy that calls through)."""
    seen: list[str] = []
    real_eval = real_backend.llm.eval

    def eval_spy(tokens):
        seen.append(threading.current_thread().name)
        return real_eval(tokens)

    monkeypatch.setattr(real_backend.llm, "eval", eval_spy)
    return seen


def test_stream_from_another_thread_decodes_on_the_model_thread(real_backend, decode_threads):
    real_backend.llm.reset()
    stats = StreamStats()
    text = "".join(real_backend.stream(PROMPT, GREEDY, stats))
    assert text and stats.tokens > 3
    assert set(decode_threads) == {ModelThread.name}
    # the same greedy text when the model thread itself consumes the stream
    real_backend.llm.reset()
    direct = MODEL_THREAD.call(lambda: "".join(real_backend.stream(PROMPT, GREEDY, StreamStats())))
    assert direct == text


def test_closing_the_stream_early_stops_the_model_thread(real_backend):
    real_backend.llm.reset()
    stats = StreamStats()
    stream = real_backend.stream(PROMPT, SamplingSettings(temperature=0.0, max_tokens=200), stats)
    first = [next(stream) for _ in range(3)]
    stream.close()
    assert len(first) == 3
    # close() waited for the producer: the count is final and only a token or two ran past
    assert 3 <= stats.tokens <= 5
    # the model thread is free again: the next job runs at once
    assert MODEL_THREAD.submit(lambda: 42).result(timeout=5) == 42


def test_errors_on_the_model_thread_reach_the_caller(real_backend):
    long_prompt = "word " * 5000  # more than the 4096-token context
    with pytest.raises(ModelLoadError, match="no longer fits the context"):
        list(real_backend.stream(long_prompt, GREEDY, StreamStats()))
    assert MODEL_THREAD.call(lambda: threading.current_thread().name) == ModelThread.name


def test_a_chat_turn_decodes_on_the_model_thread(real_backend, decode_threads):
    cfg = Config()
    cfg.generation.temperature = 0.0
    cfg.generation.max_tokens = 16
    agent = Agent(cfg, ToolRegistry(), backend=real_backend)

    async def turn():
        return [e async for e in agent.run_turn(agent.new_session(), "Hi!") if isinstance(e, TurnDone)]

    done = asyncio.run(turn())
    assert done and done[0].stats.tokens > 0
    assert decode_threads and set(decode_threads) == {ModelThread.name}


def test_set_threads_changes_the_decode_threads_and_restores_them(real_backend):
    import llama_cpp

    ctx = real_backend.llm._ctx.ctx
    loaded = real_backend.n_threads
    try:
        real_backend.set_threads(1)
        real_backend.llm.reset()
        stats = StreamStats()
        text = "".join(real_backend.stream(PROMPT, GREEDY, stats))
        assert text and stats.tokens > 3
        assert MODEL_THREAD.call(llama_cpp.llama_n_threads, ctx) == 1
    finally:
        real_backend.set_threads(None)
    assert MODEL_THREAD.call(llama_cpp.llama_n_threads, ctx) == loaded == real_backend.n_threads


def _long_prompt(backend) -> tuple[str, int]:
    text = " ".join(f"Item {n}: the river bends near the old mill and the road turns east." for n in range(62))
    prompt = backend.template.render(
        [{"role": "user", "content": text + "\nSummarize in one sentence."}], add_generation_prompt=True
    )
    return prompt, len(backend.tokenize(prompt))


def test_a_long_prompt_is_read_in_batches_that_esc_can_stop_between(real_backend):
    """Esc while a 2,200-token paste was read waited for the whole read (15 s on 2 busy
    cores): llama.cpp read it inside one call. A long unread prompt is now read a batch at
    a time first, and closing the stream between two batches stops the read there."""
    from thau_tui.engine import llama_compat
    from thau_tui.engine.backend import SamplingSettings, StreamStats

    prompt, size = _long_prompt(real_backend)
    assert size > llama_compat.READ_AHEAD_FROM
    real_backend.llm.n_tokens = 0  # nothing cached
    stream = real_backend.stream(prompt, SamplingSettings(temperature=0.0, max_tokens=8), StreamStats())
    assert next(stream) == ""  # one batch read
    stream.close()
    read = real_backend.llm.n_tokens  # the model thread may have read one more batch meanwhile
    assert read % real_backend.llm.n_batch == 0 and read <= 2 * real_backend.llm.n_batch < size


def test_reading_ahead_gives_the_same_answer_as_one_read(real_backend, monkeypatch):
    """The batches are llama.cpp's own, from where it would start: the numbers, and so a
    greedy answer, are the same as when generate reads the prompt itself."""
    from thau_tui.engine import llama_compat
    from thau_tui.engine.backend import SamplingSettings, StreamStats

    prompt, _ = _long_prompt(real_backend)
    settings = SamplingSettings(temperature=0.0, max_tokens=16)

    def answer() -> str:
        real_backend.llm.n_tokens = 0
        return "".join(real_backend.stream(prompt, settings, StreamStats()))

    read_ahead = answer()
    monkeypatch.setattr(llama_compat, "READ_AHEAD_FROM", 10**9)
    assert answer() == read_ahead and read_ahead.strip()


def test_a_relative_model_path_that_is_not_found_says_where_it_was_looked_for():
    """gemma3-270m.gguf was looked up in the checkout's models folder, and the error gave the
    absolute path without saying why (config review)."""
    from thau_tui.engine.models import load_backend
    from thau_tui.paths import repo_models_dir

    config = Config()
    config.model.path = "no-such-model-here.gguf"
    with pytest.raises(ModelLoadError) as raised:
        load_backend(config)
    assert f"a relative path is looked up in {repo_models_dir()}, not in the current folder" in str(raised.value)
