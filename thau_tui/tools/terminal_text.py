"""Terminal output as text: escapes stripped, redrawn lines collapsed, long output capped
(head and tail), and any text as a bash $'...' literal. Used by the shell and run_python."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def clean_terminal_text(text: str) -> str:
    """Terminal output as plain text: no ANSI escapes, \\n line ends."""
    return _ANSI.sub("", text).replace("\r\n", "\n")


def _collapse_carriage_returns(text: str) -> str:
    """Keep what a terminal would show for progress lines redrawn with \\r."""
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


class OutputCap:
    """Keeps the head and the tail of a long output, counting what falls between."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = ""
        self.tail = ""
        self.cut = 0

    def add(self, text: str) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += text[:room]
            text = text[room:]
        if text:
            self.tail += text
            if len(self.tail) > 2 * self.tail_limit:  # trim in batches, not per chunk
                drop = len(self.tail) - self.tail_limit
                self.cut += drop
                self.tail = self.tail[drop:]

    @property
    def truncated(self) -> bool:
        return self.cut > 0 or len(self.tail) > self.tail_limit

    def text(self) -> str:
        """The kept output, with a plain line saying how much was cut."""
        tail, cut = self.tail, self.cut
        if len(tail) > self.tail_limit:
            cut += len(tail) - self.tail_limit
            tail = tail[-self.tail_limit :]
        if not cut:
            return _collapse_carriage_returns(self.head + tail)
        head = _collapse_carriage_returns(self.head)
        tail = _collapse_carriage_returns(tail)
        return f"{head.rstrip(chr(10))}\n[... {cut} characters cut ...]\n{tail.lstrip(chr(10))}"


def _bash_literal(text: str) -> str:
    """`text` as a bash $'...' string (every byte survives, newlines included)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            continue
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"
