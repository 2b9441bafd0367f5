"""What every tool-call dialect shares: the Dialect base class (tool block, stream
scanning, parsing, defused results, grammar) and its small readers.

The dialects themselves, and the registry of them, are in dialects.py (hermes, thau,
stage3) and dialect_functiongemma.py; import them from dialects.py.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable

from ..tools.base import BRACKET_TOKENS, Tool, ToolCall
from .call_scanner import _JSON, CallScanner, _Lexer
from .call_scanner import MAX_CALL_CHARS as MAX_CALL_CHARS
from .call_scanner import MAX_DEPTH as MAX_DEPTH
from .call_scanner import MAX_STRING_CHARS as MAX_STRING_CHARS
from .call_scanner import ParsedCall as ParsedCall
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


def _tag_form(tag: str) -> str:
    """A tag without case or spaces: `< Tool_Call >` and `<tool_call>` are one tag."""
    return "".join(tag.split()).lower()


# In the model's own text a tag may carry a few stray spaces; a bound keeps the longest
# possible tag short, so generate.py holds back only that much text from the screen. ASCII
# only (no Unicode case folding: "ſ" is not "s"), so partial_tag_len can tell exactly
# which text may still become a tag.
_STOP_SPACE = r"\s{0,3}"


BUILTIN_INTRO = "You can use tools. To call a tool, write exactly:\n{example}\nthen stop and wait for the result."


# Control tokens of the chat templates thau renders or a server may: ChatML and Llama 3
# style `<|...|>`, DeepSeek's full-width `<｜...｜>`, Gemma's turn markers, Hermes' call and
# result tags (a server's template wraps a native result in them), Llama 2's and Mistral's
# bracketed ones, EXAONE's `[|...|]`, Seed-OSS's `<seed:...>` and MiniMax's `]~b]`. Each of
# these may also be a template's plain text (Zephyr's `<|user|>`, Llama 2's `[INST]`), so
# they are defused whatever the model's vocabulary.
_TEXT_MARKERS = (
    r"<\|[A-Za-z0-9_]{1,40}\|>|<\uff5c[^\uff5c<>\n]{1,40}\uff5c>"
    r"|</?(?:start_of_turn|end_of_turn|tool_call|tool_response)>"
    rf"|\[/?(?:{BRACKET_TOKENS})\]"
    r"|\[\|[A-Za-z0-9_]{1,40}\|\]|<seed:[A-Za-z0-9_]{1,30}>|\]~!?b[\[\]]|\[e~\["
)
# The usual bos/eos spellings: control tokens only as a vocabulary's special tokens, so they
# are defused by name only when the model's vocabulary is unknown (a server's).
_TEMPLATE_TOKEN = re.compile(_TEXT_MARKERS + r"|</?(?:bos|eos|s|pad)>")
# Where a vocabulary's `<...>` control token may stand; `ControlTokens` checks each exactly.
_ANGLE = re.compile(r"<[^<>\s]{1,80}>")


class ControlTokens:
    """A loaded model's control tokens: each text its tokenizer turns into a control token
    when a prompt is tokenized with special tokens on (`llama_compat.control_tokens`).

    Defusing exactly these covers every family's markers, SmolLM2's code tokens and
    Gemma's `<unusedN>` included, and leaves alone what is plain text to this model (a
    question about HTML's `<s>` reaches SmolLM2 as written)."""

    def __init__(self, texts: Iterable[str]) -> None:
        texts = {t for t in texts if t.strip()}
        self.angle = frozenset(t for t in texts if _ANGLE.fullmatch(t))
        others = sorted(texts - self.angle, key=len, reverse=True)
        self.pattern = re.compile("|".join([_TEXT_MARKERS, *map(re.escape, others)]))


def defuse_tokens(text: str, keep: re.Pattern[str] | None = None, vocab: ControlTokens | None = None) -> str:
    """`text` with each chat-template control token's first character ("<", "[") replaced,
    so it is no longer one; a token `keep` matches whole stays as it is. With `vocab` (the
    loaded model's control tokens) those are defused exactly, beside the template markers;
    without it (a server's model) the usual spellings are."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if keep is not None and keep.fullmatch(token) else DEFUSED_LT + token[1:]

    if vocab is None:
        return _TEMPLATE_TOKEN.sub(swap, text)
    text = vocab.pattern.sub(swap, text)
    return _ANGLE.sub(lambda m: swap(m) if m.group(0) in vocab.angle else m.group(0), text)


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
    _call_tags: re.Pattern[str] | None = None
    _stops: re.Pattern[str] | None = None
    _tag_forms: tuple[str, ...] = ()  # the reserved tags, lower case
    _tag_span: int = 0  # the longest text partial_tag_len looks back over
    _lexer: _Lexer
    # The loaded model's control tokens (Agent.dialect sets them); None: a server's model.
    vocab: ControlTokens | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [t for t in (cls.open_tag, cls.close_tag) if t and t not in cls.reserved_tags]
        if missing:
            raise TypeError(f"{cls.__name__}.reserved_tags must include {', '.join(missing)}")
        cls._reserved = _reserved_pattern(cls.reserved_tags) if cls.reserved_tags else None
        # A call's own tags: its open and close tags, and its string delimiter when that is a
        # tag too (functiongemma's <escape>, a control token in FunctionGemma's vocabulary).
        quote = cls.string_quote if cls.string_quote.startswith("<") and cls.string_quote.endswith(">") else ""
        own = (t for t in (cls.open_tag, cls.close_tag, quote) if t)
        cls._call_tags = _reserved_pattern(own) if cls.open_tag else None
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
        the open tag (a call), in any case or with a few stray spaces (`<Tool_Call>`: the
        call goes on from the exact tag). Any other reserved tag is one the model should
        not write in its prose: a result it made up, a close tag with no call."""
        match = self._stops.search(text, start) if self._stops else None
        if match is None:
            return None
        return match.start(), _tag_form(match.group(0)) == _tag_form(self.open_tag)

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
        return defuse_tokens(text, vocab=self.vocab)

    def defuse_turn(self, text: str, *, own_calls: bool) -> str:
        """A user's or the model's own message as the history renders it again: template
        control tokens defused (the model, steered by a file, can write `<|im_end|>` and
        `<|im_start|>user` as plain text, and they would become a forged user turn on the
        next render). With `own_calls` (the model's messages) the dialect's call tags are
        kept, so its calls still read as calls; its result tags never are."""
        return defuse_tokens(text, self._call_tags if own_calls else None, self.vocab)

    def defuse_result(self, text: str) -> str:
        """A stored result as the history renders it again: its wrapper's tags kept, the
        loaded model's control tokens defused, or the usual spellings when it is a server's
        (the result was wrapped, and defused, for the model loaded then: SmolLM2 leaves
        `</s>` alone, a server's model may read it as a token)."""
        return defuse_tokens(text, self._reserved, self.vocab)  # no vocabulary (a server): by name

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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent, refused when it overflows: 1e999 became inf,
    which no schema bound without both a minimum and a maximum catches, and which went back
    to a server in every later request as `Infinity`, not JSON."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large for a number")
    return value


def read_arguments(body: str) -> Any:
    """A call's arguments from JSON text; ValueError with a message the model can act on.
    NaN and Infinity are refused (a schema's minimum and maximum let NaN through), and a
    number over Python's 4,300 digits says so instead of pointing at sys.set_int_max_str_digits."""
    try:
        # strict=False: a raw newline inside a string is read as one, as a person would
        return json.loads(body, strict=False, parse_constant=_no_constant, parse_float=finite_float)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc.msg} at character {exc.pos}): {body[:120]!r}") from exc
    except ValueError as exc:
        why = "a number has more than 4300 digits" if "digits" in str(exc) else str(exc)
        raise ValueError(f"invalid JSON ({why}): {body[:120]!r}") from exc


def _loads(body: str) -> Any:
    if _json_depth(body) > MAX_DEPTH:
        raise ValueError(f"its arguments nest deeper than {MAX_DEPTH} levels")
    return read_arguments(body)


_SPACES = re.compile(r"\s*")


def _after_spaces(text: str, pos: int) -> int:
    """Where the whitespace that starts at `pos` ends."""
    spaces = _SPACES.match(text, pos)
    return spaces.end() if spaces else pos  # \s* always matches
