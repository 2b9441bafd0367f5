"""What a tool card shows as text: the call's arguments, highlighted, and its result's preview.

Plain functions from a call or a result to text, so the card widget
(tool_card.py) only lays them out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.content import Content
from textual.highlight import highlight

from ...tools.base import ToolResult
from ..visible import visible

MAX_ARGUMENT_LINES = 40  # per argument, its last TAIL_LINES included; the edit box has the whole value
TAIL_LINES = 8
# A line longer than this shows its start and end with the count cut between: 3,000
# characters of comment wrapped into a wall that pushed `curl ... | sh` off the card.
MAX_LINE_CHARS, LINE_TAIL_CHARS = 400, 120
MAX_NAME_CHARS = 60  # an argument's name (the model's, or an MCP schema's), escaped and cut
PREVIEW_LINES = 6
PREVIEW_WIDTH = 200

# What a card's header says for each state. "unavailable": it could not run whatever the
# user answered (no image model): "denied" said the user refused it (UX review F6).
STATE_LABELS = {
    "proposed": "proposed",
    "invalid": "invalid",
    "awaiting": "awaiting approval",
    "running": "running…",
    "done": "done",
    "failed": "failed",
    "denied": "denied",
    "unavailable": "unavailable",
    "cancelled": "cancelled",
}
STATES = tuple(STATE_LABELS)


def _language_for(key: str, arguments: dict[str, Any]) -> str | None:
    """Which lexer suits an argument: python for code, bash for command, else the file's type."""
    if key == "code":
        return "python"
    if key == "command":
        return "bash"
    path = arguments.get("path")
    if key == "content" and isinstance(path, str) and Path(path).suffix:
        return None  # highlight() guesses from the path
    return "text"


def _clip(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` lines of text, and how many lines were left out."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return text.rstrip("\n"), 0
    return "\n".join(lines[:limit]), len(lines) - limit


def _short_lines(text: str) -> str:
    """Each line over MAX_LINE_CHARS as its start, the count left out, and its end."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if len(line) > MAX_LINE_CHARS:
            cut = len(line) - MAX_LINE_CHARS
            head = line[: MAX_LINE_CHARS - LINE_TAIL_CHARS]
            lines[index] = f"{head} … {cut} characters not shown here (e shows them all) … {line[-LINE_TAIL_CHARS:]}"
    return "\n".join(lines)


def _name(key: Any) -> str:
    """An argument's name as one short line: a name with 80 newlines in it put a second
    `to:` line on the card where the real one scrolled out of sight."""
    name = visible(json.dumps(str(key), ensure_ascii=False)[1:-1])
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


# Blank lines in a row, past this many, show as one line that says how many: 80 newlines
# between `echo hello` and `touch ...` filled a 30-row screen with nothing under
# "command: echo hello", the rest and the keys below the fold (servers review).
MAX_BLANK_RUN = 2
# Blank: any Unicode space (no-break, ideographic, em...) or the braille blank, which draw nothing.
_BLANK_RUN = re.compile(r"(?:^(?:[^\S\n]|\u2800)*\n){%d,}" % (MAX_BLANK_RUN + 1), re.MULTILINE)


def _fold_blank_runs(text: str) -> str:
    """Each run of more than MAX_BLANK_RUN blank (or whitespace-only) lines as one line saying so."""

    def fold(run: re.Match[str]) -> str:
        return f"⋯ {run.group().count(chr(10))} blank lines (e shows them) ⋯\n"

    return _BLANK_RUN.sub(fold, text)


def _ends(text: str, limit: int) -> tuple[str, int, str]:
    """A long value's first lines, how many are left out, and its last TAIL_LINES: what a
    command or program does at its end is on the card, however many lines come before."""
    text = _fold_blank_runs(_short_lines(text))
    lines = text.splitlines()
    if len(lines) <= limit:
        return text.rstrip("\n"), 0, ""
    head = limit - TAIL_LINES
    return "\n".join(lines[:head]), len(lines) - limit, "\n".join(lines[-TAIL_LINES:])


def _indented(body: Content) -> Content:
    return Content("\n").join(Content("  ") + line for line in body.split("\n"))


def _block(label: Content, body: Content) -> Content:
    return label + Content(" ") + body if "\n" not in body.plain else label + Content("\n") + _indented(body)


def render_arguments(arguments: Any) -> Content:
    """Arguments as `key: value` lines; code and commands syntax-highlighted. Arguments that
    are not an object (a model can write a list) are shown as one value, never a crash."""
    if not isinstance(arguments, dict):
        arguments = {"arguments": arguments}
    if not arguments:
        return Content.styled("(no arguments)", "italic $text-muted")
    parts: list[Content] = []
    for key, value in arguments.items():
        label = Content.styled(f"{_name(key)}:", "bold $text-secondary")
        if isinstance(value, str) and (key in ("code", "command") or "\n" in value):
            head, more, tail = _ends(visible(value), MAX_ARGUMENT_LINES)
            language = _language_for(key, arguments)
            path = arguments.get("path") if language is None else None
            path = path if isinstance(path, str) else None
            if more:  # said at the top too: the line between head and tail may be below the fold
                label += Content.styled(f" ({more} lines not shown: e shows them all)", "$text-warning")
            parts.append(_block(label, highlight(head, language=language, path=path)))
            if more:
                gap = Content.styled(f"  … {more} lines not shown here (e shows them all) …", "$text-warning")
                parts.append(gap + Content("\n") + _indented(highlight(tail, language=language, path=path)))
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(label + Content(" ") + Content(_short_lines(visible(text))))
    return Content("\n").join(parts)


def preview(output: str) -> str:
    """The first lines of a result, each cut to a readable width."""
    shown, more = _clip(visible(output), PREVIEW_LINES)
    lines = [line if len(line) <= PREVIEW_WIDTH else line[: PREVIEW_WIDTH - 1] + "…" for line in shown.splitlines()]
    if more:
        lines.append(f"… {more} more lines")
    return "\n".join(lines)


_THAU_NOTE = re.compile(r"\[[a-z].*\]")  # "[exit status 0]", "[thau: ...]", "[timed out ...]"; not bash's "[1]+ Done"


def result_lines(result: ToolResult, *, streamed: bool) -> list[str]:
    """The lines under a finished call: a preview of what it returned, and an image's path.

    When the output `streamed` into the card's log, only what thau added to it: the rest is
    above. That is its last line, and also a leading "[started a fresh shell ...]" and every
    bracketed line at its end, which never stream: the restart note showed only in the
    model's copy, and "[thau: this command made tools/.git ...]" hid the exit status (UX review).
    """
    lines: list[str] = []
    if re.fullmatch(r"\[exit status \d+\]", result.output.strip()):
        lines.append(f"(no output) {result.output.strip()}")  # a command that printed nothing
    elif result.output.strip():
        if streamed:
            said = result.output.strip().splitlines()
            head = said[:1] if said[0].startswith("[started a fresh shell") else []
            tail = said[-1:]
            while len(tail) < len(said) - len(head) and _THAU_NOTE.fullmatch(said[-len(tail) - 1]):
                tail.insert(0, said[-len(tail) - 1])
            lines.extend(visible(line) for line in head + tail)
        else:
            lines.append(preview(result.output))
    image = result.data.get("image_path") if isinstance(result.data, dict) else None
    if image:
        lines.append(f"image: {image}")
    return lines


_ONCE_TOO = "Nothing here is remembered (the card says why): it runs this call once"
# The card's keys. `a` and `A` are bound twice, under one id (a keymap moves both): the
# card shows the pair whose words are true for this call (ToolCard.check_action), so the
# app's footer never says "Allow for chat" where the card says the call runs once. Where they
# allow it once too the footer leaves them out (the keys still answer; the card's own line
# says why): it read "y Allow once a Allow once too A Allow once too" (UX review F5).
CARD_BINDINGS = [
    Binding("y", "approve('once')", "Allow once", id="approve-once", tooltip="Run this call once"),
    Binding(
        "a",
        "approve('session')",
        "Allow for chat",
        id="approve-session",
        tooltip="Run this tool (for the shell: these programs) without asking again in this chat",
    ),
    Binding("a", "approve('session', False)", "Allow once too", id="approve-session", tooltip=_ONCE_TOO, show=False),
    Binding(
        "A",
        "approve('always')",
        "Always allow",
        id="approve-always",
        tooltip="Remember in the approvals file, for every chat and workspace; revoke it on the approvals screen",
    ),
    Binding("A", "approve('always', False)", "Allow once too", id="approve-always", tooltip=_ONCE_TOO, show=False),
    Binding("n", "deny", "Deny", id="deny", tooltip="Refuse; you may type a reason the model reads"),
    Binding("e", "edit", "Edit", id="edit-arguments", tooltip="Edit the arguments as JSON, then run once"),
    Binding("ctrl+s", "submit_edit", "Run edited", id="submit-edit", tooltip="Validate and run the edited call"),
    Binding("escape", "cancel", "Cancel", id="cancel-turn", tooltip="Cancel the turn (or leave the reason/edit box)"),
    Binding("escape", "back", "Back", id="cancel-turn", tooltip="Leave the reason/edit box; the card asks again"),
]


ONCE_TOO_ACTIONS = ("approve('session', False)", "approve('always', False)")
SECOND_BINDINGS = (*ONCE_TOO_ACTIONS, "back")  # a key's other meaning, which F1 lists once


def remembers(scope: str, held: bool) -> bool:
    """Whether `a` and `A` would be remembered for a call: an approval holds here (`held`)
    and the call is one an approval can cover (`scope`: approvals.describe_session_scope)."""
    return held and not scope.startswith("this call only (once: ")


def answer_labels(scope: str, held: bool, confirming_always: bool) -> tuple[str, str]:
    """What `a` and `A` do for a call, for the card's keys line: `scope` is what `a` would
    cover (approvals.describe_session_scope), `held` whether an approval would hold here,
    `confirming_always` whether `A` was pressed once already."""
    if scope.startswith("this call only (once: "):  # nothing to remember: say why, plainly
        return "allows it once too: " + scope.removeprefix("this call only (once: ").removesuffix(")"), "once too"
    if not held:
        return (
            "allows it once too: an approval does not hold here (see above)",
            "always (see above: it does not hold now)",
        )
    if confirming_always:
        return f"allow {scope} for this chat", "again allows it always, in every chat and folder"
    return f"allow {scope} for this chat", "always, in every chat and folder (press it twice)"


def keys_line(hints: list[tuple[str, str]]) -> Content:
    """The card's own line of keys: each key, then what it does here."""
    return Content("  ").join(
        Content.styled(key, "bold $text-accent") + Content(f" {visible(label)}") for key, label in hints
    )
