"""The agent on the real bundled GGUF through llama-cpp-python: streaming, cancel,
KV-cache reuse, and a grammar-constrained call -> approve -> result -> answer round trip."""

from __future__ import annotations

from scripted import Prefill as _Prefill
from weather_tool import weather_registry

from thau_tui.config import Config
from thau_tui.engine.agent import Agent, ChatSession
from thau_tui.engine.events import ApprovalRequested, Decision, TextDelta, ToolFinished, ToolStarted, TurnDone
from thau_tui.engine.generate import generate_reply
from thau_tui.engine.store import Store
from thau_tui.tools import ToolRegistry


def _registry(calls: list) -> ToolRegistry:
    return weather_registry(calls)


def _agent(backend, tmp_path, calls=None, **gen):
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


async def test_real_turn_streams_text(real_backend, tmp_path):
    agent = _agent(real_backend, tmp_path, max_tokens=40)
    session = agent.new_session()
    events = [e async for e in agent.run_turn(session, "Say hello in one short sentence.")]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert len(deltas) >= 3 and "".join(d.text for d in deltas).strip()
    assert done.stats.tokens > 0 and done.stats.tokens_per_s > 0


async def test_cancel_stops_generation_and_keeps_text(real_backend, tmp_path):
    agent = _agent(real_backend, tmp_path, max_tokens=400)
    session = agent.new_session()
    seen = 0
    events = []
    async for event in agent.run_turn(session, "Write a long story about a lighthouse keeper."):
        events.append(event)
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 5:
                agent.cancel()
    done = events[-1]
    assert done.stats.cancelled
    assert done.stats.tokens < 60
    stored = agent.store.messages(session.id)
    assert stored[-1]["role"] == "assistant" and stored[-1]["content"].strip()


async def test_second_turn_reuses_the_kv_cache(real_backend, tmp_path):
    agent = _agent(real_backend, tmp_path, max_tokens=48)
    agent.config.generation.system_prompt = f"You are a terse assistant (run {tmp_path.name})."  # not cached yet
    session = agent.new_session()
    first = [e async for e in agent.run_turn(session, "Name three colours.")][-1]
    second = [e async for e in agent.run_turn(session, "Now name three animals.")][-1]
    # turn 1 reads (nearly) the whole prompt: the system prompt and tool block are new
    assert first.stats.prompt_evaluated > 0.8 * first.stats.prompt_tokens
    history = second.stats.prompt_tokens
    assert history > first.stats.prompt_tokens
    # only the new user message (plus the template's few tokens) is read on turn 2
    assert second.stats.prompt_evaluated < 40 < history


def test_grammar_forces_a_valid_call(real_backend):
    """Once the open tag is in the prompt, the grammar makes the tiny model write a real,
    schema-valid call — even though it was never trained for this tool."""
    from thau_tui.engine.dialects import get_dialect
    from thau_tui.engine.prompt import system_content

    calls: list = []
    registry = _registry(calls)
    dialect = get_dialect("hermes")
    messages = [
        {"role": "system", "content": system_content("You are helpful.", dialect, registry.tools())},
        {"role": "user", "content": "What's the weather in Paris?"},
    ]
    prompt = real_backend.template.render(messages)
    settings = Config().generation.model_copy(update={"temperature": 0.0, "max_tokens": 60})
    forced = generate_reply(_Prefill(real_backend, "<tool_call>"), prompt, dialect, registry.tools(), settings)
    assert forced.calls and forced.calls[0].call is not None, forced.text
    assert forced.calls[0].call.name == "get_weather"
    assert registry.validate(forced.calls[0].call) == []
    assert forced.text.startswith("<tool_call>{") and forced.text.endswith("</tool_call>")


async def test_round_trip_call_approve_result_answer(real_backend, tmp_path):
    """The real model calls the tool (few-shot history + grammar), the user approves,
    the result goes back and the model answers from it."""
    calls: list = []
    agent = _agent(real_backend, tmp_path, calls, max_tokens=60)
    dialect = agent.dialect
    session = ChatSession(agent.store.create_session("weather"))
    # two earlier exchanges show the pattern; the tiny base model follows it
    for city, temp in (("Rome", 25), ("Oslo", 3)):
        session.messages += [
            {"role": "user", "content": f"What's the weather in {city}?"},
            {"role": "assistant", "content": dialect.format_call(_call("get_weather", city=city))},
            {"role": "tool", "content": dialect.render_result("get_weather", f"It is {temp} degrees in {city}.")},
            {"role": "assistant", "content": f"It is {temp} degrees in {city}."},
        ]
    events = []
    async for event in agent.run_turn(session, "What's the weather in Madrid?"):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
    assert any(isinstance(e, ToolStarted) for e in events), [type(e).__name__ for e in events]
    assert calls and calls[0]["city"] == "Madrid"
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert "sunny" in finished.result.output
    assert isinstance(events[-1], TurnDone)
    # after the result, the model answered in a new assistant message
    assert session.messages[-1]["role"] == "assistant" and session.messages[-2]["role"] == "tool"
    assert events[-1].stats.tool_rounds == 1


def _call(name, **args):
    from thau_tui.tools import ToolCall

    return ToolCall(name, args)


async def test_the_system_prompt_is_read_before_the_first_question(real_backend, tmp_path):
    # Issue 17: the first word of a first answer waited for the ~400-token system prompt to be
    # read after Enter. warm_up reads it while the user types; Enter then costs the question.
    agent = _agent(real_backend, tmp_path, max_tokens=8)
    agent.config.generation.system_prompt = f"You are a careful assistant (run {tmp_path.name})."  # not cached yet
    read = agent.warm_up().result(timeout=120)
    assert read > 50  # the instructions and the tool block
    assert agent.warm_up().result(timeout=120) == 0  # already in the cache: nothing to read again
    done = [e async for e in agent.run_turn(agent.new_session(), "Name a colour.")][-1]
    assert isinstance(done, TurnDone) and done.stats.prompt_tokens > read
    assert done.stats.prompt_evaluated < 20  # the question and the template's few tokens, not the system prompt
