"""Each dialect renders tools, formats and parses calls, renders results, and builds a grammar."""

from __future__ import annotations

import pytest

from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.tools import Tool, ToolCall

TOOLS = [
    Tool("run_shell", "Run a shell command", {"type": "object", "properties": {"command": {"type": "string"}},
                                              "required": ["command"]}, "exec", lambda a, c: "", summary="run a command"),
    Tool("write_file", "Write a file", {"type": "object", "properties": {
        "path": {"type": "string"}, "content": {"type": "string"},
        "mode": {"type": "string", "enum": ["overwrite", "append"]}}, "required": ["path", "content"]},
         "write", lambda a, c: "", summary="write a file"),
]
ARGS = {"path": "notes/a b.txt", "content": "line 1\nline \"2\"", "mode": "append"}


@pytest.mark.parametrize("name", list(DIALECTS))
def test_format_then_parse_roundtrip(name):
    dialect = get_dialect(name)
    text = "Sure. " + dialect.format_call(ToolCall("write_file", ARGS)) + "\n" + dialect.format_call(
        ToolCall("run_shell", {"command": "ls -la"}))
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
def test_grammar_compiles_in_llama_cpp(name):
    from llama_cpp import LlamaGrammar

    gbnf = get_dialect(name).grammar(TOOLS)
    assert "run_shell" in gbnf
    LlamaGrammar.from_string(gbnf, verbose=False)


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
    assert '"call:write_file{" "path:" str "," "content:" str ("," opt1)* "}"' in gbnf
    assert 'opt1 ::= "mode:" ("<escape>overwrite<escape>" | "<escape>append<escape>")' in gbnf
