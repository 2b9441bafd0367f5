"""The FunctionGemma dialect: calls, results and declarations as FunctionGemma's chat template writes them.

Split out of dialects.py, which puts it in DIALECTS (`get_dialect("functiongemma")`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ..tools.base import Tool, ToolCall
from .call_scanner import MAX_ITEMS
from .dialect_base import Dialect, _after_spaces, finite_float
from .gbnf import _block_rules, _gbnf_literal, _gbnf_repeat, _gbnf_without
from .gbnf_schema import bounded, tool_schema

_ESC = "<escape>"
_FG_BARE_KEY = re.compile(r"[A-Za-z_][\w.-]*")


def _fg_key(key: str) -> str:
    """A key as FunctionGemma writes it: bare, or between <escape> tokens when it is not a name."""
    return key if _FG_BARE_KEY.fullmatch(key) else f"{_ESC}{key}{_ESC}"


def _fg_value(value: Any) -> str:
    if isinstance(value, str):
        return f"{_ESC}{value}{_ESC}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_fg_key(str(k))}:{_fg_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_fg_value(v) for v in value) + "]"
    return f"{_ESC}{value}{_ESC}"


# The schema keys FunctionGemma's declarations carry; others (defaults, minimums, ...) are left out.
_FG_SCHEMA_KEYS = ("description", "enum", "items", "nullable", "properties", "required", "type")


def _fg_declared(schema: Any) -> Any:
    """A JSON Schema as a FunctionGemma declaration writes it: its keys sorted, types in capitals."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key in sorted(k for k in schema if k in _FG_SCHEMA_KEYS):
        value = schema[key]
        if key == "type":
            value = value.upper() if isinstance(value, str) else [str(v).upper() for v in value]
        elif key == "items":
            value = _fg_declared(value)
        elif key == "properties" and isinstance(value, dict):
            value = {k: _fg_declared(value[k]) for k in sorted(value)}
        out[key] = value
    return out


_FG_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")


class _FGReader:
    """Reads FunctionGemma's argument syntax: {k:<escape>v<escape>,n:3,b:true,l:[...],o:{...}}.

    Recursive, so the caller checks the nesting depth first (CallScanner)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at character {self.pos}: {self.text[:120]!r}")

    def skip(self) -> None:
        self.pos = _after_spaces(self.text, self.pos)

    def string(self) -> str:
        end = self.text.find(_ESC, self.pos + len(_ESC))
        if end < 0:
            raise self.fail("unclosed <escape> string")
        out = self.text[self.pos + len(_ESC) : end]
        self.pos = end + len(_ESC)
        return out

    def value(self) -> Any:
        t = self.text
        self.skip()
        if t.startswith(_ESC, self.pos):
            return self.string()
        if t.startswith("{", self.pos):
            return self.obj()
        if t.startswith("[", self.pos):
            self.pos += 1
            items = []
            self.skip()
            while not t.startswith("]", self.pos):
                items.append(self.value())
                self.skip()
                if t.startswith(",", self.pos):
                    self.pos += 1
                elif not t.startswith("]", self.pos):
                    raise self.fail("expected , or ]")
            self.pos += 1
            return items
        match = _FG_NUMBER.match(t, self.pos)
        if not match:
            raise self.fail("expected a value")
        self.pos = match.end()
        try:
            return json.loads(match.group(0), parse_float=finite_float)
        except ValueError as exc:
            raise self.fail(str(exc)) from exc

    def key(self) -> str:
        self.skip()
        if self.text.startswith(_ESC, self.pos):
            return self.string()
        match = _FG_BARE_KEY.match(self.text, self.pos)
        if not match:
            raise self.fail("expected key:")
        self.pos = match.end()
        return match.group(0)

    def obj(self) -> dict[str, Any]:
        t = self.text
        if not t.startswith("{", self.pos):
            raise self.fail("expected {")
        self.pos += 1
        out: dict[str, Any] = {}
        self.skip()
        while not t.startswith("}", self.pos):
            key = self.key()
            self.skip()
            if not t.startswith(":", self.pos):
                raise self.fail("expected key:")
            self.pos += 1
            out[key] = self.value()
            self.skip()
            if t.startswith(",", self.pos):
                self.pos += 1
                self.skip()
            elif not t.startswith("}", self.pos):
                raise self.fail("expected , or }")
        self.pos += 1
        return out


class FunctionGemmaDialect(Dialect):
    """<start_function_call>call:name{k:<escape>v<escape>}<end_function_call>

    Values are written as FunctionGemma's chat template formats arguments: a string
    between <escape> tokens, numbers, true, false and null bare, an array as [a,b],
    an object as {key:value} with bare keys (a key that is not a plain name goes between
    <escape> tokens). The grammar allows exactly these, typed by each argument's JSON
    Schema and nested as deep as the schema goes; the reader also takes spaces between
    items, and keys between <escape> tokens.

    What it cannot do: say a string that itself holds the text <escape> (FunctionGemma has
    no escape for its delimiter); write arguments in the template's order (keys sorted:
    the grammar asks for required arguments first, in the schema's order); and put the
    declarations in a developer turn as FunctionGemma's own template does: they go in the
    system message, which a template without a system role (prompt.py's Gemma fallback)
    turns into a user turn.
    """

    name = "functiongemma"
    open_tag = "<start_function_call>"
    close_tag = "<end_function_call>"
    result_role = "user"
    string_quote = _ESC
    string_backslash = False
    reserved_tags = (
        "<start_function_call>",
        "<end_function_call>",
        "<start_function_response>",
        "<end_function_response>",
        "<start_function_declaration>",
        "<end_function_declaration>",
        _ESC,  # would end the result's string early
    )

    def render_tools(self, tools: Iterable[Tool]) -> str:
        """FunctionGemma's declarations, after the sentence its documentation says turns
        function calling on: keys sorted, types in capitals, as its chat template writes them."""
        tools = list(tools)
        if not tools:
            return ""
        decls = []
        for tool in tools:
            params = {"type": "object", "properties": tool.parameters.get("properties", {})}
            if tool.parameters.get("required"):
                params["required"] = tool.parameters["required"]
            body = _fg_value({"description": tool.summary or tool.description, "parameters": _fg_declared(params)})
            decls.append(f"<start_function_declaration>declaration:{tool.name}{body}<end_function_declaration>")
        return "You are a model that can do function calling with the following functions" + "".join(decls)

    def format_call(self, call: ToolCall) -> str:
        return f"{self.open_tag}call:{call.name}{_fg_value(call.arguments)}{self.close_tag}"

    def _parse_body(self, body: str) -> ToolCall:
        match = re.match(r"call:([\w.-]+)", body)
        if not match:
            raise ValueError("expected call:NAME{arguments}")
        reader = _FGReader(body)
        reader.pos = match.end()
        reader.skip()
        args = reader.obj() if reader.pos < len(body) else {}
        reader.skip()
        if reader.pos < len(body):
            raise reader.fail("unexpected text after the arguments")
        return ToolCall(match.group(1), args)

    def _wrap_result(self, name: str, output: str) -> str:
        return f"<start_function_response>response:{name}{_fg_value({'value': output})}<end_function_response>"

    def grammar(self, tools: list[Tool]) -> str:
        """Required arguments first, in order, each value of its schema type; then optional ones."""
        rules = _FGRules()
        calls = []
        for i, tool in enumerate(
            tools
        ):  # a schema gbnf_schema.py finds unsafe (a literal no token writes...): any object
            args = rules.fields(tool.parameters, f"args{i}") if tool_schema(tool.parameters, i) else "obj"
            calls.append(f'"call:{tool.name}" {args}')
        lines = [f"tool-call ::= ({' | '.join(calls)})", *rules.lines, *_block_rules(self.open_tag, self.close_tag)]
        return "\n".join(lines) + "\n"


class _FGRules:
    """FunctionGemma's value rules from JSON Schemas: what _fg_value writes, by type."""

    def __init__(self) -> None:
        esc = _gbnf_literal(_ESC)
        more = f"{{0,{MAX_ITEMS - 1}}}"
        self.lines = [
            f"str ::= {esc} str-0",
            *_gbnf_without("str", _ESC),
            'int ::= "-"? [0-9]{1,12}',
            'num ::= "-"? [0-9]{1,12} ("." [0-9]{1,12})?',
            'bool ::= "true" | "false"',
            'null ::= "null"',
            "val ::= str | num | bool | null | arr | obj",
            f'arr ::= "[" (val ("," val){more})? "]"',
            f'obj ::= "{{" (key ":" val ("," key ":" val){more})? "}}"',
            "key ::= [A-Za-z_] [A-Za-z0-9_.-]{0,63}",
        ]

    def value(self, schema: Any, name: str) -> str:
        """The rule for one value of `schema`, adding named rules for arrays and objects."""
        if not isinstance(schema, dict):
            return "val"
        if "const" in schema:
            return _gbnf_literal(_fg_value(schema["const"]))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return "(" + " | ".join(_gbnf_literal(_fg_value(v)) for v in schema["enum"]) + ")"
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return "(" + " | ".join(self.value(s, f"{name}-{i}") for i, s in enumerate(schema[key])) + ")"
        kind = schema.get("type")
        if isinstance(kind, list) and kind:
            return "(" + " | ".join(self.value({**schema, "type": t}, f"{name}-{i}") for i, t in enumerate(kind)) + ")"
        if kind == "array":
            item = self.value(schema.get("items", {}), f"{name}-item")
            bounds = bounded(schema)
            low, high = bounds.get("minItems", 0), bounds.get("maxItems", MAX_ITEMS)
            self.lines.append(f'{name} ::= "[" {_gbnf_repeat(item, low, max(low, high))} "]"')
            return name
        if kind == "object" and isinstance(schema.get("properties"), dict) and schema["properties"]:
            self.lines.append(f"{name} ::= {self.fields(schema, name)}")
            return name
        if not isinstance(kind, str):  # none, or an empty list of types
            return "val"
        return {
            "string": "str",
            "integer": "int",
            "number": "num",
            "boolean": "bool",
            "null": "null",
            "object": "obj",
        }.get(kind, "val")

    def fields(self, schema: dict[str, Any], name: str) -> str:
        """{key:value,...} for an object schema: required keys first, in order, then optional ones."""
        props = schema.get("properties") or {}
        required = [k for k in dict.fromkeys(schema.get("required") or []) if k in props]
        optional = [k for k in props if k not in required]
        pairs = {
            k: f"{_gbnf_literal(_fg_key(k) + ':')} {self.value(props[k], f'{name}-{i}')}" for i, k in enumerate(props)
        }
        body = ' "," '.join(pairs[k] for k in required)
        if optional:
            self.lines.append(f"{name}-opt ::= " + " | ".join(pairs[k] for k in optional))
            if body:
                body += f' ("," {name}-opt){{0,{len(optional)}}}'
            else:
                body = _gbnf_repeat(f"{name}-opt", 0, len(optional))
        return f'"{{" {body} "}}"' if body else '"{}"'
