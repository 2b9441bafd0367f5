"""Keys typed at once after `thau`, kept for the prompt. textual-image probes what the terminal
can draw by writing a query and reading stdin for the answer, before the app takes the screen;
keys typed meanwhile broke the probe's read and the terminal's late answer (ESC[?1;2c) reached
the prompt as text, so since then everything typed before the first frame was thrown away
(`drop`): a question typed while thau started was lost. Now what was typed before the probe is
read first (`read_pending`, once the app's code is imported) and put in the prompt (`as_text`);
only keys typed while textual-image loads and probes (a few tenths of a second) are still dropped."""

from __future__ import annotations

import contextlib
import os
import re
import sys

# A terminal's key sequences (arrows, F-keys: ESC [ ... letter or ~, ESC O letter) and its answers.
_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|O.|.)?", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_BYTES = 64 * 1024


def read_pending(max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes the terminal holds for stdin now, read without waiting (a line not yet ended
    with Enter too: the terminal is put in non-canonical mode for the read, then back); b"" when
    stdin is not a terminal or this is not POSIX."""
    try:
        import select
        import termios
    except ImportError:
        return b""
    got = b""
    with contextlib.suppress(OSError, termios.error, ValueError):
        if not sys.stdin.isatty():
            return b""
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~(termios.ICANON | termios.ECHO)
        quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 0, 0
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        try:
            while len(got) < max_bytes and select.select([fd], [], [], 0)[0]:
                chunk = os.read(fd, max_bytes - len(got))
                if not chunk:
                    break
                got += chunk
        finally:
            termios.tcsetattr(fd, termios.TCSANOW, before)
    return got


def drop() -> None:
    """Throw away what the terminal sent during the probe (keys and its late answer)."""
    try:
        import termios
    except ImportError:
        return
    with contextlib.suppress(OSError, termios.error, ValueError):
        if sys.stdin.isatty():
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)


def as_text(data: bytes) -> str:
    """What `data` typed, as prompt text: key sequences (arrows, the terminal's answers) and
    control characters left out, Enter as a new line (never a send: the user sends it), a
    backspace taking back the character before it; the trailing Enter dropped."""
    text = _SEQUENCE.sub("", data.decode("utf-8", "replace")).replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for char in text:
        if char in "\x7f\b":
            if kept:
                kept.pop()
        elif not _CONTROL.match(char):
            kept.append(char)
    return "".join(kept).rstrip("\n")
