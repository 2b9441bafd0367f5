"""Reading a call's text: one pass over it that finds its real end, and the bounds on it.

A call is read to the close tag that follows its arguments, not the first close
tag in the text, so a string argument may hold the close tag itself. The scan is
one pass and bounded (MAX_CALL_CHARS, MAX_DEPTH) before anything parses it, so
hostile text costs linear time and never reaches Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tools.base import ToolCall

# Bounds on one call. The grammar keeps a model inside them and generate.py stops a
# call that leaves them; the parser checks them before reading, so hostile text costs
# linear time and never reaches Python's recursion limit.
MAX_CALL_CHARS = 200_000
MAX_DEPTH = 32  # brackets inside the arguments
MAX_STRING_CHARS = 8_192  # one string argument, while a call streams
MAX_ITEMS = 64  # an array or an untyped object, in the grammar, when the schema sets no bound


@dataclass
class ParsedCall:
    """A call found in the model's text, or the reason it could not be read."""

    call: ToolCall | None
    error: str | None = None
    raw: str = ""


class _Lexer:
    """What a call body's strings look like: what opens and closes one, and whether a
    backslash escapes the next character (JSON) or nothing does (FunctionGemma's <escape>)."""

    def __init__(self, close_tag: str, quote: str, backslash: bool) -> None:
        self.close_tag, self.quote, self.backslash = close_tag, quote, backslash
        marks = [re.escape(t) for t in (close_tag, quote) if t]
        self.outside = re.compile("|".join(marks + [r"[\[\]{}]"]))
        self.inside = re.compile(r'["\\]') if backslash else re.compile(re.escape(quote))
        self.hold = max(len(close_tag), len(quote)) - 1  # a mark may arrive split


_JSON = _Lexer("", '"', True)


class CallScanner:
    """Finds where a call's body ends: at its close tag outside any string.

    One pass that resumes where it stopped as the text grows (generate.py feeds it the
    stream), so following a call costs time linear in its length. On the way it notes
    where brackets first nest deeper than MAX_DEPTH and where a string first passes
    `max_string`, so a runaway can be stopped before anything parses it.
    """

    def __init__(self, lexer: _Lexer, start: int, max_string: int | None = None) -> None:
        self.lexer = lexer
        self.pos = start  # everything before this is read
        self.max_string = max_string
        self.in_string = False
        self.string_start = 0
        self.depth = 0
        self.too_deep_at: int | None = None
        self.long_string_at: int | None = None
        self.end = -1  # where the close tag starts, once found

    def feed(self, text: str) -> int:
        """Read what is new in `text` (which only grows); the close tag's index, or -1 for not yet."""
        lex = self.lexer
        while self.end < 0:
            if self.in_string:
                match = lex.inside.search(text, self.pos)
                if match is None:
                    self._string_reaches(len(text) - len(lex.quote) + 1)
                    self.pos = max(self.pos, len(text) - len(lex.quote) + 1)
                    return -1
                if match.group() == "\\":
                    if match.end() >= len(text):  # the escaped character has not arrived yet
                        self.pos = match.start()
                        return -1
                    self.pos = match.end() + 1
                    continue
                self._string_reaches(match.start())
                self.in_string = False
                self.pos = match.end()
                continue
            match = lex.outside.search(text, self.pos)
            if match is None:
                self.pos = max(self.pos, len(text) - lex.hold)
                return -1
            mark = match.group()
            self.pos = match.end()
            if mark == lex.close_tag:
                self.end = match.start()
            elif mark == lex.quote:
                self.in_string, self.string_start = True, match.end()
            elif mark in "[{":
                self.depth += 1
                if self.depth > MAX_DEPTH and self.too_deep_at is None:
                    self.too_deep_at = match.start()
            else:
                self.depth = max(0, self.depth - 1)
        return self.end

    def _string_reaches(self, end: int) -> None:
        if self.max_string is not None and self.long_string_at is None and end - self.string_start > self.max_string:
            self.long_string_at = self.string_start + self.max_string
