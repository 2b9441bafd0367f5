"""Tool-call dialects: how tools are shown to the model and how calls are found.

Each dialect knows four things: the tool block for the system prompt, the tag
that opens a call in the stream, how to parse a call's text, and how to render
a result. A result is tool output, so anyone who controls a file or a web page
controls it: the dialect's own tags inside it are defused before it is wrapped,
so a result cannot close its block and forge a call. `grammar()` gives the GBNF
that constrains everything after the open tag (one or more calls, then the way
back out), built from the tools' JSON Schemas with llama-cpp-python's converter.

A call is read to its real end: the close tag that follows the arguments, not
the first close tag in the text, so a string argument may hold the close tag
itself. Reading is one pass (CallScanner) and bounded (MAX_CALL_CHARS,
MAX_DEPTH) before anything parses it, so no text, however hostile, costs more
than linear time or reaches Python's recursion limit.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ..tools.base import Tool, ToolCall
from .call_scanner import (  # noqa: F401  (MAX_* and ParsedCall are read from here too)
    _JSON,
    MAX_ITEMS,
    CallScanner,
    _Lexer,
)
from .call_scanner import (
    MAX_CALL_CHARS as MAX_CALL_CHARS,
)
from .call_scanner import (
    MAX_DEPTH as MAX_DEPTH,
)
from .call_scanner import (
    MAX_STRING_CHARS as MAX_STRING_CHARS,
)
from .call_scanner import (
    ParsedCall as ParsedCall,
)
from .gbnf import _block_rules, _gbnf_literal, _gbnf_repeat, _gbnf_without, _grammar_schema, _json_schema_gbnf

DEFUSED_LT = "\u2039"


def _reserved_pattern(tags: Iterable[str], space: str = r"\s*", flags: int = 0) -> re.Pattern[str]:
    """Matches any of `tags`, ignoring case and stray spaces after "<", after "</" and before ">"."""
    parts = []
    for tag in sorted(set(tags), key=len, reverse=True):
        rest = tag[1:]
        slash = "/" + space if rest.startswith("/") else ""
        rest = rest[1:] if slash else rest
        end = space + ">" if rest.endswith(">") else ""
        rest = rest[:-1] if end else rest
        parts.append("<" + space + slash + re.escape(rest) + end)
    return re.compile("|".join(parts), re.IGNORECASE | flags)


# In the model's own text a tag may carry a few stray spaces; a bound keeps the longest
# possible tag short, so generate.py holds back only that much text from the screen. ASCII
# only (no Unicode case folding: "ſ" is not "s"), so partial_tag_len can tell exactly
# which text may still become a tag.
_STOP_SPACE = r"\s{0,3}"


BUILTIN_INTRO = "You can use tools. To call a tool, write exactly:\n{example}\nthen stop and wait for the result."


# Control tokens of the chat templates thau renders: ChatML and Llama 3 style `<|...|>`,
# Gemma's turn markers, and the usual bos/eos spellings.
_TEMPLATE_TOKEN = re.compile(
    r"<\|[A-Za-z0-9_]{1,40}\|>|</?(?:start_of_turn|end_of_turn|bos|eos|s|pad)>|\[/?INST\]",
)


class Dialect:
    """Base: a JSON-bodied call between two tags."""

    name = "base"
    open_tag = ""
    close_tag = ""
    result_role = "tool"
    # Every tag this dialect writes or reads (calls, results, its special tokens);
    # render_result defuses them inside a result. A dialect must list at least
    # its open and close tags, and its tests check the result wrapper is covered.
    reserved_tags: tuple[str, ...] = ()
    # How a string inside a call is delimited (JSON's by default).
    string_quote = '"'
    string_backslash = True
    _reserved: re.Pattern[str] | None = None
    _stops: re.Pattern[str] | None = None
    _tag_forms: tuple[str, ...] = ()  # the reserved tags, lower case
    _tag_span: int = 0  # the longest text partial_tag_len looks back over
    _lexer: _Lexer

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [t for t in (cls.open_tag, cls.close_tag) if t and t not in cls.reserved_tags]
        if missing:
            raise TypeError(f"{cls.__name__}.reserved_tags must include {', '.join(missing)}")
        cls._reserved = _reserved_pattern(cls.reserved_tags) if cls.reserved_tags else None
        cls._stops = _reserved_pattern(cls.reserved_tags, _STOP_SPACE, re.ASCII) if cls.reserved_tags else None
        cls._tag_forms = tuple({t.lower() for t in cls.reserved_tags})
        cls._tag_span = max((len(t) for t in cls.reserved_tags), default=0) + 9  # three spots for spaces
        cls._lexer = _Lexer(cls.close_tag, cls.string_quote, cls.string_backslash)

    # --- showing tools ---------------------------------------------------------
    def example(self) -> str:
        return self.format_call(ToolCall("TOOL_NAME", {"ARGUMENT": "VALUE"}))

    def render_tools(self, tools: Iterable[Tool]) -> str:
        """The tool block: one compact line per built-in, full JSON Schema for plugins."""
        tools = list(tools)
        if not tools:
            return ""
        lines = [BUILTIN_INTRO.format(example=self.example()), "Tools:"]
        plugins = []
        for tool in tools:
            if tool.source == "builtin":
                lines.append(f"- {tool.compact()}")
            else:
                plugins.append(tool)
        if plugins:
            lines.append("More tools, as JSON Schema:")
            lines.extend(json.dumps(t.schema()["function"], ensure_ascii=False) for t in plugins)
        return "\n".join(lines)

    # --- calls -----------------------------------------------------------------
    def format_call(self, call: ToolCall) -> str:
        body = json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False)
        return f"{self.open_tag}{body}{self.close_tag}"

    def _parse_body(self, body: str) -> ToolCall:
        data = _loads(body)
        if not isinstance(data, dict) or "name" not in data:
            raise ValueError('a call must be a JSON object with "name" and "arguments"')
        args: Any = data.get("arguments", data.get("parameters", {}))  # not always an object: validation says so
        if isinstance(args, str):
            args = _loads(args)
        return ToolCall(str(data["name"]), args)

    def scanner(self, start: int, max_string: int | None = None) -> CallScanner:
        """A scanner for the call body that starts at `start` (just after an open tag)."""
        return CallScanner(self._lexer, start, max_string)

    def parse_calls(self, text: str) -> list[ParsedCall]:
        """Every call in `text`, in order. Each is read to the close tag after its arguments
        (a close tag inside a string argument is part of the string). An unclosed call at
        the end is read too."""
        found: list[ParsedCall] = []
        start = 0
        while (at := text.find(self.open_tag, start)) >= 0:
            body_start = at + len(self.open_tag)
            scanner = self.scanner(body_start)
            end = scanner.feed(text)
            after = end + len(self.close_tag) if end >= 0 else len(text)
            raw = text[at:after]
            try:
                if (end if end >= 0 else len(text)) - body_start > MAX_CALL_CHARS:
                    raise ValueError(f"the call is longer than {MAX_CALL_CHARS} characters")
                if scanner.too_deep_at is not None:
                    raise ValueError(f"its arguments nest deeper than {MAX_DEPTH} levels")
                call = self._parse_body(text[body_start : after if end < 0 else end].strip())
                call.raw = raw
                found.append(ParsedCall(call, None, raw))
            except ValueError as exc:
                why = str(exc) if end >= 0 else f"it is never closed with {self.close_tag}, and {exc}"
                found.append(ParsedCall(None, f"could not read the tool call: {why}", raw))
            if end < 0:
                return found
            start = after
        return found

    def first_tag(self, text: str, start: int = 0) -> tuple[int, bool] | None:
        """Where the first of this dialect's tags begins in text[start:], and whether it is
        exactly the open tag (a call). Any other reserved tag, in any case or with a few
        stray spaces, is one the model should not write in its prose: a result it made up,
        a close tag with no call."""
        match = self._stops.search(text, start) if self._stops else None
        if match is None:
            return None
        return match.start(), text.startswith(self.open_tag, match.start())

    def partial_tag_len(self, text: str) -> int:
        """How many trailing characters of `text` may still grow into a tag (held back from
        the screen until they do or cannot). Errs long, never short."""
        at = text.rfind("<", max(0, len(text) - self._tag_span))
        if at < 0:
            return 0
        tail = text[at:]
        if not tail.isascii():
            return 0
        tail = "".join(tail.split()).lower()
        return len(text) - at if any(form.startswith(tail) for form in self._tag_forms) else 0

    def text_before_call(self, text: str) -> str:
        """The prose of a message: the text before its first tag (a call, or a tag it should not hold)."""
        found = self.first_tag(text)
        return text if found is None else text[: found[0]]

    # --- results ---------------------------------------------------------------
    def defuse(self, text: str) -> str:
        """`text` with every reserved tag's "<" replaced, so it can no longer open or close a block.

        Chat-template control tokens (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, ...) are
        defused too: the prompt is tokenized with special tokens on, so a file or a command's
        output that held one would otherwise end the tool's turn and open a forged one.
        """
        if self._reserved is not None:
            text = self._reserved.sub(lambda m: DEFUSED_LT + m.group(0)[1:], text)
        return _TEMPLATE_TOKEN.sub(lambda m: DEFUSED_LT + m.group(0)[1:], text)

    def render_result(self, name: str, output: str) -> str:
        """A tool's result as the model reads it; the dialect's tags inside are defused first."""
        return self._wrap_result(self.defuse(name), self.defuse(output))

    def _wrap_result(self, name: str, output: str) -> str:
        raise NotImplementedError

    # --- grammar ---------------------------------------------------------------
    def _call_rule(self, arg_rules: dict[str, str]) -> str:
        raise NotImplementedError

    def grammar(self, tools: list[Tool]) -> str:
        """GBNF for the text after the first open tag: a call, then more calls or a way out."""
        rules = _json_schema_gbnf(tools, self._call_rule)
        return rules.rstrip("\n") + "\n" + "\n".join(_block_rules(self.open_tag, self.close_tag)) + "\n"


def _json_depth(text: str) -> int:
    """How deep brackets nest in `text` read as JSON (strings skipped), up to MAX_DEPTH + 1."""
    scanner = CallScanner(_JSON, 0)
    scanner.feed(text)
    return MAX_DEPTH + 1 if scanner.too_deep_at is not None else scanner.depth


def _loads(body: str) -> Any:
    if _json_depth(body) > MAX_DEPTH:
        raise ValueError(f"its arguments nest deeper than {MAX_DEPTH} levels")
    try:
        # strict=False: a raw newline inside a string is read as one, as a person would
        return json.loads(body, strict=False)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc.msg} at character {exc.pos}): {body[:120]!r}") from exc


class HermesDialect(Dialect):
    name = "hermes"
    open_tag = "<tool_call>"
    close_tag = "</tool_call>"
    reserved_tags = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")

    def _wrap_result(self, name: str, output: str) -> str:
        return f"<tool_response>\n{output}\n</tool_response>"

    def _call_rule(self, arg_rules: dict[str, str]) -> str:
        options = [f'"{{\\"name\\": \\"{name}\\", \\"arguments\\": " {rule} "}}"' for name, rule in arg_rules.items()]
        return "(" + " | ".join(options) + ")"


class ThauDialect(Dialect):
    """<TOOL:name>{...}</TOOL>"""

    name = "thau"
    open_tag = "<TOOL:"
    close_tag = "</TOOL>"
    reserved_tags = ("<TOOL:", "</TOOL>", "<TOOL_RESULT:", "</TOOL_RESULT>")

    def format_call(self, call: ToolCall) -> str:
        return f"<TOOL:{call.name}>{json.dumps(call.arguments, ensure_ascii=False)}</TOOL>"

    def _parse_body(self, body: str) -> ToolCall:
        name, sep, rest = body.partition(">")
        if not sep or not re.fullmatch(r"[A-Za-z_][\w.-]*", name.strip()):
            raise ValueError("expected <TOOL:name>{arguments}</TOOL>")
        args = _loads(rest.strip() or "{}")
        return ToolCall(name.strip(), args)

    def _wrap_result(self, name: str, output: str) -> str:
        return f"<TOOL_RESULT:{name}>{output}</TOOL_RESULT>"

    def _call_rule(self, arg_rules: dict[str, str]) -> str:
        return "(" + " | ".join(f'"{name}>" {rule}' for name, rule in arg_rules.items()) + ")"


_SPACES = re.compile(r"\s*")


def _after_spaces(text: str, pos: int) -> int:
    """Where the whitespace that starts at `pos` ends."""
    spaces = _SPACES.match(text, pos)
    return spaces.end() if spaces else pos  # \s* always matches


_STAGE3_TOOL = re.compile(r"Tool:\s*([\w.-]+)")


class Stage3Dialect(Dialect):
    """<|tool_call|>Tool: N\\nArguments: {...}<|end|>"""

    name = "stage3"
    open_tag = "<|tool_call|>"
    close_tag = "<|end|>"
    reserved_tags = ("<|tool_call|>", "<|end|>", "<|tool_result|>")

    def format_call(self, call: ToolCall) -> str:
        args = json.dumps(call.arguments, ensure_ascii=False)
        return f"{self.open_tag}Tool: {call.name}\nArguments: {args}{self.close_tag}"

    def _parse_body(self, body: str) -> ToolCall:
        # By hand rather than one regex: "\s*\n\s*" backtracks quadratically over long whitespace.
        expected = "expected 'Tool: NAME' then 'Arguments: {json}'"
        match = _STAGE3_TOOL.match(body)
        if not match:
            raise ValueError(expected)
        gap = _after_spaces(body, match.end())
        if "\n" not in body[match.end() : gap] or not body.startswith("Arguments:", gap):
            raise ValueError(expected)
        rest = body[_after_spaces(body, gap + len("Arguments:")) :]
        return ToolCall(match.group(1), _loads(rest or "{}"))

    def _wrap_result(self, name: str, output: str) -> str:
        return f"<|tool_result|>Tool: {name}\nOutput: {output}<|end|>"

    def _call_rule(self, arg_rules: dict[str, str]) -> str:
        return "(" + " | ".join(f'"Tool: {name}\\nArguments: " {rule}' for name, rule in arg_rules.items()) + ")"


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
        return json.loads(match.group(0))

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
        calls = [f'"call:{tool.name}" {rules.fields(tool.parameters, f"args{i}")}' for i, tool in enumerate(tools)]
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
            bounds = _grammar_schema(schema)
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


DIALECTS: dict[str, type[Dialect]] = {
    d.name: d for d in (HermesDialect, ThauDialect, FunctionGemmaDialect, Stage3Dialect)
}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; a clear error names the ones that exist."""
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}") from None
