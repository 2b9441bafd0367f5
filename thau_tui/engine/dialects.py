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

FunctionGemma's dialect, with the helpers only it uses, lives in dialect_functiongemma.py;
it is in DIALECTS, and importable, from here like the others.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ..tools.base import Tool, ToolCall
from .call_scanner import (  # noqa: F401  (MAX_* and ParsedCall are read from here too)
    _JSON,
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
from .gbnf import _block_rules, _json_schema_gbnf

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


# FunctionGemma's dialect subclasses Dialect, so its module is imported once Dialect exists.
from .dialect_functiongemma import FunctionGemmaDialect  # noqa: E402

# Typed as Dialect classes so mypy reads `name` from Dialect across the import cycle.
_ALL_DIALECTS: tuple[type[Dialect], ...] = (HermesDialect, ThauDialect, FunctionGemmaDialect, Stage3Dialect)
DIALECTS: dict[str, type[Dialect]] = {d.name: d for d in _ALL_DIALECTS}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; a clear error names the ones that exist."""
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}") from None
