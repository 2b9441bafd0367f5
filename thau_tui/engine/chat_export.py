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

The Markdown is for people: a call the model wrote is shown as the tool's name and its
arguments, not the dialect's `<tool_call>{...}</tool_call>`, and a result as its status
(ran, denied, failed...) over its text, out of the dialect's wrapper (UX review). The
JSONL line keeps every message exactly as stored, tags and all: it is training data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from ..visible_text import visible
from .dialects import DIALECTS, Dialect, get_dialect

ROLE_HEADINGS = {"user": "You", "assistant": "thau", "tool": "Tool result"}
# An answer stored empty (the model ended at once), in the chat and here; nothing showed at all.
NO_ANSWER = "the model gave no answer"
# Over the first message the model still sees, as the chat's line says it (ui/out_of_view.py).
OUT_OF_VIEW = "the model no longer sees the messages above this line: they left its view to make room for newer ones"

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


def markdown(
    title: str,
    messages: Iterable[dict[str, Any]],
    calls: Iterable[Mapping[str, Any]] | None = None,
    answering: bool = False,
    view_start: int = 0,
) -> str:
    """The chat as Markdown: its title, then each message under its role's heading; the
    model's calls as their tools' names and arguments, each result with its status. `calls`:
    the chat's rows in the store (Store.tool_calls), whose status a result then shows as
    recorded; without them the status is read from the messages. `answering`: a turn was
    still running, and what it had written so far is not in the file (it ended on the question
    as if nothing followed: concurrency review). `view_start`: the model sees messages from
    this one on (ChatSession.view_start); a rule and a line say so above it, as the chat does."""
    rows = {str(row.get("id")): row for row in calls or ()}
    messages = list(messages)
    named = [(m.get("meta") or {}).get("dialect") for m in messages if m["role"] == "tool"]
    chat_dialect = next((name for name in reversed(named) if name in DIALECTS), None)
    lines = [f"# {visible(' '.join(title.split()))}", ""]
    for index, m in enumerate(messages):
        if index == view_start > 0:  # the export said nothing of it (long-chat review)
            lines += ["---", "", f"*({OUT_OF_VIEW})*", ""]
        if m["role"] == "system":
            continue
        lines += [f"## {visible(ROLE_HEADINGS.get(m['role'], m['role']))}", ""]
        text = str(m["content"]).replace("\r\n", "\n")  # CRLF, not "␍" on every line (reading review)
        if m["role"] == "tool":
            meta = m.get("meta") or {}
            body = _unwrapped(text, meta)
            if status := _result_status(meta, body, rows.get(str(meta.get("call_id")))):
                lines += [visible(status), ""]
            lines += [_fenced(visible(body)), ""]
        elif m["role"] == "assistant":
            # prose and each call quoted apart: a fence the prose left open ends before the call;
            # an empty answer as a line that says so, not an empty "> " (long-chat review)
            blocks = [block for block in _answer_blocks(messages, index, chat_dialect) if block.strip()]
            lines += [part for block in blocks for part in (_quoted(visible(block)), "")]
            if gave_no_answer(m):
                lines += [f"*({NO_ANSWER})*", ""]
        else:
            lines += [_quoted(visible(text)), ""]
        if (cut := _cut_short(m)) is not None:  # an answer Esc stopped read as if it were whole
            lines += [f"*({cut})*", ""]
    if answering:
        lines += ["*(an answer was still being written when this was exported; it is not in this file)*", ""]
    return "\n".join(lines)


# --- calls and results, readable -------------------------------------------------------
# A value longer than this, or on more than one line (code, a file's text), goes in a fence.
SHORT_VALUE = 80
# A denial as tool_steps.py words it for the model: "the user denied" only when a person did.
_DENIED = re.compile(
    r"(?:the user denied this call|this call was not run) \(.*\)\. Do not retry it; answer without it\.", re.S
)
# The store's status of a call (Store.tool_calls), in the export's words.
_STATUS_WORDS = {
    "done": "ran",
    "failed": "failed",
    "denied": "denied",
    "cancelled": "cancelled",
    "invalid": "not run: its arguments were invalid",
    "interrupted": "interrupted: thau stopped while it waited or ran",
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _code_span(text: str) -> str:
    """`text` (one line) as a code span that shows it exactly: its delimiter longer than any
    run of backticks in it, so a tool's name or a value cannot close it early."""
    if not text:
        return "(empty)"
    tick = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    pad = " " if text[:1] in "` " or text[-1:] in "` " else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def _call_block(name: str, arguments: Any) -> str:
    """One call as people read it: the tool's name, short arguments as a list, long ones (code,
    a file's text) each in a fence."""
    lines = [f"**Tool call:** {_code_span(_one_line(name))}"]
    if not isinstance(arguments, dict):  # not an object: validation refused it; shown as written
        return "\n\n".join([*lines, _fenced(json.dumps(arguments, ensure_ascii=False, indent=2))])
    short, long = [], []
    for key, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if "\n" in text or len(text) > SHORT_VALUE:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
            long.append(f"{_code_span(_one_line(key))}:\n\n{_fenced(shown)}")
        else:
            short.append(f"- {_code_span(_one_line(key))}: {_code_span(text)}")
    return "\n\n".join(
        [*lines, *(["\n".join(short)] if short else []), *long] if arguments else [*lines, "(no arguments)"]
    )


def _wire_arguments(call: Mapping[str, Any]) -> Any:
    """A native call's arguments: the JSON string the server sent, read; as written if unreadable."""
    arguments = call.get("arguments")
    if isinstance(arguments, str):
        try:
            return json.loads(arguments or "{}")
        except ValueError:
            return {"arguments": arguments}
    return arguments if arguments is not None else {}


def _answer_dialect(messages: list[dict[str, Any]], index: int, chat_dialect: str | None) -> Dialect | None:
    """The dialect the answer at `index` wrote its calls in: the one its results name (every
    call gets a result), else the chat's (`chat_dialect`, its last result's); None when the
    chat has no result, so an answer that only talks about `<tool_call>` stays prose."""
    following = []
    for m in messages[index + 1 :]:
        if m["role"] != "tool":
            break
        following.append(m)
    for name in [(m.get("meta") or {}).get("dialect") for m in following] + [chat_dialect]:
        if name in DIALECTS:
            return get_dialect(name)
    text = str(messages[index]["content"])
    for name in DIALECTS if following else ():  # results of an older chat, without the dialect's name
        dialect = get_dialect(name)
        if any(parsed.call for parsed in dialect.parse_calls(text)):
            return dialect
    return None


def _answer_blocks(messages: list[dict[str, Any]], index: int, chat_dialect: str | None) -> list[str]:
    """The answer at `index` as Markdown blocks, in order: its prose, without the dialect's
    tags, and each call it made (the dialect's text showed `<tool_call>{"name": ...}`: UX review)."""
    message = messages[index]
    text = str(message["content"]).replace("\r\n", "\n")
    wire = (message.get("meta") or {}).get("tool_calls") or []
    if wire:  # the native path: the prose is the content, the calls are the server's
        blocks = [text.strip()] if text.strip() else []
        return blocks + [
            _call_block(str(c.get("name") or "unknown"), _wire_arguments(c)) for c in wire if isinstance(c, dict)
        ] or [""]
    dialect = _answer_dialect(messages, index, chat_dialect)
    blocks, at = [], 0
    for parsed in dialect.parse_calls(text) if dialect else []:
        found = text.find(parsed.raw, at)
        if found < 0:
            continue
        if prose := text[at:found].strip():
            blocks.append(prose)
        if parsed.call is not None:
            blocks.append(_call_block(parsed.call.name, parsed.call.arguments))
        else:
            said = f"**Tool call that could not be read:** {_one_line(parsed.error or '')}"
            blocks.append(f"{said}\n\n{_fenced(parsed.raw)}")
        at = found + len(parsed.raw)
    if prose := text[at:].strip():
        blocks.append(prose)
    return blocks or [text]


def _unwrapped(content: str, meta: Mapping[str, Any]) -> str:
    """A result's text without the dialect's wrapper the model read it in
    (`<tool_response>...</tool_response>`); as stored when it has none (a native call's)."""
    named = meta.get("dialect")
    for name in [named] if named in DIALECTS else list(DIALECTS):
        head, mark, tail = get_dialect(name).render_result(str(meta.get("tool", "")), "\0").partition("\0")
        if mark and content.startswith(head) and content.endswith(tail) and len(content) >= len(head) + len(tail):
            return content[len(head) : len(content) - len(tail)]
    return content


def _result_status(meta: Mapping[str, Any], body: str, row: Mapping[str, Any] | None) -> str:
    """The line over a result: its tool and how the call ended, as the store's `row` records it
    (when given), else as the message says; "" when neither says."""
    name = _code_span(_one_line(meta.get("tool") or (row or {}).get("name") or "a tool"))
    if meta.get("not_run"):  # a live turn ended before it ran (recovery.not_run_results)
        return f"{name}: not run"
    if meta.get("interrupted"):  # a crash (recovery.close_interrupted)
        waited = meta.get("was") == "proposed"
        return f"{name}: " + (
            "not run: thau stopped while it waited for approval" if waited else _STATUS_WORDS["interrupted"]
        )
    if row is not None and row.get("status") == "denied" and row.get("by") == "unavailable":
        return f"{name}: not run: unavailable"  # no one denied it: it could not run (no image model)
    if row is not None and row.get("status") in _STATUS_WORDS:
        return f"{name}: {_STATUS_WORDS[row['status']]}"
    if "call_id" in meta and meta["call_id"] is None and meta.get("ok") is False:
        return "The model's call could not be read: not run"
    ok = meta.get("ok")
    if ok is False and (body == "the user cancelled this call" or body.startswith("cancelled by the user")):
        return f"{name}: cancelled"
    if ok is not False and _DENIED.fullmatch(body):  # a denial is an answer the model reads, "ok"
        return f"{name}: denied"
    if ok is None:
        return ""
    return f"{name}: ran" if ok else f"{name}: failed"


def with_decisions(calls: Iterable[Mapping[str, Any]], decisions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The store's call rows, each with `by` from its last decision (Store.decisions): "user",
    "policy"... or "unavailable", a call that could not run, which the export called denied."""
    by = {str(d.get("call_id")): d.get("by") for d in decisions}
    return [{**row, "by": by.get(str(row.get("id")))} for row in calls]


def gave_no_answer(message: Mapping[str, Any]) -> bool:
    """An answer stored with nothing in it (the model ended at once), not a call and not one
    Esc or a crash cut short (those say so): the chat and the export say it gave none."""
    meta = message.get("meta") or {}
    return (
        message["role"] == "assistant"
        and not str(message["content"]).strip()
        and not meta.get("tool_calls")
        and _cut_short(message) is None
    )


def _cut_short(message: Mapping[str, Any]) -> str | None:
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
