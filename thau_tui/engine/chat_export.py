"""A chat written out as Markdown or as a JSONL line (the chat screen's export).

Nothing in one message may pass for another in the Markdown, rendered or read as text
(attacker reviews): the model's answers repeat whatever text it read. A tool result goes in
a fence longer than any run of backticks in it. A user's or the model's message goes in a
block quote, every line of it, so nothing it opens (a ``` fence, an HTML comment, a <pre>)
can run on into the next message: CommonMark ends them with the quote. Inside the quote, a
line that reads as one of the export's role headings (ATX, setext or HTML) is escaped, and
control characters (an OSC 52 clipboard write, for `cat` in a terminal) are shown as
stand-ins everywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ..visible_text import visible

ROLE_HEADINGS = {"user": "You", "assistant": "thau", "tool": "Tool result"}

_BACKTICKS = re.compile(r"`{3,}")
_ROLE = r"(?:You|thau|Tool result)"
# "## You" (ATX): escaped as "\## You".
_ATX_ROLE = re.compile(rf"^(?=[ ]{{0,3}}#{{1,6}}[ \t]+{_ROLE}[ \t]*#*[ \t]*$)", re.MULTILINE | re.IGNORECASE)
# "You" over "---" or "===" (setext): the underline is escaped, so the two lines are text.
_SETEXT_ROLE = re.compile(rf"^([ ]{{0,3}}{_ROLE}[ \t]*\n[ ]{{0,3}})(?=[-=]+[ \t]*$)", re.MULTILINE | re.IGNORECASE)
# "<h2>You</h2>" and other HTML heading tags at the start of a line: shown as text.
_HTML_HEADING = re.compile(r"^([ ]{0,3})<(?=/?h[1-6][\s>/])", re.MULTILINE | re.IGNORECASE)


def _quoted(body: str) -> str:
    body = _ATX_ROLE.sub("\\\\", body)
    body = _SETEXT_ROLE.sub(lambda m: m.group(1) + "\\", body)
    body = _HTML_HEADING.sub(lambda m: m.group(1) + "\\<", body)
    return "\n".join(f"> {line}" if line.strip() else ">" for line in body.split("\n"))


def _fenced(body: str) -> str:
    fence = "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(body)), default=0))
    return f"{fence}\n{body}\n{fence}"


def markdown(title: str, messages: Iterable[dict[str, Any]]) -> str:
    """The chat as Markdown: its title, then each message under its role's heading."""
    lines = [f"# {visible(' '.join(title.split()))}", ""]
    for m in messages:
        if m["role"] == "system":
            continue
        lines += [f"## {visible(ROLE_HEADINGS.get(m['role'], m['role']))}", ""]
        body = visible(m["content"])
        lines += [_fenced(body) if m["role"] == "tool" else _quoted(body), ""]
    return "\n".join(lines)


def jsonl(sid: str, messages: Iterable[dict[str, Any]]) -> str:
    """One line: {"id", "messages": [...]} in the training data's format."""
    rows = [{"role": m["role"], "content": m["content"]} for m in messages]
    return json.dumps({"id": sid, "messages": rows}, ensure_ascii=False) + "\n"
