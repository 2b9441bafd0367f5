"""A chat written out as Markdown or as a JSONL line (the chat screen's export).

Nothing in one message may pass for another in the Markdown, rendered or read as text
(attacker reviews): the model's answers repeat whatever text it read. A tool result goes in
a fence longer than any run of backticks in it. A user's or the model's message goes in a
block quote, every line of it, so nothing it opens (a ``` fence, an HTML comment, a <pre>)
can run on into the next message: CommonMark ends them with the quote. Inside the quote,
raw HTML is shown as text (a browser ends no comment or <title> at the quote) and a heading
that reads as one of the export's roles is escaped, as CommonMark parses it (markdown-it);
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
_ROLES = {"you", "thau", "tool result"}
_TAG = re.compile(r"<(?=[A-Za-z!?/])")  # where raw HTML starts; "a < b" stays as it is
_FIRST_MARK = re.compile(r"^((?:\s*>)*\s*(?:(?:[-+*]|\d{1,9}[.)])\s+)*\s*)(\S)")


def _defanged(lines: list[str]) -> bool:
    """One pass over the quoted message as CommonMark reads it: raw HTML (a block or inline:
    an unclosed <!-- or <title> hid the rest of the chat in a browser, an <h2> forged a
    turn) gets its "<" as "&lt;", and a heading that reads as a role (ATX or setext, in a
    list or a quote too) gets a backslash. Whether anything changed."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse("\n".join(lines))
    changed = False

    def put(n: int, text: str) -> None:
        nonlocal changed
        if text != lines[n]:
            lines[n], changed = text, True

    for i, token in enumerate(tokens):
        if token.map is None:
            continue
        first, end = token.map
        if token.type == "html_block":
            for n in range(first, end):
                put(n, _TAG.sub("&lt;", lines[n]))
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "html_inline":  # a tag may span lines: its first line is where it starts
                    head = child.content.split("\n", 1)[0]
                    safe = _TAG.sub("&lt;", head)
                    # Not inside a code span on the same line, where "&lt;" is shown as is: `<b>`
                    # became `&lt;b>` (reading review). Where that changes nothing, the spans were
                    # misread: every occurrence is escaped, as before, so no tag stays raw.
                    spared = [_outside_code_spans(lines[n], head, safe) for n in range(first, end)]
                    if spared == lines[first:end]:
                        spared = [line.replace(head, safe) for line in lines[first:end]]
                    for n, text in zip(range(first, end), spared):
                        put(n, text)
        elif token.type == "heading_open" and tokens[i + 1].content.strip().casefold() in _ROLES:
            n = first if token.markup.startswith("#") else end - 1  # setext: its underline
            put(n, _FIRST_MARK.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", lines[n], count=1))
    return changed


# A code span as CommonMark reads it on one line: a run of backticks to the next run of the
# same length. Only a guess (a backslash-escaped backtick opens none): _defanged checks it.
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _outside_code_spans(line: str, old: str, new: str) -> str:
    """`line` with `old` replaced by `new` where it is not inside a code span."""
    spans = [match.span() for match in _CODE_SPAN.finditer(line)]
    out, at = [], 0
    while (found := line.find(old, at)) >= 0:
        inside = any(start <= found < end for start, end in spans)
        out += [line[at:found], old if inside else new]
        at = found + len(old)
    return "".join(out) + line[at:]


def _quoted(body: str) -> str:
    lines = [f"> {line}" if line.strip() else ">" for line in body.split("\n")]
    for _ in range(8):  # escaping one construct can uncover another (what a comment hid)
        if not _defanged(lines):
            break
    else:  # still changing after 8 passes (a chain of <?a lines, each hiding the next: attacker
        # re-review): every tag's "<" is escaped, so none can stay raw
        lines = [_TAG.sub("&lt;", line) for line in lines]
        _defanged(lines)  # and a heading that reads as a role still gets its backslash
    return "\n".join(lines)


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
        body = visible(str(m["content"]).replace("\r\n", "\n"))  # CRLF, not "␍" on every line (reading review)
        lines += [_fenced(body) if m["role"] == "tool" else _quoted(body), ""]
        if (cut := _cut_short(m)) is not None:  # an answer Esc stopped read as if it were whole
            lines += [f"*({cut})*", ""]
    return "\n".join(lines)


def _cut_short(message: dict[str, Any]) -> str | None:
    """How an answer ended short, as the chat shows it: stopped (Esc) or interrupted (a crash,
    a server gone); None for a whole one."""
    meta = message.get("meta") or {}
    if message["role"] != "assistant":
        return None
    if meta.get("interrupted"):
        return "interrupted: this answer did not finish"
    return "stopped before it finished" if meta.get("stopped") else None


def jsonl(sid: str, messages: Iterable[dict[str, Any]]) -> str:
    """One line: {"id", "messages": [...]} in the training data's format; an answer cut short
    says so ("cut_short"), so it is not taken for a whole one."""
    rows = [
        {"role": m["role"], "content": m["content"], **({"cut_short": cut} if (cut := _cut_short(m)) else {})}
        for m in messages
    ]
    return json.dumps({"id": sid, "messages": rows}, ensure_ascii=False) + "\n"
