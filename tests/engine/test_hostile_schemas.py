"""Tool schemas from plugins and MCP servers against the call grammar: none may crash the
app, hang the chat, block every tool, or let the model write arguments that are not JSON.
Each case was found by a review of llama-cpp-python's converter (gbnf_schema.py lists them);
the grammars are compiled and walked by llama.cpp itself over the bundled model's vocabulary."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from test_call_grammar import SHELL, Probe, body

from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.gbnf_schema import grammar_pattern, tool_schema
from thau_tui.tools import Tool


def mcp_tool(name: str, schema: dict) -> Tool:
    return Tool(name, "a server's tool", schema, "read", lambda a, c: "", source="mcp")


def grammar(*tools: Tool, dialect: str = "hermes") -> str:
    return get_dialect(dialect).grammar([SHELL, *tools])


@pytest.mark.parametrize("dialect", ["hermes", "functiongemma"])
def test_a_required_literal_no_token_can_write_never_aborts_the_app(dialect, real_backend):
    """A required enum of "\\u0000": the grammar compiled, no token could write NUL, and
    llama.cpp aborted the process ("Unexpected empty grammar stack after accepting piece")."""
    tool = mcp_tool("nul", {"type": "object", "properties": {"a": {"enum": ["\u0000"]}}, "required": ["a"]})
    assert tool_schema(tool.parameters, 0) is None  # the generic rule
    chosen = get_dialect(dialect)
    prompt = "Call the tool nul.\n" + chosen.open_tag
    settings = SamplingSettings(temperature=0.9, max_tokens=24)
    for _ in range(3):  # the grammar leaves the model one tool: it opens nul's arguments
        text = "".join(real_backend.stream(prompt, settings, StreamStats(), chosen.grammar([tool])))
        assert "nul" in text  # and the process is alive


@pytest.mark.parametrize("pattern", ["^a]$", "^\\{.*}$", "^[]a]$", "^[^]]$", "^x{a}$"])
def test_a_bare_bracket_in_a_pattern_does_not_hang_the_chat(pattern, real_backend):
    """The converter looped forever on a bare `]` or `}`, on the model thread, each time the
    model opened a call: the chat hung and Esc could not stop it."""
    code = (
        "from thau_tui.engine.dialects import get_dialect; from thau_tui.tools import Tool; "
        f"s = {{'type': 'object', 'properties': {{'v': {{'type': 'string', 'pattern': {pattern!r}}}}}}}; "
        "t = Tool('f', 'd', s, 'read', lambda a, c: ''); print(len(get_dialect('hermes').grammar([t])))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    tool = mcp_tool("f", {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}})
    Probe(real_backend, grammar(tool))  # compiles


def test_posix_classes_and_inner_anchors_leave_the_string_free():
    assert grammar_pattern("^[[:alpha:]]+$") is None
    assert grammar_pattern("^a$|^b$") is None
    assert grammar_pattern("^yes|no$") == "^(yes|no)$"  # a top-level | stays inside the string


def test_a_definition_named_like_the_grammars_own_rules_blocks_nothing(real_backend):
    """`$defs/tool_call` collided with the block's `tool-call` rule: a ValueError out of the
    grammar, and no tool could be called; `$defs/space` replaced the converter's own
    `space` rule, so `{"a": }` was allowed."""
    clash = mcp_tool(
        "clash",
        {
            "type": "object",
            "properties": {"c": {"$ref": "#/$defs/tool_call"}, "a": {"$ref": "#/$defs/space"}},
            "$defs": {
                "tool_call": {"type": "object", "properties": {"name": {"type": "string"}}},
                "space": {"type": "integer"},
            },
        },
    )
    probe = Probe(real_backend, grammar(clash))
    assert probe.ends(body("hermes", "run_shell", command="ls"))
    assert probe.ends(body("hermes", "clash", c={"name": "x"}, a=5))
    assert not probe.allows('{"name": "clash", "arguments": {"a": }')


def test_two_tools_with_a_definition_of_the_same_name_keep_their_own_shapes(real_backend):
    """Both tools' `#/$defs/Item` resolved to the first one's: the second tool's calls were
    forced into the wrong shape and always failed validation."""
    words = mcp_tool("words", {"type": "object", "properties": {"i": {"$ref": "#/$defs/Item"}}, "required": ["i"],
                               "$defs": {"Item": {"type": "string"}}})  # fmt: skip
    counts = mcp_tool("counts", {"type": "object", "properties": {"i": {"$ref": "#/$defs/Item"}}, "required": ["i"],
                                 "$defs": {"Item": {"type": "integer"}}})  # fmt: skip
    probe = Probe(real_backend, grammar(words, counts))
    assert probe.ends(body("hermes", "words", i="x")) and probe.ends(body("hermes", "counts", i=3))
    assert not probe.ends(body("hermes", "counts", i="x"))


def test_a_recursive_definition_with_an_underscore_in_its_name_compiles(real_backend):
    """Pydantic's tree_node: the cycle wrote the unsanitised name into the GBNF, which
    llama.cpp refused (every tool then lost its grammar)."""
    tree = mcp_tool(
        "tree",
        {
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/tree_node"}},
            "$defs": {
                "tree_node": {
                    "type": "object",
                    "properties": {
                        "v": {"type": "integer"},
                        "kids": {"type": "array", "items": {"$ref": "#/$defs/tree_node"}},
                    },
                }
            },
        },
    )
    probe = Probe(real_backend, grammar(tree))
    assert probe.ends(body("hermes", "tree", root={"v": 1, "kids": [{"v": 2, "kids": []}]}))


def _chain(n: int, all_of: bool) -> dict:
    defs = {}
    for k in range(n):
        ref = {"$ref": f"#/$defs/d_{k + 1}"}
        part = {"allOf": [ref]} if all_of else ref
        defs[f"d_{k}"] = {"type": "object", "properties": {"p": part, "q": dict(part)}}
    defs[f"d_{n}"] = {"type": "object", "properties": {"z": {"type": "integer"}}}
    first = {"$ref": "#/$defs/d_0"}
    return {"type": "object", "properties": {"a": {"allOf": [first]} if all_of else first}, "$defs": defs}


@pytest.mark.parametrize("all_of", [False, True])
def test_a_chain_of_definitions_builds_in_time_and_size(all_of, real_backend):
    """Each definition used twice by the next: 13 s to build at 19 levels (names looked up
    unsanitised), or with allOf 36 MB of grammar at 16 levels (copied in place)."""
    tool = mcp_tool("chain", _chain(19, all_of))
    started = time.perf_counter()
    text = grammar(tool)
    assert time.perf_counter() - started < 2.0
    assert len(text) < 200_000
    Probe(real_backend, text)  # compiles


def test_anyof_nested_deep_through_definitions_gets_the_generic_rule():
    """Arrays of anyOf of two same-shaped definitions, 13 deep: 36 s for one token inside
    llama.cpp's sampler."""
    defs = {}
    for k in range(13):
        for side in "ab":
            items = (
                {"type": "integer"}
                if k == 12
                else {"anyOf": [{"$ref": f"#/$defs/l{k + 1}a"}, {"$ref": f"#/$defs/l{k + 1}b"}]}
            )
            defs[f"l{k}{side}"] = {"type": "array", "minItems": 1, "items": items}
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/l0a"}}, "required": ["a"], "$defs": defs}
    assert tool_schema(schema, 0) is None
    shallow = {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"anyOf": [{"type": "integer"}]}]}}}
    assert tool_schema(shallow, 0) is not None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"enum": ["C:\\q", "D:\\r"]}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"enum": ['say "hi"']}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"enum": ["\U0001f600"]}}, "required": ["a"]},
        {"type": "object", "properties": {'a"b': {"type": "string"}}},
        {"type": "object", "properties": {"a": {"const": float("nan")}}},
        {"type": "object", "properties": {"a": {"enum": []}}},
    ],
)
def test_names_and_values_the_converter_writes_wrongly_get_the_generic_rule(schema, real_backend):
    """A backslash, quote or emoji in an enum or a property name was written into the GBNF
    unescaped (forcing text that is not JSON, or a grammar llama.cpp refused), and NaN or an
    empty enum cannot be written at all."""
    assert tool_schema(schema, 0) is None
    probe = Probe(real_backend, grammar(mcp_tool("odd", schema)))  # compiles, with every other tool's rules
    assert probe.ends(body("hermes", "run_shell", command="ls"))
    assert probe.ends(body("hermes", "odd", a="C:\\q"))  # a JSON string, as the generic rule writes it


def test_any_character_in_a_pattern_is_never_a_raw_quote_or_backslash(real_backend):
    tool = mcp_tool(
        "dots", {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x.+$"}}, "required": ["a"]}
    )
    probe = Probe(real_backend, grammar(tool))
    assert probe.ends(body("hermes", "dots", a="xyz"))
    assert not probe.allows('{"name": "dots", "arguments": {"a": "x"y"}}')


def test_what_any_character_allows_includes_an_escaped_quote_or_backslash(real_backend):
    """The read-through of the first fix: `.`, a negated class and \\S refused a value with a
    quote or backslash (C:\\Users\\me) that the schema's own pattern accepts; \\W refused a space."""
    tools = [
        mcp_tool(f"p{k}", {"type": "object", "properties": {"a": {"type": "string", "pattern": p}}, "required": ["a"]})
        for k, p in enumerate(["^[^<>|]+$", "^.+$", "^\\S+$", "^[a-z]+\\W[a-z]+$"])
    ]
    probe = Probe(real_backend, grammar(*tools))
    for k, value in enumerate(["C:\\Users\\me", 'say "hi"', 'no"space\\', "hello world"]):
        assert probe.ends(body("hermes", f"p{k}", a=value)), (k, value)
    assert not probe.ends(body("hermes", "p0", a="a|b"))


@pytest.mark.parametrize(
    "pattern", ["^(a?){0,100}$", "^([a-z]*){0,40}$", "^([a-z]+)*$", "^.{0,20000}$", "^a*+$", "^()*$"]
)
def test_patterns_that_stall_or_crash_llama_cpp_leave_the_string_free(pattern, real_backend):
    """Repeats of repeats made llama.cpp's sampler take 81 s a token; {0,20000} crashed the
    process while llama.cpp parsed the grammar; possessive repeats and () were refused, and
    then every tool lost its grammar."""
    assert grammar_pattern(pattern) is None
    tool = mcp_tool("odd", {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}})
    probe = Probe(real_backend, grammar(tool))  # compiles, the other tools' rules with it
    assert probe.ends(body("hermes", "run_shell", command="ls"))
    assert grammar_pattern("^a{,3}$") == "^(a{0,3})$"  # {,m} is a repeat, as the validator reads it


def test_a_property_named_like_a_schema_keyword_keeps_its_place(real_backend):
    """A property named `definitions` (or `$defs`) was dropped with the tables it shares a
    name with: the tool, its schema requiring it, could never be called."""
    schema = {
        "type": "object",
        "properties": {"word": {"type": "string"}, "definitions": {"type": "array", "items": {"type": "string"}}},
        "required": ["word", "definitions"],
    }
    probe = Probe(real_backend, grammar(mcp_tool("dictionary", schema)))
    assert probe.ends(body("hermes", "dictionary", word="tree", definitions=["a plant"]))
