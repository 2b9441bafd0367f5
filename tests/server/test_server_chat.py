"""The agent through a real OpenAI-compatible server (llama-cpp-python's, on the bundled
SmolLM2): a streamed turn, Esc closing the HTTP stream, a grammar-constrained call and a
tool round trip, with thau rendering the prompt and streaming /v1/completions."""

from __future__ import annotations

import time

from scripted import Prefill as _Prefill
from weather_tool import weather_registry

from thau_tui.config import Config
from thau_tui.engine.agent import Agent, ChatSession
from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.events import ApprovalRequested, Decision, TextDelta, ToolFinished, ToolStarted, TurnDone
from thau_tui.engine.generate import generate_reply
from thau_tui.engine.models import load_backend
from thau_tui.engine.prompt import system_content
from thau_tui.engine.store import Store
from thau_tui.tools import ToolCall, ToolRegistry


def _registry(calls: list) -> ToolRegistry:
    return weather_registry(calls)


def _agent(backend, tmp_path, calls=None, **gen) -> Agent:
    config = Config()
    config.generation.temperature = 0.0
    for key, value in gen.items():
        setattr(config.generation, key, value)
    return Agent(
        config,
        _registry(calls if calls is not None else []),
        store=Store(tmp_path / "db"),
        backend=backend,
        workspace=tmp_path,
    )


def test_load_backend_chooses_the_server_from_config(llama_server, server_key):
    config = Config()
    config.model.backend = "openai"
    config.model.base_url = llama_server.url.removesuffix("/v1")  # /v1 is added
    config.model.api_key_env = server_key
    config.model.n_ctx = 2048
    backend = load_backend(config)
    try:
        assert type(backend).__name__ == "OpenAiBackend"
        assert backend.model_id.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")  # the server's only model
        assert backend.name == "SmolLM2-135M-Instruct.Q4_1"  # shown without the server's path
        assert backend.tokenize_endpoint == "/extras/tokenize"
        # the server's model is the bundled GGUF: its own chat template, not the ChatML fallback
        assert backend.template_source == "the model's own"
        assert "<|im_start|>" in backend.template.render([{"role": "user", "content": "hi"}])
        assert backend.count_tokens("Hello world, how are you?") < 12  # real tokens, not len/4
    finally:
        backend.close()


async def test_a_turn_streams_text_through_the_server(server_backend, tmp_path):
    agent = _agent(server_backend, tmp_path, max_tokens=40)
    session = agent.new_session()
    events = [e async for e in agent.run_turn(session, "Say hello in one short sentence.")]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert isinstance(done, TurnDone), events
    assert not done.stats.cancelled
    assert deltas and "".join(d.text for d in deltas).strip()
    assert done.stats.tokens > 0 and done.stats.prompt_tokens > 10
    stored = agent.store.messages(session.id)
    assert stored[-1]["role"] == "assistant" and stored[-1]["content"].strip()


async def test_cancel_closes_the_http_stream(llama_server, server_backend, tmp_path):
    agent = _agent(server_backend, tmp_path, max_tokens=400)
    session = agent.new_session()
    disconnects = llama_server.log_text().count("Disconnected from client")
    events: list = []
    async for event in agent.run_turn(session, "Write a long story about a lighthouse keeper."):
        if isinstance(event, TextDelta) and not any(isinstance(e, TextDelta) for e in events):
            agent.cancel()  # Esc at the first word
        events.append(event)
    done = events[-1]
    assert isinstance(done, TurnDone) and done.stats.cancelled
    assert done.stats.tokens < 60  # stopped near where Esc came, of the 400 asked for
    assert server_backend.streams_open == 0
    # the server itself saw the client go (it stops generating at its next token)
    deadline = time.monotonic() + 10
    while llama_server.log_text().count("Disconnected from client") == disconnects:
        assert time.monotonic() < deadline, "the server never saw the stream close"
        time.sleep(0.1)


def test_closing_a_stream_early_stops_it(server_backend):
    prompt = server_backend.template.render([{"role": "user", "content": "Count from one to one hundred."}])
    stats = StreamStats()
    stream = server_backend.stream(prompt, SamplingSettings(max_tokens=300, temperature=0.0), stats)
    pieces = []
    for piece in stream:
        if piece:
            pieces.append(piece)
        if len(pieces) == 3:
            break
    stream.close()
    assert server_backend.streams_open == 0
    assert 3 <= stats.tokens < 20


def test_grammar_forces_a_valid_call_through_the_server(server_backend):
    """Once the open tag is in the prompt, the grammar (sent in the request's `grammar` field)
    makes the tiny model write a real, schema-valid call."""
    calls: list = []
    registry = _registry(calls)
    dialect = get_dialect("hermes")
    messages = [
        {"role": "system", "content": system_content("You are helpful.", dialect, registry.tools())},
        {"role": "user", "content": "What's the weather in Paris?"},
    ]
    prompt = server_backend.template.render(messages)
    settings = Config().generation.model_copy(update={"temperature": 0.0, "max_tokens": 60})
    forced = generate_reply(_Prefill(server_backend, "<tool_call>"), prompt, dialect, registry.tools(), settings)
    assert forced.calls and forced.calls[0].call is not None, forced.text
    assert forced.calls[0].call.name == "get_weather"
    assert registry.validate(forced.calls[0].call) == []
    assert forced.text.startswith("<tool_call>{") and forced.text.endswith("</tool_call>")


def test_without_the_grammar_the_body_is_free(server_backend):
    """The grammar is what constrains the body: a grammar of one word gives that word."""
    prompt = server_backend.template.render([{"role": "user", "content": "Say something."}])
    stats = StreamStats()
    text = "".join(server_backend.stream(prompt, SamplingSettings(max_tokens=20), stats, grammar='root ::= "yes"'))
    assert text == "yes"


async def test_tool_round_trip_through_the_server(server_backend, tmp_path):
    """The model calls the tool (few-shot history + grammar), the user approves, the result
    goes back and the model answers: every generation through the server."""
    calls: list = []
    agent = _agent(server_backend, tmp_path, calls, max_tokens=60)
    dialect = agent.dialect
    session = ChatSession(agent.store.create_session("weather"))
    for city, temp in (("Rome", 25), ("Oslo", 3)):
        session.messages += [
            {"role": "user", "content": f"What's the weather in {city}?"},
            {"role": "assistant", "content": dialect.format_call(ToolCall("get_weather", {"city": city}))},
            {"role": "tool", "content": dialect.render_result("get_weather", f"It is {temp} degrees in {city}.")},
            {"role": "assistant", "content": f"It is {temp} degrees in {city}."},
        ]
    events = []
    async for event in agent.run_turn(session, "What's the weather in Madrid?"):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
    kinds = [type(e).__name__ for e in events]
    assert any(isinstance(e, ToolStarted) for e in events), kinds
    assert calls and calls[0]["city"] == "Madrid"
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert finished and finished[0].status == "done"
    done = events[-1]
    assert isinstance(done, TurnDone) and done.stats.tool_rounds == 1
    # the answer after the result came from the server too
    stored = agent.store.messages(session.id)
    assert stored[-1]["role"] == "assistant" and "<tool_call>" not in stored[-1]["content"]
