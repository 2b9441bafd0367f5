"""Each dialect renders tools, formats and parses calls, renders results, and builds a grammar."""

from __future__ import annotations

import pytest

from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.tools import Tool, ToolCall

TOOLS = [
    Tool(
        "run_shell",
        "Run a shell command",
        {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        "exec",
        lambda a, c: "",
        summary="run a command",
    ),
    Tool(
        "write_file",
        "Write a file",
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"},
                "mode": {"type": "string", "enum": ["overwrite", "append"]},
            },
            "required": ["path", "content"],
        },
        "write",
        lambda a, c: "",
        summary="write a file",
    ),
]
ARGS = {"path": "notes/a b.txt", "content": 'line 1\nline "2"', "mode": "append"}
# A plugin with arrays, nested and untyped objects, and an untyped value.
PLUGIN = Tool(
    "plug",
    "A plugin",
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "opts": {
                "type": "object",
                "properties": {"n": {"type": "integer"}, "deep": {"type": "object"}},
                "required": ["n"],
            },
            "any": {},
            "many": {"type": "array", "maxItems": 5000},
            "short": {"type": "string", "maxLength": 5},
        },
        "required": ["tags"],
    },
    "read",
    lambda a, c: "",
    source="plugin",
)
# The string that stands for a value in each dialect's call text.
PLACEHOLDER = {"functiongemma": "<escape>PLACEHOLDER<escape>"}


@pytest.mark.parametrize("name", list(DIALECTS))
def test_format_then_parse_roundtrip(name):
    dialect = get_dialect(name)
    text = (
        "Sure. "
        + dialect.format_call(ToolCall("write_file", ARGS))
        + "\n"
        + dialect.format_call(ToolCall("run_shell", {"command": "ls -la"}))
    )
    parsed = dialect.parse_calls(text)
    assert [p.call.name for p in parsed] == ["write_file", "run_shell"]
    assert parsed[0].call.arguments == ARGS
    assert parsed[1].call.arguments == {"command": "ls -la"}
    assert dialect.text_before_call(text) == "Sure. "


@pytest.mark.parametrize("name", list(DIALECTS))
def test_tool_block_names_every_tool(name):
    block = get_dialect(name).render_tools(TOOLS)
    assert "run_shell" in block and "write_file" in block


@pytest.mark.parametrize("name", list(DIALECTS))
def test_result_contains_output(name):
    assert "42 files" in get_dialect(name).render_result("run_shell", "42 files")


@pytest.mark.parametrize("name", list(DIALECTS))
def test_grammar_compiles_in_llama_cpp(name, real_backend):
    # LlamaGrammar.from_string only stores the text: llama.cpp parses it when a sampler is made.
    import llama_cpp

    gbnf = get_dialect(name).grammar(TOOLS + [PLUGIN])
    assert "run_shell" in gbnf
    sampler = llama_cpp.llama_sampler_init_grammar(real_backend.llm._model.vocab, gbnf.encode(), b"root")
    assert sampler, gbnf
    llama_cpp.llama_sampler_free(sampler)


def test_broken_calls_give_reasons():
    hermes = get_dialect("hermes")
    parsed = hermes.parse_calls('<tool_call>{"name": "run_shell", "arguments": {"command": </tool_call>')
    assert parsed[0].call is None and "malformed JSON" in parsed[0].error
    assert "expected <TOOL:name>" in get_dialect("thau").parse_calls("<TOOL:bad name{}</TOOL>")[0].error
    assert get_dialect("functiongemma").parse_calls("<start_function_call>call:x{a:<escape>oops")[0].error


def test_compact_block_marks_optional_arguments():
    assert "write_file(path, content, mode?) - write a file" in get_dialect("hermes").render_tools(TOOLS)


def test_unknown_dialect_names_the_choices():
    with pytest.raises(ValueError, match="hermes"):
        get_dialect("klingon")


def test_functiongemma_grammar_types_values_and_puts_required_first():
    gbnf = get_dialect("functiongemma").grammar(TOOLS)
    assert '"call:write_file" "{" "path:" str "," "content:" str ("," args1-opt){0,1} "}"' in gbnf
    assert 'args1-opt ::= "mode:" ("<escape>overwrite<escape>" | "<escape>append<escape>")' in gbnf


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_string_argument_may_hold_the_close_tag(name):
    """The call is read to the close tag after its arguments, not to the first close tag (issue 17)."""
    dialect = get_dialect(name)
    args = {"path": "t.html", "content": f"a {dialect.close_tag} b {dialect.open_tag}x c"}
    text = (
        "Here: "
        + dialect.format_call(ToolCall("write_file", args))
        + "\n"
        + dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    )
    parsed = dialect.parse_calls(text)
    assert [p.error for p in parsed] == [None, None]
    assert parsed[0].call.arguments == args
    assert parsed[1].call.name == "run_shell" and parsed[1].raw.startswith(dialect.open_tag)


@pytest.mark.parametrize("name", list(DIALECTS))
def test_deep_nesting_is_an_invalid_call_not_a_recursion_error(name):
    dialect = get_dialect(name)
    call = dialect.format_call(ToolCall("run_shell", {"command": "PLACEHOLDER"}))
    deep = "[" * 1000 + "]" * 1000
    text = call.replace(PLACEHOLDER.get(name, '"PLACEHOLDER"'), deep)
    assert deep in text
    parsed = dialect.parse_calls(text)
    assert parsed[0].call is None and "deeper than 32 levels" in parsed[0].error


def test_hermes_arguments_given_as_a_json_string_are_bounded_too():
    text = '<tool_call>{"name": "run_shell", "arguments": "' + "[" * 1000 + '"}</tool_call>'
    parsed = get_dialect("hermes").parse_calls(text)
    assert parsed[0].call is None and "deeper than 32 levels" in parsed[0].error


def test_a_raw_newline_inside_a_json_string_is_read():
    parsed = get_dialect("hermes").parse_calls(
        '<tool_call>{"name": "run_python", "arguments": {"code": "a\nb"}}</tool_call>'
    )
    assert parsed[0].call.arguments == {"code": "a\nb"}


def test_an_unclosed_call_that_cannot_be_read_says_so():
    parsed = get_dialect("hermes").parse_calls('<tool_call>{"name": "run_shell", "arguments": {"comm')
    assert parsed[0].call is None and "never closed with </tool_call>" in parsed[0].error


def test_functiongemma_writes_and_reads_arrays_and_objects():
    fg = get_dialect("functiongemma")
    args = {"tags": ["a", "b,c"], "opts": {"n": 3, "deep": {"ok": True, "none": None}}, "file name": "x"}
    text = fg.format_call(ToolCall("plug", args))
    assert text == (
        "<start_function_call>call:plug{tags:[<escape>a<escape>,<escape>b,c<escape>],"
        "opts:{n:3,deep:{ok:true,none:null}},<escape>file name<escape>:<escape>x<escape>}<end_function_call>"
    )
    assert fg.parse_calls(text)[0].call.arguments == args
    spaced = "<start_function_call>call:plug{ tags: [ <escape>a<escape> , 2 ] , opts:{n:1} }<end_function_call>"
    assert fg.parse_calls(spaced)[0].call.arguments == {"tags": ["a", 2], "opts": {"n": 1}}
    assert "unexpected text" in fg.parse_calls("<start_function_call>call:x{} junk<end_function_call>")[0].error


def test_functiongemma_grammar_types_arrays_and_objects():
    gbnf = get_dialect("functiongemma").grammar([PLUGIN])
    assert '"call:plug" "{" "tags:" args0-0' in gbnf
    assert 'args0-0 ::= "[" (str ("," str){0,63})? "]"' in gbnf
    assert 'args0-1 ::= "{" "n:" int ("," args0-1-opt){0,1} "}"' in gbnf
    assert 'args0-1-opt ::= "deep:" obj' in gbnf
    assert '"any:" val' in gbnf and '"short:" str' in gbnf


@pytest.mark.parametrize("name", list(DIALECTS))
def test_prose_ends_at_a_tag_the_model_should_not_write(name):
    dialect = get_dialect(name)
    result = dialect.render_result("run_shell", "ok").replace("\u2039", "<")
    for tag in (result, result.upper(), "< " + result[1:]):
        assert dialect.text_before_call("Done. " + tag + " more") == "Done. "
    assert dialect.text_before_call("a < b and c > d") == "a < b and c > d"


def test_functiongemma_declarations_are_written_as_its_documentation_shows():
    weather = Tool(
        "get_current_weather",
        "Gets the current weather in a given location.",
        {
            "type": "object",
            "required": ["location"],
            "properties": {
                "unit": {
                    "type": "string",
                    "enum": ["celsius", "fahrenheit"],
                    "default": "celsius",
                    "description": "The unit to return the temperature in.",
                },
                "location": {"type": "string", "description": "The city and state."},
            },
        },
        "read",
        lambda a, c: "",
    )
    assert get_dialect("functiongemma").render_tools([weather]) == (
        "You are a model that can do function calling with the following functions"
        "<start_function_declaration>declaration:get_current_weather{description:<escape>Gets the current "
        "weather in a given location.<escape>,parameters:{properties:{location:{description:<escape>The city "
        "and state.<escape>,type:<escape>STRING<escape>},unit:{description:<escape>The unit to return the "
        "temperature in.<escape>,enum:[<escape>celsius<escape>,<escape>fahrenheit<escape>],type:<escape>STRING"
        "<escape>}},required:[<escape>location<escape>],type:<escape>OBJECT<escape>}}<end_function_declaration>"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "hermes",
            '<tool_call>{"name": "generate_image", "arguments": {"prompt": "cat", "guidance": 1e999}}</tool_call>',
        ),
        (
            "functiongemma",
            "<start_function_call>call:generate_image{prompt:<escape>cat<escape>,guidance:-1e999}<end_function_call>",
        ),
    ],
)
def test_a_number_too_large_for_a_float_is_an_invalid_call(name, text):
    """From the engine review: NaN and Infinity were refused, but 1e999 became inf (the
    grammar allows exponents), passed any schema without both bounds, and went back to a
    server in every later request as `Infinity`, which is not JSON."""
    (parsed,) = get_dialect(name).parse_calls(text)
    assert parsed.call is None and "too large for a number" in (parsed.error or "")  # before: guidance inf
