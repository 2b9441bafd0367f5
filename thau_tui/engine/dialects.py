"""Tool-call dialects: how tools are shown to the model and how calls are found.

Each dialect knows four things: the tool block for the system prompt, the tag
that opens a call in the stream, how to parse a call's text, and how to render
a result. A result is tool output, so anyone who controls a file or a web page
controls it: the dialect's own tags inside it are defused before it is wrapped,
so a result cannot close its block and forge a call. `grammar()` gives the GBNF that constrains everything after the open
tag (one or more calls, nothing else), built from the tools' JSON Schemas with
llama-cpp-python's converter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from ..tools.base import Tool, ToolCall


@dataclass
class ParsedCall:
    """A call found in the model's text, or the reason it could not be read."""

    call: ToolCall | None
    error: str | None = None
    raw: str = ""


def _json_schema_gbnf(tools: list[Tool], make_root) -> str:
    """Build a grammar whose per-tool argument rules come from the JSON Schemas."""
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    arg_rules: dict[str, str] = {}
    for index, tool in enumerate(tools):
        schema = dict(tool.parameters)
        schema.setdefault("additionalProperties", False)
        arg_rules[tool.name] = converter.visit(schema, f"args{index}")
    converter._add_rule("root", make_root(arg_rules))
    return converter.format_grammar()


def _gbnf_literal(text: str) -> str:
    return json.dumps(text)


# Stands in for the "<" of a reserved tag inside a result: readable, and never part of a tag.
DEFUSED_LT = "\u2039"


def _reserved_pattern(tags: Iterable[str]) -> re.Pattern[str]:
    """Matches any of `tags`, ignoring case and stray spaces after "<", after "</" and before ">"."""
    parts = []
    for tag in sorted(set(tags), key=len, reverse=True):
        rest = tag[1:]
        slash = r"/\s*" if rest.startswith("/") else ""
        rest = rest[1:] if slash else rest
        end = r"\s*>" if rest.endswith(">") else ""
        rest = rest[:-1] if end else rest
        parts.append(r"<\s*" + slash + re.escape(rest) + end)
    return re.compile("|".join(parts), re.IGNORECASE)


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
    _reserved: re.Pattern[str] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [t for t in (cls.open_tag, cls.close_tag) if t and t not in cls.reserved_tags]
        if missing:
            raise TypeError(f"{cls.__name__}.reserved_tags must include {', '.join(missing)}")
        cls._reserved = _reserved_pattern(cls.reserved_tags) if cls.reserved_tags else None

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
        args = data.get("arguments", data.get("parameters", {}))
        if isinstance(args, str):
            args = _loads(args)
        return ToolCall(str(data["name"]), args)

    def parse_calls(self, text: str) -> list[ParsedCall]:
        """Every call in `text`, in order. An unclosed call at the end is read too."""
        found: list[ParsedCall] = []
        start = 0
        while True:
            at = text.find(self.open_tag, start)
            if at < 0:
                return found
            body_start = at + len(self.open_tag)
            end = text.find(self.close_tag, body_start)
            body = text[body_start:] if end < 0 else text[body_start:end]
            raw = text[at:] if end < 0 else text[at : end + len(self.close_tag)]
            try:
                call = self._parse_body(body.strip())
                call.raw = raw
                found.append(ParsedCall(call, None, raw))
            except ValueError as exc:
                found.append(ParsedCall(None, f"could not read the tool call: {exc}", raw))
            if end < 0:
                return found
            start = end + len(self.close_tag)

    def text_before_call(self, text: str) -> str:
        at = text.find(self.open_tag)
        return text if at < 0 else text[:at]

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
        """GBNF for the text after the first open tag: a call, then optionally more calls."""

        def root(arg_rules: dict[str, str]) -> str:
            call = self._call_rule(arg_rules)
            again = f'("\\n" {_gbnf_literal(self.open_tag)} {call} {_gbnf_literal(self.close_tag)})*'
            return f"{call} {_gbnf_literal(self.close_tag)} {again}"

        return _json_schema_gbnf(tools, root)


def _loads(body: str) -> Any:
    try:
        return json.loads(body)
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
        options = [
            f'"{{\\"name\\": \\"{name}\\", \\"arguments\\": " {rule} "}}"' for name, rule in arg_rules.items()
        ]
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
        match = re.match(r"Tool:\s*([\w.-]+)\s*\n\s*Arguments:\s*(.*)\Z", body, re.S)
        if not match:
            raise ValueError("expected 'Tool: NAME' then 'Arguments: {json}'")
        return ToolCall(match.group(1), _loads(match.group(2).strip() or "{}"))

    def _wrap_result(self, name: str, output: str) -> str:
        return f"<|tool_result|>Tool: {name}\nOutput: {output}<|end|>"

    def _call_rule(self, arg_rules: dict[str, str]) -> str:
        return "(" + " | ".join(f'"Tool: {name}\\nArguments: " {rule}' for name, rule in arg_rules.items()) + ")"


_ESC = "<escape>"


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
        return "{" + ",".join(f"{k}:{_fg_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_fg_value(v) for v in value) + "]"
    return f"{_ESC}{value}{_ESC}"


class _FGReader:
    """Reads FunctionGemma's argument syntax: {k:<escape>v<escape>,n:3,b:true,l:[...]}."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at character {self.pos}: {self.text[:120]!r}")

    def value(self) -> Any:
        t = self.text
        if t.startswith(_ESC, self.pos):
            end = t.find(_ESC, self.pos + len(_ESC))
            if end < 0:
                raise self.fail("unclosed <escape> string")
            out = t[self.pos + len(_ESC) : end]
            self.pos = end + len(_ESC)
            return out
        if t.startswith("{", self.pos):
            return self.obj()
        if t.startswith("[", self.pos):
            self.pos += 1
            items = []
            while not t.startswith("]", self.pos):
                items.append(self.value())
                if t.startswith(",", self.pos):
                    self.pos += 1
                elif not t.startswith("]", self.pos):
                    raise self.fail("expected , or ]")
            self.pos += 1
            return items
        match = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(t, self.pos)
        if not match:
            raise self.fail("expected a value")
        self.pos = match.end()
        return json.loads(match.group(0))

    def obj(self) -> dict[str, Any]:
        t = self.text
        if not t.startswith("{", self.pos):
            raise self.fail("expected {")
        self.pos += 1
        out: dict[str, Any] = {}
        while not t.startswith("}", self.pos):
            match = re.compile(r"\s*([A-Za-z_][\w-]*)\s*:").match(t, self.pos)
            if not match:
                raise self.fail("expected key:")
            self.pos = match.end()
            out[match.group(1)] = self.value()
            if t.startswith(",", self.pos):
                self.pos += 1
            elif not t.startswith("}", self.pos):
                raise self.fail("expected , or }")
        self.pos += 1
        return out


class FunctionGemmaDialect(Dialect):
    """<start_function_call>call:name{k:<escape>v<escape>}<end_function_call>"""

    name = "functiongemma"
    open_tag = "<start_function_call>"
    close_tag = "<end_function_call>"
    result_role = "user"
    reserved_tags = (
        "<start_function_call>", "<end_function_call>",
        "<start_function_response>", "<end_function_response>",
        "<start_function_declaration>", "<end_function_declaration>",
        _ESC,  # would end the result's string early
    )

    def render_tools(self, tools: Iterable[Tool]) -> str:
        tools = list(tools)
        if not tools:
            return ""
        decls = []
        for tool in tools:
            params = {"type": "object", "properties": tool.parameters.get("properties", {})}
            if tool.parameters.get("required"):
                params["required"] = tool.parameters["required"]
            body = _fg_value({"description": tool.summary or tool.description, "parameters": params})
            decls.append(f"<start_function_declaration>declaration:{tool.name}{body}<end_function_declaration>")
        return "You can call these functions:\n" + "\n".join(decls)

    def format_call(self, call: ToolCall) -> str:
        return f"{self.open_tag}call:{call.name}{_fg_value(call.arguments)}{self.close_tag}"

    def _parse_body(self, body: str) -> ToolCall:
        match = re.match(r"call:([\w.-]+)", body)
        if not match:
            raise ValueError("expected call:NAME{arguments}")
        reader = _FGReader(body)
        reader.pos = match.end()
        args = reader.obj() if reader.pos < len(body) else {}
        return ToolCall(match.group(1), args)

    def _wrap_result(self, name: str, output: str) -> str:
        return (
            f"<start_function_response>response:{name}{_fg_value({'value': output})}"
            "<end_function_response>"
        )

    def grammar(self, tools: list[Tool]) -> str:
        """Required arguments first, in order, each value of its schema type; then optional ones."""
        esc = _gbnf_literal(_ESC)
        lines = [
            f"str ::= {esc} [^<]* {esc}",
            'int ::= "-"? [0-9]+',
            'num ::= "-"? [0-9]+ ("." [0-9]+)?',
            'bool ::= "true" | "false"',
            "val ::= str | num | bool",
        ]
        calls = []
        for index, tool in enumerate(tools):
            props = tool.parameters.get("properties", {})
            required = [k for k in tool.parameters.get("required", []) if k in props]
            optional = [k for k in props if k not in required]
            pairs = {k: f'"{k}:" {_fg_value_rule(props[k])}' for k in props}
            body = ' "," '.join(pairs[k] for k in required)
            if optional:
                lines.append(f"opt{index} ::= " + " | ".join(pairs[k] for k in optional))
                body = f'{body} ("," opt{index})*' if required else f"(opt{index} (\",\" opt{index})*)?"
            calls.append(f'"call:{tool.name}{{" {body} "}}"' if body else f'"call:{tool.name}{{}}"')
        call = "(" + " | ".join(calls) + ")"
        close = _gbnf_literal(self.close_tag)
        again = f'("\\n" {_gbnf_literal(self.open_tag)} {call} {close})*'
        return "\n".join([f"root ::= {call} {close} {again}", *lines]) + "\n"


def _fg_value_rule(schema: dict[str, Any]) -> str:
    """The grammar for one argument's value in FunctionGemma's syntax, by JSON Schema type."""
    if "enum" in schema:
        return "(" + " | ".join(_gbnf_literal(_fg_value(v)) for v in schema["enum"]) + ")"
    return {"string": "str", "integer": "int", "number": "num", "boolean": "bool"}.get(schema.get("type"), "val")


DIALECTS: dict[str, type[Dialect]] = {
    d.name: d for d in (HermesDialect, ThauDialect, FunctionGemmaDialect, Stage3Dialect)
}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; a clear error names the ones that exist."""
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}") from None
