"""What `thau -m` takes from stdin, as command-line tools do (long-chat review of 2026-12-07:
`seq 1 2000000 | thau -m "How many lines are on stdin?"` answered without the data, and
`thau -m -` sent "-" as the question). `-m -` reads the question there; `-m QUESTION` with
a pipe or a file on stdin gets what it holds after the question, fenced. A terminal is
never read, so nothing waits for Ctrl+D.

The piped text is untrusted, like a file the model reads. It becomes part of the user's
message, so the chat's defusing of template tokens applies to it (Dialect.defuse_turn).
"""

from __future__ import annotations

import re
import select
from typing import BinaryIO, Callable, TextIO, cast

STDIN_QUESTION = "-"  # `thau -m -`: the question is on stdin
CHARS_PER_TOKEN = 4  # about, in prose and code
FAR_OVER = 10  # stdin past this many contexts is refused before it is read to the end
MOST_BYTES = 8 * 1024 * 1024  # whatever the context: a few MB at most in memory
WAIT_NOTE_S = 2.0  # a pipe silent this long: say that thau is reading it


class PipedInputError(Exception):
    """stdin cannot be used: the message says why and what to do."""


def stdin_limit(n_ctx: int) -> int:
    """The most bytes read from stdin: ten times what a context of `n_ctx` tokens holds."""
    return min(MOST_BYTES, FAR_OVER * CHARS_PER_TOKEN * n_ctx)


def fenced(question: str, piped: str) -> str:
    """The question, a blank line, then `piped` in a fenced block longer than any run of
    backticks inside it, so the data cannot close the block and pass for the question."""
    longest = max((len(run) for run in re.findall(r"`+", piped)), default=0)
    fence = "`" * max(3, longest + 1)
    body = piped if piped.endswith("\n") else piped + "\n"
    return f"{question}\n\n{fence}\n{body}{fence}"


def message_with_stdin(question: str, stdin: TextIO | None, n_ctx: int, note: Callable[[str], None]) -> tuple[str, int]:
    """The message `thau -m QUESTION` sends, and how many of its characters came from stdin.

    Raises PipedInputError for a question that is to come from stdin and cannot (a terminal,
    nothing there), or stdin that is too big or binary. `note` says what the user should
    know meanwhile (thau waiting on a silent pipe, a stdin that could not be read)."""
    asked = question == STDIN_QUESTION
    if stdin is None or _is_terminal(stdin) or not _readable(stdin):
        if asked:
            raise PipedInputError(
                "--message - reads the question from stdin, and stdin is a terminal (or closed): pipe the "
                "question in (echo 'the question' | thau -m -), or give it as the argument"
            )
        return question, 0
    try:
        text = read_text(stdin, stdin_limit(n_ctx), n_ctx, note)
    except OSError as exc:
        if asked:
            raise PipedInputError(f"--message -: stdin could not be read ({exc.strerror or exc})") from exc
        note(f"stdin could not be read ({exc.strerror or exc}): the question is sent alone")
        return question, 0
    if asked:
        if not text.strip():  # as `-m ""` is (cli._run)
            raise PipedInputError("--message is empty: stdin held no question (thau -m - reads it from there)")
        return text.rstrip(), 0
    if not text.strip():  # /dev/null, or an `echo` of nothing: the question alone, as before
        return question, 0
    return fenced(question, text), len(text)


def read_text(stdin: TextIO, limit: int, n_ctx: int, note: Callable[[str], None]) -> str:
    """stdin's text, undecodable bytes replaced; at most `limit` bytes are read, and more than
    that is refused without reading the rest. Binary data (a NUL byte) is refused too."""
    if not _ready(stdin, WAIT_NOTE_S):  # a pipe nobody writes to, or a slow command
        note("waiting for stdin: its text goes into the message (give </dev/null for none; Ctrl+C stops)")
    raw = cast("BinaryIO", getattr(stdin, "buffer", stdin))
    data = raw.read(limit + 1)
    if len(data) > limit:
        raise PipedInputError(
            f"stdin holds more than {_size(limit)}, far more than the model's {n_ctx}-token context "
            f"holds (about {CHARS_PER_TOKEN * n_ctx} characters): it was not read to the end, and nothing "
            "was sent. Send the part that matters (head, tail or grep it first), or raise model.n_ctx in "
            "config.yaml."
        )
    if b"\0" in data:
        raise PipedInputError(
            "stdin holds binary data (a NUL byte), and thau -m adds only text to the question: "
            "send text (strings, base64 or xxd make some), or give </dev/null for none."
        )
    encoding = getattr(stdin, "encoding", None) or "utf-8"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:  # an encoding Python does not know (PYTHONIOENCODING)
        return data.decode("utf-8", errors="replace")


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def _is_terminal(stdin: TextIO | None) -> bool:
    try:
        return stdin is not None and stdin.isatty()
    except (OSError, ValueError):
        return False


def _readable(stdin: TextIO) -> bool:
    """False for a stream that cannot be read at all (pytest's stand-in for stdin)."""
    try:
        return bool(stdin.readable())
    except (OSError, ValueError):
        return False


def _ready(stdin: TextIO, seconds: float) -> bool:
    """Whether stdin has something to read (or its end) within `seconds`; True where that
    cannot be asked (no descriptor; select on a pipe where the platform has none)."""
    try:
        ready, _, _ = select.select([stdin.fileno()], [], [], seconds)
    except (OSError, ValueError):
        return True
    return bool(ready)
