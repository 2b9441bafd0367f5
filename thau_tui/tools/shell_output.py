"""Reading one shell command's output: the lines sent, the pty pump, the prompt marker.

Split out of shell.py, whose _Run inherits these methods unchanged. The command is
sent as one `eval $'...'` line (or chunks built into a variable, since the tty caps a
line); what comes back is read without blocking, every prompt marker (PS1, carrying
`$?`) is cut out and counted (the last one is the real prompt; earlier ones may be
forged, which is why shell.py also asks /proc whether bash is idle), and a tail that
may be the start of a marker or of an escape sequence is held back until more arrives.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Callable

import pexpect

from .terminal_text import _ANSI, OutputCap, _bash_literal, clean_terminal_text

if TYPE_CHECKING:
    from .shell import ShellSandbox

_CHUNK = 900  # characters of command text per line sent (the tty caps a line at 4095 bytes)


class _OutputReader:
    """The output half of one command's round trip (shell._Run sets these attributes)."""

    shell: ShellSandbox
    child: pexpect.spawn[str]
    command: str
    cap: OutputCap
    on_output: Callable[[str], None] | None
    raw: str
    markers_left: int
    status: int | None
    eof: bool

    def _lines(self) -> list[str]:
        """The command as lines bash reads whole: one eval, or chunks built into a variable."""
        if len(self.command) <= _CHUNK:
            return [f"eval {_bash_literal(self.command)}"]
        pieces = [self.command[i : i + _CHUNK] for i in range(0, len(self.command), _CHUNK)]
        lines = [f"__thau_cmd={_bash_literal(pieces[0])}"]
        lines += [f"__thau_cmd+={_bash_literal(p)}" for p in pieces[1:]]
        return lines + ['eval "$__thau_cmd"']

    def _pump(self, wait: float) -> bool:
        """Read what is there (up to `wait` s); True when anything arrived."""
        try:
            chunk = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return False
        except pexpect.EOF:
            self.eof = True
            chunk = ""
        except (OSError, ValueError) as exc:
            # The shell was closed under the command (the chat or `thau -m` ending while it
            # ran; pexpect's ValueError once its close is done): stopped, not a crash with an
            # EBADF traceback (headless review).
            if not (self.child.closed or getattr(exc, "errno", None) == errno.EBADF):
                raise
            self.eof = True
            chunk = ""
        self.raw += chunk
        while True:  # every marker: the last one is the real prompt, earlier ones may be forged
            match = self.shell._marker.search(self.raw)
            if match is None:
                break
            self._feed(self.raw[: match.start()])
            self.status = int(match.group(1))
            self.raw = self.raw[match.end() :]
            self.markers_left = max(0, self.markers_left - 1)
        if self.eof:
            self._feed(self.raw)
            self.raw = ""
        else:
            ready, self.raw = self._hold_back(self.raw)
            self._feed(ready)
        return bool(chunk)

    def _hold_back(self, text: str) -> tuple[str, str]:
        """Split off a tail that may be the start of the marker or of an escape sequence."""
        tag = self.shell._tag
        cut = text.find(tag)
        if cut == -1:
            cut = len(text)
            for k in range(min(len(tag) - 1, len(text)), 0, -1):
                if text.endswith(tag[:k]):
                    cut = len(text) - k
                    break
        escape = text.rfind("\x1b", max(0, cut - 64), cut)
        if escape != -1 and not _ANSI.match(text, escape):
            cut = escape
        if cut and text[cut - 1] == "\r":
            cut -= 1
        return text[:cut], text[cut:]

    def _feed(self, text: str) -> None:
        if not text:
            return
        text = clean_terminal_text(text)
        self.cap.add(text)
        if self.on_output and text:
            self.on_output(text)
