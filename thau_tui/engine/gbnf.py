"""GBNF for tool calls: JSON Schemas to grammar rules (llama-cpp-python's converter),
with bounds on strings and arrays, and the rules around a block of calls."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from ..tools.base import Tool
from .call_scanner import MAX_ITEMS
from .llama_compat import GrammarRules

# A schema bound above this is left to validation: the GBNF spells every step of a bound out.
_GRAMMAR_MAX_BOUND = 256


# llama-cpp-python's converter copies a regex escape it does not know into the GBNF as it
# is, and llama.cpp's grammar parser knows none of \d \w \s \. \- \/ \$: a plugin or MCP
# schema with "pattern": "^\\d+\\.\\d+$" made the grammar fail to parse, and llama.cpp then
# crashed the whole app (a segmentation fault) as soon as the model opened a call.
_CLASSES = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " \\t\\n\\r"}
# A raw quote or backslash would end or break the JSON string the pattern's value sits in.
_JSON_ESCAPED = "\\x22\\x5C"
_HEX = re.compile(r"x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}")


def grammar_pattern(pattern: str) -> str | None:
    """A JSON Schema `pattern` spelt with only what the converter carries into GBNF intact:
    \\d \\w \\s as classes, an escaped sign as its hex code in a class, no raw quote or
    backslash in a class that negates. None where that cannot be done (\\b, back-references,
    a quote or backslash the JSON string would have to escape): the grammar then leaves the
    string free, and validation still checks the pattern."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        return None  # unanchored, JSON Schema's pattern matches anywhere: the converter refuses it
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            hex_code = _HEX.match(pattern, i + 1)
            if following.lower() in _CLASSES and following:
                if in_class and following.isupper():
                    return None  # a negated class inside a class: GBNF has no way to say it
                body = _CLASSES[following.lower()]
                out.append(body if in_class else f"[^{_JSON_ESCAPED}{body}]" if following.isupper() else f"[{body}]")
            elif hex_code and chr(int(hex_code.group()[1:], 16)) in '"\\':
                return None
            elif following in ("t", "n", "r") or hex_code:
                escape = hex_code.group() if hex_code else following
                out.append(f"\\{escape}" if in_class else f"[\\{escape}]")
            elif following and following.isascii() and not following.isalnum() and following not in '"\\':
                code = f"\\x{ord(following):02X}"
                out.append(code if in_class else f"[{code}]")
            else:
                return None
            i += 2 + (len(hex_code.group()) - 1 if hex_code else 0)
            continue
        if char == '"':
            return None
        if char == "[" and not in_class:
            in_class = True
            if pattern.startswith("[^", i):  # "anything but": never a raw quote or backslash
                out.append(f"[^{_JSON_ESCAPED}")
                i += 2
                continue
        elif char == "]" and in_class and not out[-1].endswith("["):
            in_class = False
        out.append(char)
        i += 1
    return None if in_class else "".join(out)


def _grammar_schema(schema: Any) -> Any:
    """A copy of a JSON Schema with the bounds the grammar enforces: MAX_ITEMS for an array
    that sets none, and no bound so large that the GBNF would have to spell it out."""
    if isinstance(schema, list):
        return [_grammar_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("items", "additionalProperties", "not", "contains"):
        if isinstance(out.get(key), (dict, list)):
            out[key] = _grammar_schema(out[key])
    for key in ("properties", "$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _grammar_schema(v) for k, v in out[key].items()}
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(out.get(key), list):
            out[key] = [_grammar_schema(v) for v in out[key]]
    if isinstance(out.get("pattern"), str):
        pattern = grammar_pattern(out["pattern"])
        if pattern is None:
            out.pop("pattern")
        else:
            out["pattern"] = pattern
    out.pop("patternProperties", None)  # its keys are patterns too; validation checks them
    kind = out.get("type")
    types = kind if isinstance(kind, list) else [kind]
    if "array" in types:
        out.setdefault("maxItems", MAX_ITEMS)
    for key in ("minItems", "maxItems", "minLength", "maxLength"):
        if not isinstance(out.get(key, 0), int) or out.get(key, 0) > _GRAMMAR_MAX_BOUND:
            out.pop(key)
    return out


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
                if tool.name in generic:
                    arg_rules[tool.name] = converter.visit({"type": "object"}, f"args{index}")
                    continue
                schema = _grammar_schema(dict(tool.parameters))
                schema.setdefault("additionalProperties", False)
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
