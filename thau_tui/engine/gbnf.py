"""GBNF for tool calls: JSON Schemas to grammar rules (llama-cpp-python's converter),
with bounds on strings and arrays, and the rules around a block of calls."""

from __future__ import annotations

import json
from typing import Callable

from ..tools.base import Tool
from .call_scanner import MAX_ITEMS
from .gbnf_schema import tool_schema
from .llama_compat import GrammarRules


def _bound_primitives(rules: GrammarRules) -> None:
    """Untyped arrays and objects (the converter's own rules, which ignore maxItems) get
    MAX_ITEMS too; a JSON string holds no raw control character, only its escape, as JSON
    requires (the parser still reads a raw one from text written without the grammar)."""
    more = f"{{0,{MAX_ITEMS - 1}}}"
    if "array" in rules:
        rules["array"] = f'"[" space ( value ("," space value){more} )? "]" space'
    if "object" in rules:
        pair = 'string ":" space value'
        rules["object"] = f'"{{" space ( {pair} ("," space {pair}){more} )? "}}" space'
    if "char" in rules:
        rules["char"] = r'[^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])'


def _json_schema_gbnf(tools: list[Tool], call_rule: Callable[[dict[str, str]], str]) -> str:
    """Rules for `tool-call` (one call, any tool) whose argument rules come from the JSON Schemas."""
    from llama_cpp.llama_grammar import SchemaConverter

    # One plugin or MCP schema the converter cannot take ($ref to $defs it cannot follow,
    # `not`, a look-ahead pattern, a `true` subschema) raised out of every call's grammar, so
    # no tool could be called at all. Such a tool's arguments get the generic object rule
    # (validation still checks them against the schema); a failed visit leaves half its rules
    # behind, so the grammar starts over without it. Each schema is converted once when all
    # are fine: this runs each time the model opens a call.
    generic: set[str] = set()
    while True:
        converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
        arg_rules: dict[str, str] = {}
        try:
            for index, tool in enumerate(tools):
                failing = tool.name
                schema = None if tool.name in generic else tool_schema(tool.parameters, index)
                if schema is None:  # gbnf_schema.py: what the converter cannot take safely
                    arg_rules[tool.name] = converter.visit({"type": "object"}, f"args{index}")
                    continue
                arg_rules[tool.name] = converter.visit(converter.resolve_refs(schema, ""), f"args{index}")
        except Exception:
            if failing in generic:  # the generic rule itself failed: nothing left to fall back on
                raise
            generic.add(failing)
            continue
        break
    rules = GrammarRules(converter)
    _bound_primitives(rules)
    rules.add("tool-call", call_rule(arg_rules))
    return rules.text()


def _gbnf_literal(text: str) -> str:
    return json.dumps(text)


def _gbnf_class_char(char: str) -> str:
    return "\\" + char if char in "\\]^-" else char


def _block_rules(open_tag: str, close_tag: str) -> list[str]:
    """The call block: a call, then more calls or a way out. After a close tag the model may
    end, open another call, or write anything else (`free-text`: any text that does not begin
    with the open tag), which generate.py reads as the end of the block. So a newline after a
    call is never forced into a second call, and a result tag the model starts to write
    itself is not forced into one either."""
    tag, close = _gbnf_literal(open_tag), _gbnf_literal(close_tag)
    lines = [
        f"root ::= tool-call {close} after-call",
        f"after-call ::= [ \\t\\r\\n]{{0,4}} ({tag} tool-call {close} after-call | free-text)?",
    ]
    for k, char in enumerate(open_tag):
        name = f"free-text-{k}" if k else "free-text"
        other = _gbnf_class_char(char) + (" \\t\\r\\n" if k == 0 else "")
        more = f" | {_gbnf_literal(char)} free-text-{k + 1}" if k + 1 < len(open_tag) else ""
        lines.append(f"{name} ::= [^{other}] .*{more}")
    return lines


# Stands in for the "<" of a reserved tag inside a result: readable, and never part of a tag.
def _gbnf_without(name: str, tag: str) -> list[str]:
    """Rules for text up to and including the first `tag`, which it does not otherwise hold:
    a small automaton, state k having just read tag[:k]. `tag` starts with its only "<"."""
    rules = [f'{name}-0 ::= [^<] {name}-0 | "<" {name}-1']
    for k in range(1, len(tag)):
        char = tag[k]
        step = f"{_gbnf_literal(char)} {name}-{k + 1}" if k + 1 < len(tag) else _gbnf_literal(char)
        rules.append(f'{name}-{k} ::= [^<{_gbnf_class_char(char)}] {name}-0 | "<" {name}-1 | {step}')
    return rules


def _gbnf_repeat(item: str, low: int, high: int) -> str:
    """`low` to `high` comma-separated items."""
    if high <= 0:
        return ""
    if low <= 0:
        rest = f' ("," {item}){{0,{high - 1}}}' if high > 1 else ""
        return f"({item}{rest})?"
    rest = f' ("," {item}){{{low - 1},{high - 1}}}' if high > 1 else ""
    return f"{item}{rest}"
