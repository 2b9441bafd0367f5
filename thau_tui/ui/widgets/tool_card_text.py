"""What a tool card shows as text: the call's arguments, highlighted, and its result's preview.

Plain functions from a call or a result to text, so the card widget
(tool_card.py) only lays them out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from rich.cells import cell_len
from textual.binding import Binding
from textual.content import Content
from textual.highlight import highlight

from ...tools.base import ToolResult
from ..visible import visible

MAX_ARGUMENT_LINES = 40  # per argument, its last TAIL_LINES included; the edit box has the whole value
TAIL_LINES = 8
# The rows the multi-line arguments may take on the card together (each at least MIN_BLOCK_ROWS),
# measured as they wrap at the card's width: lines of 396 cells, each under every cut above,
# wrapped to 4 rows, and 10 of them put `curl ... | sh` and the keys below the fold of a 40-row
# screen (diff reviews, 2026-12-07 night). Eight keep a card asking to write a file within the
# 20 rows an 80x24 terminal leaves the chat. ARGUMENT_WIDTH: the width measured at before the
# card knows its own (ToolCard draws them again at it).
ARGUMENT_ROWS, MIN_BLOCK_ROWS, ARGUMENT_WIDTH = 8, 2, 80
# The rows a one-line argument may take at the card's width, and the cells the cut's own
# words take ("… 1234 characters not shown here (e shows them all) … ").
ONE_LINE_ROWS, _CUT_WORDS = 2, 56
# A line wider than this, in terminal cells, shows its start and end with the count cut
# between: 3,000 characters of comment wrapped into a wall that pushed `curl ... | sh` off the
# card. Cells, not characters: a tab is one character and up to TAB_CELLS cells, and 330 of
# them wrapped into a dozen empty rows (attacker review, 2026-12-07 night).
MAX_LINE_CELLS, LINE_TAIL_CELLS = 400, 120
TAB_CELLS = 8
# A run of blanks inside a line wider than this shows as one marker that says how many: two
# lines of 330 tabs and spaces, each then `#`, put `# setup notes`, ~30 empty rows and a `#` on a
# 40-row card, the `curl ... | sh` under them and the keys below the fold (attacker review,
# 2026-12-07 night). Indentation at a line's start may be wider: code nests.
MAX_BLANK_CELLS, MAX_INDENT_CELLS = 8, 32
# An argument this wide or less, on one line, is shown before the wider and multi-line ones.
SHORT_ARGUMENT_CELLS = 80
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


# Blank: any Unicode space but a newline (no-break, ideographic, em...) or the braille blank,
# which draw nothing. Spelt out, not `[^\S\n]|\u2800`, which read a megabyte of them 60 times
# slower; the other spaces (\r, \v, \x85, U+2028...) are controls `visible` already drew.
_BLANK = r"[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]"
_BLANKS = re.compile(f"{_BLANK}+")


def _cells(text: str, limit: int) -> int:
    """How many cells `text` takes, measured only so far as to tell it is over `limit`: a
    line of megabytes is never measured whole (each character but a combining one takes a
    cell at least)."""
    width = cell_len(text[: limit + 1])
    return width if width > limit or len(text) <= limit + 1 else cell_len(text)


def _pieces(line: str, *, from_end: bool = False) -> Iterator[tuple[str, int, bool]]:
    """A line as the card shows it, piece by piece from its start (or its end), each with how
    many characters of the line it stands for and whether it may be cut inside (text may;
    blanks and markers may not). Tabs are spaces to the next stop (from the end: TAB_CELLS),
    and a run of blanks wider than MAX_BLANK_CELLS (at the line's start: MAX_INDENT_CELLS) is
    one marker saying how many. Made as they are read: a cut line reads only its two ends."""
    scan = line[::-1] if from_end else line
    column = position = 0
    for run in _BLANKS.finditer(scan):
        if run.start() > position:
            text = scan[position : run.start()]
            yield (text[::-1] if from_end else text), len(text), True
            column += cell_len(text)
        starts, ends = (
            (run.end() == len(scan), run.start() == 0) if from_end else (run.start() == 0, run.end() == len(scan))
        )
        limit = MAX_INDENT_CELLS if starts else MAX_BLANK_CELLS
        count, width, blanks = len(run.group()), 0, []
        for char in run.group() if count <= limit else "":  # a longer run is wider: a blank takes a cell
            blanks.append(" " * (TAB_CELLS - (0 if from_end else column + width) % TAB_CELLS) if char == "\t" else char)
            width += cell_len(blanks[-1])
        shown = "".join(reversed(blanks) if from_end else blanks)
        if count > limit or width > limit:
            shown = f"{'' if starts else ' '}⋯ {count} blanks (e shows them) ⋯{'' if ends else ' '}"
            width = cell_len(shown)
        yield shown, count, False
        column += width
        position = run.end()
    if position < len(scan):
        text = scan[position:]
        yield (text[::-1] if from_end else text), len(text), True


def _fit(pieces: Iterator[tuple[str, int, bool]], cells: int, *, from_end: bool = False) -> tuple[str, int]:
    """The start (or, for pieces from the end, the end) of a line that fits in `cells`, and
    how many characters of the line it stands for."""
    taken: list[str] = []
    count = 0
    for text, stands_for, divisible in pieces:
        width = _cells(text, cells)
        if width <= cells:
            taken.append(text)
            count += stands_for
            cells -= width
            continue
        if divisible:
            part: list[str] = []
            for char in reversed(text) if from_end else text:
                cells -= cell_len(char)
                if cells < 0:
                    break
                part.append(char)
            taken.append("".join(reversed(part) if from_end else part))
            count += len(part)
        break
    return "".join(reversed(taken) if from_end else taken), count


def _short_line(line: str, cells: int = MAX_LINE_CELLS, tail_cells: int = LINE_TAIL_CELLS, words: int = 0) -> str:
    """A line as the card shows it: long runs of blanks as markers (_pieces), and a line
    wider than `cells` as its start, how many characters are left out, and its end (the last
    `tail_cells`); `words`: the cells the cut's own words are to take from `cells`."""
    shown, count = _fit(_pieces(line), cells)
    if count == len(line):
        return shown
    head, head_count = _fit(_pieces(line), max(0, cells - tail_cells - words))
    tail, tail_count = _fit(_pieces(line, from_end=True), tail_cells, from_end=True)
    cut = len(line) - head_count - tail_count
    return f"{head} … {cut} characters not shown here (e shows them all) … {tail}"


def _name(key: Any) -> str:
    """An argument's name as one short line: a name with 80 newlines in it put a second
    `to:` line on the card where the real one scrolled out of sight."""
    name = visible(json.dumps(str(key), ensure_ascii=False)[1:-1])
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


# Blank lines in a row, past this many, show as one line that says how many: 80 newlines
# between `echo hello` and `touch ...` filled a 30-row screen with nothing under
# "command: echo hello", the rest and the keys below the fold (servers review).
MAX_BLANK_RUN = 2
_BLANK_RUN = re.compile(f"(?:^{_BLANK}*\n){{{MAX_BLANK_RUN + 1},}}", re.MULTILINE)


def _fold_blank_runs(text: str) -> str:
    """Each run of more than MAX_BLANK_RUN blank (or whitespace-only) lines as one line saying so."""

    def fold(run: re.Match[str]) -> str:
        return f"⋯ {run.group().count(chr(10))} blank lines (e shows them) ⋯\n"

    return _BLANK_RUN.sub(fold, text)


def _ends(text: str, limit: int) -> tuple[list[str], int, list[str]]:
    """A long value's first lines, how many are left out, and its last TAIL_LINES: what a
    command or program does at its end is on the card, however many lines come before.
    Blank lines are folded before the lines are shortened, which would make them marker lines."""
    lines = _fold_blank_runs(text).rstrip("\n").split("\n")
    if len(lines) <= limit:
        return [_short_line(line) for line in lines], 0, []
    head = limit - TAIL_LINES
    return [_short_line(line) for line in lines[:head]], len(lines) - limit, list(map(_short_line, lines[-TAIL_LINES:]))


def _rows(text: str, width: int) -> int:
    """How many rows a line takes at `width` cells, wrapped as Textual wraps it on the card."""
    return len(Content(text).wrap(max(1, width)))


def _gap(more: int) -> str:
    return f"  … {more} lines not shown here (e shows them all) …"


def _within_rows(
    head: list[str], more: int, tail: list[str], width: int, rows: int
) -> tuple[list[str], int, list[str]]:
    """The lines of a block that fit in `rows` rows at `width`, a line between them saying how
    many are left out: as many of the last lines as fit in half of them (the last one always),
    then as many first lines as fit in what is left. A line is never cut here (_short_line does)."""
    heights = [_rows("  " + line, width) for line in head + tail]
    if not more and sum(heights) <= rows:
        return head, 0, []
    lines = head + tail
    budget = rows - _rows(_gap(more + len(lines)), width)
    last = len(tail) if more else len(lines)  # the lines the tail may take: not across the cut
    taken, used = 1, heights[-1]
    while taken < last and used + heights[-taken - 1] <= budget - budget // 2:
        used += heights[-taken - 1]
        taken += 1
    first, room = 0, budget - used
    while first < min(len(head), len(lines) - taken) and heights[first] <= room:
        room -= heights[first]
        first += 1
    if not more and first + taken == len(lines):  # one line, taller than `rows`: nothing to leave out
        return lines, 0, []
    return lines[:first], more + len(lines) - first - taken, lines[len(lines) - taken :]


def _indented(body: Content) -> Content:
    return Content("\n").join(Content("  ") + line for line in body.split("\n"))


def _block(label: Content, body: Content) -> Content:
    return label + Content(" ") + body if "\n" not in body.plain else label + Content("\n") + _indented(body)


def _is_block(key: Any, value: Any) -> bool:
    """Whether an argument is shown as lines under its name (code, a command, any multi-line text)."""
    return isinstance(value, str) and (key in ("code", "command") or "\n" in value)


def render_arguments(arguments: Any, width: int = ARGUMENT_WIDTH) -> Content:
    """Arguments as `key: value` lines; code and commands syntax-highlighted. Arguments that
    are not an object (a model can write a list) are shown as one value, never a crash.
    `width`: the cells the card has for them, which sets how many lines of a long value fit
    its share of ARGUMENT_ROWS.

    Short one-line arguments come first, then wider one-line ones, then multi-line ones, each
    in the model's order: with `content` (60 lines) sent before `path`, the path and the keys
    showed only after PageDown (attacker review, 2026-12-07 night)."""
    if not isinstance(arguments, dict):
        arguments = {"arguments": arguments}
    if not arguments:
        return Content.styled("(no arguments)", "italic $text-muted")
    blocks = sum(_is_block(key, value) for key, value in arguments.items())
    rows = max(MIN_BLOCK_ROWS, ARGUMENT_ROWS // max(1, blocks))
    shown = [_argument(key, value, arguments, width, rows) for key, value in arguments.items()]
    return Content("\n").join(sorted(shown, key=_argument_rank))


def _argument_rank(shown: Content) -> int:
    """0: one line of SHORT_ARGUMENT_CELLS or less (a path, a mode, a flag); 1: a wider
    line (still cut to a few rows); 2: a block of lines (content, code, a command's body)."""
    if "\n" in shown.plain:
        return 2
    return 0 if cell_len(shown.plain) <= SHORT_ARGUMENT_CELLS else 1


def _argument(key: Any, value: Any, arguments: dict[str, Any], width: int, rows: int) -> Content:
    """One argument as the card shows it: `key: value`, or a block under `key:` of at most
    `rows` rows at `width`."""
    label = Content.styled(f"{_name(key)}:", "bold $text-secondary")
    if not _is_block(key, value):
        # at most ONE_LINE_ROWS rows at `width`, the cut's words included: a 388-character path
        # took 6 rows at 80 columns (11 at 50) and pushed the content's end and the keys below
        # an 80x24 screen (second diff review, 2026-12-07 night)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        fits = max(_CUT_WORDS + 24, ONE_LINE_ROWS * width - cell_len(label.plain) - 2)
        cut = _short_line(visible(text), fits, max(8, (fits - _CUT_WORDS) // 3), _CUT_WORDS)
        return label + Content(" ") + Content(cut)
    head, more, tail = _within_rows(*_ends(visible(value), MAX_ARGUMENT_LINES), width, rows)
    language = _language_for(key, arguments)
    path = arguments.get("path") if language is None else None
    path = path if isinstance(path, str) else None
    if not more:
        return _block(label, highlight("\n".join(head), language=language, path=path))
    # said at the top too: the line between head and tail may be below the fold
    label += Content.styled(f" ({more} lines not shown: e shows them all)", "$text-warning")
    shown = [label]
    if head:
        shown.append(_indented(highlight("\n".join(head), language=language, path=path)))
    shown.append(Content.styled(_gap(more), "$text-warning"))
    shown.append(_indented(highlight("\n".join(tail), language=language, path=path)))
    return Content("\n").join(shown)


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
    return once_too_reason(scope, held) is None


def once_too_reason(scope: str, held: bool) -> str | None:
    """Why `a` and `A` only allow a call once, in words (None: they remember it): `scope` is what
    `a` would cover (approvals.describe_session_scope), `held` whether an approval would hold here."""
    if scope.startswith("this call only (once: "):
        return scope.removeprefix("this call only (once: ").removesuffix(")")
    return None if held else "an approval does not hold here (see above)"


def answer_hints(key: Callable[[str], str], scope: str, held: bool, confirming_always: bool) -> list[tuple[str, str]]:
    """The card's keys line while it asks: each key (`key`: its display for a binding id), then
    what it does for this call. When `a` and `A` only allow it once, they come last, with why:
    between the others they read "a allows it once too: <a sentence>  A once too" and wrapped
    mid-key (new-user review of 2026-12-08). `confirming_always`: `A` was pressed once already."""
    why = once_too_reason(scope, held)
    rest = [(key("deny"), "deny"), (key("edit-arguments"), "edit"), (key("cancel-turn"), "cancel turn")]
    if why is not None:
        both = f"{key('approve-session')}/{key('approve-always')}"
        return [(key("approve-once"), "allow once"), *rest, (both, f"allow it once too: {why}")]
    always = (
        "again allows it always, in every chat and folder"
        if confirming_always
        else "always, in every chat and folder (press it twice)"
    )
    return [
        (key("approve-once"), "allow once"),
        (key("approve-session"), f"allow {scope} for this chat"),
        (key("approve-always"), always),
        *rest,
    ]


def keys_line(hints: list[tuple[str, str]]) -> Content:
    """The card's own line of keys: each key, then what it does here."""
    return Content("  ").join(
        Content.styled(key, "bold $text-accent") + Content(f" {visible(label)}") for key, label in hints
    )
