"""search_code: a regular expression (or plain text) over the workspace's text files.

The pattern comes from the model: `(a+)+$` against a line of 40 a's never ends. Python's
re holds the GIL all along (the app froze, Esc did nothing), so the search runs on the
`regex` library instead, with the GIL released during each match and the search's time
limit as each match's timeout.

Files are walked below the folder asked for, skipping VCS data, environments and
caches, and each is opened without following links (open_in_workspace), as the other
file tools do (files.py).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any, Iterator

import regex  # re's syntax, plus a timeout and matching without holding the GIL

from .base import Tool, ToolContext, ToolError, ToolResult, object_schema
from .files import _binary_kind, _shown, _workspace
from .kept import Kept
from .text_form import text_form
from .workspace import hidden_folders, hidden_reason, open_in_workspace, relative_name, resolve_in_workspace

MAX_MATCHES = 100
# Repeat counts a pattern may ask for. Compiling unrolls them, inside thau, before any time
# limit applies: `x{10000000}` took 2.6 GB and held the GIL for seconds, and nested counts
# multiply ((?:x{1000}){1000}). The product of all counts bounds any nesting of them, and
# times the pattern's length it bounds what is unrolled: a 258-character alternation under
# {100}{1000}, within the product's cap, took 1.9 GB and held the GIL for 2.9 s (attacker
# review). At the cap below a compile takes ~0.05 s and ~40 MB.
MAX_REPEAT = 1000
MAX_REPEAT_PRODUCT = 100_000
MAX_UNROLLED = 250_000
_BRACES = regex.compile(r"\{([^{}]*)\}")
# (?x), (?ix), (?x: ...), regex's (?V1x) and (?-x ... too: refused alike
_VERBOSE_FLAG = regex.compile(r"\(\?[\^\w-]*x")
_COUNTS = regex.compile(r"(\d*)(?:,(\d*))?")
MAX_SEARCH_FILE_BYTES = 2_000_000
SEARCH_SECONDS = 10.0
# Folders that are never the code being asked about: VCS data, environments, caches, dependencies.
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "site-packages",
    ".thau",
}


def _is_environment(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def _text_files(workspace: Path, root: Path, ctx: ToolContext, deadline: float, ran_out: list[bool]) -> Iterator[Path]:
    """Every searchable file under root, skipping VCS folders, environments and big files,
    and what the workspace keeps off (the workspace's list: a subfolder's own would miss
    what a home-folder workspace keeps, such as the targets of its dotfile links). It
    stops at `deadline` (time.monotonic) or Esc, folder by folder too: a tree of 40,000
    empty folders held a search for 28 s past its bound."""
    if root.is_file():
        yield root
        return
    hidden = hidden_folders(ctx.config, workspace)  # once for the walk, not once a file

    def stop() -> bool:  # ran_out gets True when the time is up (not for Esc)
        if time.monotonic() > deadline:
            ran_out.append(True)
        return ctx.cancelled or bool(ran_out)

    for folder, dirs, files in os.walk(root):
        if stop():
            return
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not _is_environment(Path(folder) / d)
            and hidden_reason(Path(folder) / d, folders=hidden) is None
        )
        for file in sorted(files):
            if stop():
                return
            if hidden_reason(Path(folder) / file, folders=hidden) is None:
                yield Path(folder) / file


def _read_for_search(workspace: Path, file: Path, kept: Kept, too_big: list[str] | None = None) -> bytes | None:
    """A plain file's bytes, opened without following links; None for links, hard links (a
    name elsewhere may be a hidden file), other kinds of file, files over
    MAX_SEARCH_FILE_BYTES, what `kept` refuses (a hidden folder renamed into the walk's way:
    kept.py) and anything that cannot be read."""
    try:
        fd = open_in_workspace(workspace, file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0), kept)
    except (OSError, ToolError):
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SEARCH_FILE_BYTES or st.st_nlink > 1:  # as read_file
        if too_big is not None and stat.S_ISREG(st.st_mode) and st.st_size > MAX_SEARCH_FILE_BYTES:
            too_big.append(_shown(relative_name(workspace, file)))  # said, not skipped in silence
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            return fh.read(MAX_SEARCH_FILE_BYTES + 1)
        except OSError:
            return None


def check_repeats(pattern: str) -> None:
    """A ToolError when the pattern's repeat counts ({n}, {m,n}) are too large to compile
    safely: one over MAX_REPEAT, all of them multiplied over MAX_REPEAT_PRODUCT, or that
    product times the pattern's length over MAX_UNROLLED (what is repeated counts). Braces
    that are not a count (a literal, \\p{L}) are left alone; one that is a literal count
    (\\{5000\\}) is refused too, which costs a rewording at most."""
    if _VERBOSE_FLAG.search(pattern):
        # (?x) lets comments and spaces stand between a count's digits, and what is a comment
        # depends on classes (`[#]x{2#}\n0000}` read as x{1} here, as x{10000} by regex: 2.6 GB
        # in a review): no reading of it here can be sure, so it is refused.
        raise ToolError("the pattern turns on verbose mode ((?x)); write it without, spaces and all")
    product = 1
    for inside in _BRACES.findall(pattern):  # without (?x), a space or # in braces makes them literal
        counts = _COUNTS.fullmatch(inside)
        if counts is None or not any(counts.groups()):
            continue
        digits = [n.lstrip("0") or "0" for n in counts.groups() if n]
        largest = MAX_REPEAT + 1 if any(len(n) > 9 for n in digits) else max(int(n) for n in digits)
        if largest > MAX_REPEAT or (product := product * max(largest, 1)) > MAX_REPEAT_PRODUCT:
            raise ToolError(
                f"the pattern repeats too much ({{{inside.strip()}}}): counts up to {MAX_REPEAT}, "
                f"{MAX_REPEAT_PRODUCT:,} all multiplied; use + or * or a smaller count"
            )
    if product * len(pattern) > MAX_UNROLLED:
        raise ToolError(
            f"the pattern repeats too much: its {len(pattern):,} characters under counts of {product:,} all "
            f"multiplied would unroll past {MAX_UNROLLED:,}; use + or * or a smaller count"
        )


def search_code(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The search_code tool: regex (or literal) search, `file:line: text` per match."""
    workspace = _workspace(ctx)
    root = resolve_in_workspace(workspace, args.get("path", "."), ctx.config)
    if not root.exists():
        raise ToolError(f"'{_shown(relative_name(workspace, root))}' does not exist; try path '.'")
    pattern = args["pattern"]
    if not pattern:
        raise ToolError("the pattern is empty; give a word or a regular expression to look for")
    note = ""
    check_repeats(pattern)
    try:
        compiled = regex.compile(pattern)
    except MemoryError:
        raise ToolError("the pattern is too large to compile; use a shorter one") from None
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        compiled = regex.compile(regex.escape(pattern))
        note = f"[the pattern is not a valid regular expression ({exc}); searched for it as plain text]"
    matches: list[str] = []
    files_hit = files_seen = 0
    start = time.monotonic()
    stopped = ""
    ran_out: list[bool] = []
    too_big: list[str] = []
    match_files: list[Path] = []  # the file of each match, in order
    kept = Kept.here(workspace, ctx.config, writing=False)
    for file in _text_files(workspace, root, ctx, start + SEARCH_SECONDS, ran_out):
        if time.monotonic() - start > SEARCH_SECONDS:
            stopped = f"[stopped after {SEARCH_SECONDS:g} s; narrow the path for a complete search]"
            break
        data = _read_for_search(workspace, file, kept, too_big)
        if data is None:
            continue
        form = text_form(data[:8192])
        if form is None or _binary_kind(data[:8192], form):  # told once, not twice a file
            continue
        files_seen += 1
        hit = False
        for number, line in enumerate(form.decode(data).splitlines(), 1):  # Latin-1 and UTF-16 too
            left = SEARCH_SECONDS - (time.monotonic() - start)
            try:
                if left <= 0 or ctx.cancelled:
                    raise TimeoutError
                found = compiled.search(line, concurrent=True, timeout=left)
            except TimeoutError:
                stopped = f"[stopped after {SEARCH_SECONDS:g} s; narrow the path or simplify the pattern]"
                break
            if found:
                hit = True
                text = line.strip()
                if len(text) > 200:
                    text = text[:200] + "..."
                matches.append(f"{_shown(relative_name(workspace, file))}:{number}: {text}")
                match_files.append(file)
                if len(matches) > MAX_MATCHES:
                    break
        files_hit += hit
        if stopped:
            break
        if len(matches) > MAX_MATCHES:
            matches = matches[:MAX_MATCHES]
            stopped = f"[showing the first {MAX_MATCHES} matches; use a narrower pattern or path]"
            break
    if not stopped and ran_out:  # the walk itself ran out of time
        stopped = f"[stopped after {SEARCH_SECONDS:g} s; narrow the path for a complete search]"
    if matches:  # files counted from the matches kept: the 101st match's file was counted too
        files_hit = len(set(match_files[: len(matches)]))
        summary = f"{len(matches)} match(es) in {files_hit} file(s)"
    else:
        summary = f"no matches for {pattern!r} in {files_seen} text file(s)"
    if stopped:  # in the first line too: under "... 84 more lines" on a card it was not seen (tools review)
        summary += " (incomplete: see the last line)"
    if too_big:  # read_file's note sends the model here for a big file's rest: skipped, it was "no matches"
        shown = ", ".join(too_big[:5]) + (f" and {len(too_big) - 5} more" if len(too_big) > 5 else "")
        summary += (
            f"; not searched: {shown} (over {MAX_SEARCH_FILE_BYTES // 1_000_000} MB: "
            "run_shell with grep -n searches them)"
        )
    lines = [line for line in (note, summary, *matches, stopped) if line]
    return ToolResult(
        output="\n".join(lines), data={"matches": len(matches), "files": files_hit, "literal": bool(note)}
    )


TOOLS = [
    Tool(
        name="search_code",
        description="Search text files in the workspace for a regular expression (plain text works too); "
        "returns 'file:line: text' for each match. Skips .git, virtualenvs and node_modules.",
        summary="search files for a pattern",
        parameters=object_schema(
            {
                "pattern": {"type": "string", "description": "Regular expression or plain text to find"},
                "path": {
                    "type": "string",
                    "default": ".",
                    "description": "File or folder to search, relative to the workspace (default '.')",
                },
            },
            ["pattern"],
        ),
        risk="read",
        function=search_code,
    ),
]
