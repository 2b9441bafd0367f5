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

The Dialect base class and its readers live in dialect_base.py, FunctionGemma's dialect
in dialect_functiongemma.py; every dialect is in DIALECTS, and importable, from here.
"""

from __future__ import annotations

import json
import re

from ..tools.base import ToolCall
from .call_scanner import MAX_CALL_CHARS as MAX_CALL_CHARS
from .call_scanner import MAX_DEPTH as MAX_DEPTH
from .call_scanner import MAX_STRING_CHARS as MAX_STRING_CHARS
from .call_scanner import ParsedCall as ParsedCall
from .dialect_base import BUILTIN_INTRO as BUILTIN_INTRO
from .dialect_base import DEFUSED_LT as DEFUSED_LT
from .dialect_base import ControlTokens as ControlTokens
from .dialect_base import Dialect as Dialect
from .dialect_base import _after_spaces, _loads
from .dialect_base import _json_depth as _json_depth
from .dialect_base import defuse_tokens as defuse_tokens
from .dialect_base import read_arguments as read_arguments
from .dialect_functiongemma import FunctionGemmaDialect as FunctionGemmaDialect


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


DIALECTS: dict[str, type[Dialect]] = {
    d.name: d for d in (HermesDialect, ThauDialect, FunctionGemmaDialect, Stage3Dialect)
}


def get_dialect(name: str, vocab: ControlTokens | None = None) -> Dialect:
    """The dialect called `name` (defusing `vocab`, the loaded model's control tokens, where
    given); a clear error names the ones that exist."""
    try:
        dialect = DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}") from None
    dialect.vocab = vocab
    return dialect
