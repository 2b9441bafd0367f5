"""The call grammars inside llama.cpp itself, over the bundled model's vocabulary: what
they let a model write after the open tag, token by token (issues 16 and 17)."""

from __future__ import annotations

import ctypes

import llama_cpp
import pytest

from thau_tui.config import Config
from thau_tui.engine import llama_compat
from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.engine.generate import generate_reply
from thau_tui.engine.prompt import system_content
from thau_tui.tools import Tool, ToolCall, builtin_tools

SHELL = Tool(
    "run_shell",
    "Run a shell command",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    "exec",
    lambda a, c: "",
)
WRITE = Tool(
    "write_file",
    "Write a file",
    {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
    },
    "write",
    lambda a, c: "",
)
PLUG = Tool(
    "plug",
    "A plugin",
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "few": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
            "loose": {"type": "array"},
            "opts": {
                "type": "object",
                "properties": {"n": {"type": "integer"}, "deep": {"type": "object"}},
                "required": ["n"],
            },
            "short": {"type": "string", "maxLength": 5},
        },
        "required": ["tags"],
    },
    "read",
    lambda a, c: "",
    source="plugin",
)
TOOLS = [SHELL, WRITE, PLUG]


class Probe:
    """Walks text through a grammar one token at a time, as the sampler would."""

    def __init__(self, backend, gbnf: str) -> None:
        self.llm, self.gbnf = backend.llm, gbnf

    def tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=True)

    def _allowed(self, sampler, token: int) -> bool:
        data = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(id=token, logit=1.0, p=0.0))
        array = llama_cpp.llama_token_data_array(data=data, size=1, selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        return data[0].logit != float("-inf")

    def allows(self, text: str, then: int | None = None) -> bool:
        """Whether the grammar lets a model write `text` (and then the token `then`)."""
        sampler = llama_cpp.llama_sampler_init_grammar(self.llm._model.vocab, self.gbnf.encode(), b"root")
        assert sampler, "the grammar did not compile"
        try:
            for token in self.tokens(text):
                if not self._allowed(sampler, token):
                    return False
                llama_cpp.llama_sampler_accept(sampler, token)  # never a token it refused: that aborts
            return then is None or self._allowed(sampler, then)
        finally:
            llama_cpp.llama_sampler_free(sampler)

    def ends(self, text: str) -> bool:
        """Whether the model may stop right after `text`."""
        return self.allows(text, self.llm.token_eos())

    def first_token(self, text: str) -> int:
        return self.tokens(text)[0]


@pytest.fixture(scope="module")
def probes(real_backend):
    return {name: Probe(real_backend, get_dialect(name).grammar(TOOLS)) for name in DIALECTS}


def body(name: str, tool: str, **args) -> str:
    """A call's text after its open tag, as the dialect writes it."""
    dialect = get_dialect(name)
    return dialect.format_call(ToolCall(tool, args))[len(dialect.open_tag) :]


@pytest.mark.parametrize("name", list(DIALECTS))
def test_after_a_call_the_model_may_stop_write_prose_or_call_again(name, probes):
    """A newline after the close tag used to force a second call (issue 16)."""
    probe, dialect = probes[name], get_dialect(name)
    call = body(name, "run_shell", command="ls")
    prose = probe.first_token("The")
    assert probe.ends(call)
    assert probe.ends(call + "\n") and probe.allows(call + "\n", prose)
    assert probe.allows(call + "\n", probe.first_token("<"))
    assert probe.ends(call + "\n" + dialect.open_tag + body(name, "write_file", path="a", content="b"))
    # a result the model starts to make up is not forced into a call either (generate.py stops there)
    result = dialect.render_result("run_shell", "made up")
    assert probe.allows(call + "\n" + result[:-1])


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_string_may_hold_the_close_tag(name, probes):
    dialect = get_dialect(name)
    content = f"<b>{dialect.close_tag}</b> {dialect.open_tag} <"
    assert probes[name].ends(body(name, "write_file", path="t.html", content=content))


@pytest.mark.parametrize("name", list(DIALECTS))
def test_arrays_are_bounded(name, probes):
    """MAX_ITEMS when the schema sets no bound, the schema's own bound when it does (issue 16)."""
    probe, comma = probes[name], probes[name].first_token(",")
    sixty_four = body(name, "plug", tags=["a"] * 64)
    open_array = sixty_four[: sixty_four.index("]")]
    assert probe.ends(sixty_four) and probe.allows(open_array, probe.first_token("]"))
    assert not probe.allows(open_array, comma)
    sixty_three = body(name, "plug", tags=["a"] * 63)
    assert probe.allows(sixty_three[: sixty_three.index("]")], comma)
    loose = body(name, "plug", tags=[], loose=[1] * 64)
    assert probe.ends(loose) and not probe.allows(loose[: loose.rindex("1") + 1], comma)
    three = body(name, "plug", tags=[], few=[1, 2, 3])
    assert probe.ends(three)
    assert not probe.allows(three[: three.index("3") + 1], comma)


def test_json_strings_are_bounded_by_max_length_and_take_escapes_not_raw_control_characters(probes):
    probe = probes["hermes"]
    short = body("hermes", "plug", tags=[], short="abcde")
    assert probe.ends(short)
    assert not probe.allows(short[: short.index("abcde") + 5], probe.first_token("f"))
    code = body("hermes", "run_shell", command="a\nb")
    assert "\\n" in code and probe.ends(code)
    assert not probe.allows(code[: code.index("\\n")], probe.first_token("\n"))


def test_functiongemma_grammar_says_arrays_and_objects(probes):
    """FunctionGemma's value rule once took only strings, numbers and booleans (issue 16)."""
    probe = probes["functiongemma"]
    call = body("functiongemma", "plug", tags=["a b", "c"], few=[1, 2], opts={"n": 3, "deep": {"k": "v", "l": [True]}})
    assert call.startswith("call:plug{tags:[<escape>a b<escape>,<escape>c<escape>],few:[1,2],opts:{n:3,deep:{")
    assert probe.ends(call)
    assert get_dialect("functiongemma").parse_calls(get_dialect("functiongemma").open_tag + call)[0].call.arguments == {
        "tags": ["a b", "c"],
        "few": [1, 2],
        "opts": {"n": 3, "deep": {"k": "v", "l": [True]}},
    }
    assert not probe.allows("call:plug{tags:<escape>")  # an array, not a string


class _Prefill:
    """The bundled model, except that its free text is just the open tag (the grammar phase is real)."""

    def __init__(self, backend, prefix: str) -> None:
        self.backend, self.prefix = backend, prefix
        self.name, self.n_ctx, self.template, self.lora_path = backend.name, backend.n_ctx, backend.template, None

    def count_tokens(self, text):
        return self.backend.count_tokens(text)

    def stream(self, prompt, settings, stats, grammar=None):
        if grammar is None:
            return (piece for piece in [self.prefix])
        return self.backend.stream(prompt, settings, stats, grammar)


def test_the_bundled_model_is_not_forced_into_a_second_call(real_backend):
    """After its call the bare bundled model writes a newline, then prose ("The output of
    the command ..."). The old grammar allowed only another call after that newline, so the
    model was made to invent one: list_directory on a path it made up."""
    dialect = get_dialect("hermes")
    tools = builtin_tools()
    prompt = real_backend.template.render(
        [
            {"role": "system", "content": system_content("You are helpful.", dialect, tools)},
            {"role": "user", "content": "Run the shell command ls"},
        ]
    )
    call = body("hermes", "run_shell", command="ls")
    wanted = "".join(
        real_backend.stream(
            prompt + dialect.open_tag + call + "\n", SamplingSettings(temperature=0.0, max_tokens=3), StreamStats()
        )
    )
    assert wanted.strip() and not wanted.strip().startswith("<")  # prose, as measured
    assert Probe(real_backend, dialect.grammar(tools)).allows(call + "\n" + wanted)

    settings = Config().generation.model_copy(update={"temperature": 0.0, "max_tokens": 120})
    reply = generate_reply(_Prefill(real_backend, dialect.open_tag), prompt, dialect, tools, settings)
    assert [(p.call.name, p.call.arguments) for p in reply.calls if p.call] == [("run_shell", {"command": "ls"})]
    assert len(reply.calls) == 1 and reply.text.endswith(dialect.close_tag)


ODD_SCHEMAS = {
    "ref": {"type": "object", "properties": {"item": {"$ref": "#/$defs/Item"}}, "$defs": {"Item": {"type": "string"}}},
    "negated": {"type": "object", "properties": {"n": {"not": {"type": "string"}}}},
    "lookahead": {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(?=a)b$"}}},
    "anything": {"type": "object", "properties": {"p": True}},
}


@pytest.mark.parametrize("name", ["hermes", "thau", "stage3"])
def test_a_schema_the_converter_cannot_take_leaves_every_other_tool_callable(name, real_backend):
    """A plugin or MCP tool with a $ref into $defs (pydantic servers write them), a `not`, a
    look-ahead pattern or a `true` subschema made the grammar raise, and then no tool at
    all could be called ("generation failed: KeyError: '#/$defs/Item'")."""
    odd = [Tool(f"odd_{k}", "odd", schema, "read", lambda a, c: "", source="mcp") for k, schema in ODD_SCHEMAS.items()]
    probe = Probe(real_backend, get_dialect(name).grammar([SHELL, *odd]))
    assert probe.allows(body(name, "run_shell", command="ls"))
    assert probe.allows(body(name, "odd_ref", item="x"))  # $ref resolved
    assert probe.allows(body(name, "odd_negated", n=3))  # the generic object rule


PATTERNS = {  # pattern: (values it takes, values it refuses)
    "^\\d+\\.\\d+$": (["1.25", "10.0"], ["1x25", "a.5"]),
    "^v[0-9]+\\.[0-9]+\\.[0-9]+$": (["v1.2.30"], ["v1-2-3"]),
    "^\\d{4}-\\d{2}-\\d{2}$": (["2026-12-06"], ["2026/12/06", "26-12-06"]),
    "^[\\w.-]+@[\\w-]+\\.[a-z]{2,}$": (["ana.b-c@mail-x.org"], ["ana@mail"]),
    "^\\$\\d+(\\.\\d{2})?$": (["$12", "$3.50"], ["12"]),
    "^\\S+$": (["no-spaces"], ["two words"]),
    "^[^\\]]+$": (["plain"], ["a]b"]),
    "^\\(\\d{3}\\) \\d{3}-\\d{4}$": (["(555) 123-4567"], ["555 123-4567"]),
}


def test_schema_patterns_with_regex_escapes_compile_and_hold(real_backend):
    """llama-cpp-python's converter copies \\d, \\w, \\s and escaped signs (\\. \\- \\$) into the
    GBNF as they are, and llama.cpp's parser knows none of them: an MCP or plugin tool with
    "pattern": "^\\\\d+\\\\.\\\\d+$" made the grammar fail to compile, and the app then died of
    a segmentation fault the moment the model opened a call (found in issue 16's evals)."""
    tools = [
        Tool(f"fmt_{k}", "A formatted value", {"type": "object", "properties": {"v": {"type": "string", "pattern": p}},
             "required": ["v"]}, "read", lambda a, c: "", source="mcp")
        for k, p in enumerate(PATTERNS)
    ]  # fmt: skip
    probe = Probe(real_backend, get_dialect("hermes").grammar([SHELL, *tools]))  # asserts that it compiles
    for k, (takes, refuses) in enumerate(PATTERNS.values()):
        for value in takes:
            assert probe.ends(body("hermes", f"fmt_{k}", v=value)), (k, value)
        for value in refuses:
            assert not probe.ends(body("hermes", f"fmt_{k}", v=value)), (k, value)


@pytest.mark.parametrize("pattern", ["^a\\bb$", "^(a)\\1$", '^say "hi"$', "^a\\\\b$", "^\\x22$", "\\d+"])
def test_a_pattern_the_grammar_cannot_spell_leaves_that_string_free(pattern, real_backend):
    """Word boundaries, back-references, a quote or backslash the JSON string would escape,
    and unanchored patterns: the string is written free (validation still checks the pattern)."""
    tool = Tool("odd", "o", {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}},
                "read", lambda a, c: "", source="mcp")  # fmt: skip
    probe = Probe(real_backend, get_dialect("hermes").grammar([tool]))
    assert probe.ends(body("hermes", "odd", v="anything at all"))


def test_a_grammar_llama_cpp_refuses_is_never_handed_to_it(real_backend):
    """A refused grammar gave llama-cpp-python a null sampler, and the next token crashed the
    process. Whatever gap of the converter is left, the call is then written free."""
    bad = 'root ::= "\\q"'
    assert llama_compat.grammar_compiles(real_backend.llm, bad) is False
    assert llama_compat.grammar_compiles(real_backend.llm, 'root ::= "ok"') is True
    text = "".join(real_backend.stream("Say hi.", SamplingSettings(temperature=0.0, max_tokens=4), StreamStats(), bad))
    assert text.strip()
