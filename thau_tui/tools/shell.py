"""run_shell: one persistent bash per chat session, inside the sandbox.

Completion and exit status come from a private random prompt marker (PS1),
never from sleeping. Commands are sent as one `eval $'...'` line so multi-line
input never leaves bash waiting at a continuation prompt. A command that sits
waiting for terminal input is noticed (on Linux from /proc: the foreground
process is blocked reading the terminal) and interrupted with a plain message.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pexpect

from .base import Tool, ToolContext, ToolError, ToolResult
from .terminal import foreground_group, group_members, waiting_for_terminal_input
from .workspace import sandbox_prefix, scrubbed_environment, shell_settings

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_IDLE_BEFORE_CHECK = 1.5  # seconds without output before asking "is it waiting for input?"
_CHUNK = 900  # characters of command text per line sent (the tty caps a line at 4095 bytes)

WAITING_MESSAGE = (
    "the command was waiting for input; interactive commands are not supported, "
    "pass input with a pipe or a here-doc"
)


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
            tail = tail[-self.tail_limit:]
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


_PROMPT_LIKE = re.compile(r"(>>>|\.\.\.|[:?>])\s?$")


@dataclass
class ShellResult:
    """What one command produced, for the model (output) and the UI (the flags)."""

    output: str
    exit_status: int | None
    timed_out: bool = False
    interrupted: bool = False
    truncated: bool = False
    waiting_for_input: bool = False
    shell_exited: bool = False
    restarted: bool = False


class ShellSandbox:
    """A persistent bash for one chat session: cd, variables and venvs carry over."""

    def __init__(self, workspace: Path | str, config: Any = None) -> None:
        self.workspace = Path(workspace).expanduser().resolve()
        self.config = config
        self._child: pexpect.spawn | None = None
        self._lock = threading.Lock()
        self._tag = f"__THAU_{secrets.token_hex(6)}_"
        self._marker = re.compile(re.escape(self._tag) + r"(\d+)__")
        self._terminal = 0
        self._had_shell = False

    # -- lifecycle --------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.isalive()

    def start(self) -> None:
        """Start bash (inside the sandbox when there is one) and install the marker prompt."""
        settings = shell_settings(self.config)
        argv = [*sandbox_prefix(self.workspace, self.config), "bash", "--noprofile", "--norc", "--noediting"]
        env = scrubbed_environment({"TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat", "HISTFILE": ""})
        env.pop("PROMPT_COMMAND", None)
        try:
            child = pexpect.spawn(
                argv[0], argv[1:], cwd=str(self.workspace), env=env, encoding="utf-8",
                codec_errors="replace", echo=False, dimensions=(40, 200), timeout=settings.timeout,
            )
        except (pexpect.ExceptionPexpect, OSError) as exc:
            raise ToolError(f"could not start bash: {exc}; is bash installed and on PATH?") from exc
        child.delaybeforesend = None  # pexpect's default 50 ms pause per send is for humans' terminals
        child.sendline(f"PS1='{self._tag}$?__'; PS2=''; PS0=''; unset PROMPT_COMMAND; set +o history")
        try:
            child.expect(self._marker, timeout=15)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            detail = clean_terminal_text(child.before or "").strip()[-500:]
            child.close(force=True)
            raise ToolError(f"the shell did not start: {detail or type(exc).__name__}") from exc
        self._child = child
        self._terminal = self._find_terminal(child.pid)

    @staticmethod
    def _find_terminal(pid: int) -> int:
        """The device number of the shell's pty, to recognise reads from it later."""
        group = foreground_group(pid) if os.path.isdir("/proc/self") else None
        for member in group_members(group) if group else []:
            try:
                return os.stat(f"/proc/{member}/fd/0").st_rdev
            except OSError:
                continue
        return 0

    def close(self) -> None:
        """Stop the shell and everything it started."""
        if self._child is not None:
            try:
                self._child.close(force=True)
            except pexpect.ExceptionPexpect:
                pass
            self._child = None

    # -- running ----------------------------------------------------------
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_output: Callable[[str], None] | None = None,
        cancel_event: threading.Event | None = None,
    ) -> ShellResult:
        """Run one command to completion; output streams through `on_output` as it arrives."""
        settings = shell_settings(self.config)
        timeout = settings.timeout if timeout is None else timeout
        with self._lock:
            restarted = False
            if not self.alive:
                restarted = self._had_shell
                self.close()
                self.start()
                self._had_shell = True
            return _Run(self, command, timeout, settings.output_limit, on_output, cancel_event, restarted).go()


class _Run:
    """One command's round trip: send, pump output, notice stalls, interrupt, report."""

    def __init__(self, shell: ShellSandbox, command: str, timeout: float, limit: int,
                 on_output: Callable[[str], None] | None, cancel_event: threading.Event | None,
                 restarted: bool) -> None:
        self.shell = shell
        self.child = shell._child
        self.command = command
        self.timeout = timeout
        self.cap = OutputCap(limit)
        self.on_output = on_output
        self.cancel_event = cancel_event
        self.restarted = restarted
        self.raw = ""
        self.markers_left = 0
        self.status: int | None = None
        self.eof = False

    def go(self) -> ShellResult:
        lines = self._lines()
        self.markers_left = len(lines)
        self.child.send("\n".join(lines) + "\n")
        start = last_output = time.monotonic()
        timed_out = cancelled = waiting = False
        next_check = start + _IDLE_BEFORE_CHECK
        while self.markers_left and not self.eof:
            if self._pump(0.05):
                last_output = time.monotonic()
                next_check = last_output + _IDLE_BEFORE_CHECK
            now = time.monotonic()
            if self.cancel_event is not None and self.cancel_event.is_set():
                cancelled = True
            elif now - start > self.timeout:
                timed_out = True
            elif now >= next_check:
                waiting = self._waiting(now - last_output)
                next_check = now + 0.5
            if cancelled or timed_out or waiting:
                break
        note = self._stop() if (cancelled or timed_out or waiting) and not self.eof else ""
        return self._result(timed_out, cancelled, waiting, note)

    def _lines(self) -> list[str]:
        """The command as lines bash reads whole: one eval, or chunks built into a variable."""
        if len(self.command) <= _CHUNK:
            return [f"eval {_bash_literal(self.command)}"]
        pieces = [self.command[i:i + _CHUNK] for i in range(0, len(self.command), _CHUNK)]
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
        self.raw += chunk
        while self.markers_left:
            match = self.shell._marker.search(self.raw)
            if match is None:
                break
            self._feed(self.raw[: match.start()])
            self.status = int(match.group(1))
            self.raw = self.raw[match.end():]
            self.markers_left -= 1
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

    def _waiting(self, idle: float) -> bool:
        """Is the command stuck waiting for terminal input?"""
        verdict = waiting_for_terminal_input(self.child.pid, self.shell._terminal)
        if verdict is not None:
            return verdict
        # No /proc: a prompt-like last line after a longer silence is the best sign there is.
        last = (self.cap.tail or self.cap.head).rsplit("\n", 1)[-1]
        return idle > 3 * _IDLE_BEFORE_CHECK and bool(_PROMPT_LIKE.search(last))

    def _still_reading(self) -> bool:
        return bool(waiting_for_terminal_input(self.child.pid, self.shell._terminal))

    def _settle(self, seconds: float) -> bool:
        """Pump until the final marker or EOF; True when the shell is back at its prompt."""
        end = time.monotonic() + seconds
        while self.markers_left and not self.eof and time.monotonic() < end:
            self._pump(0.05)
        return not self.markers_left or self.eof

    def _stop(self) -> str:
        """Bring the shell back to its prompt: Ctrl-C, then EOF, then kill; else restart."""
        self.child.sendintr()
        if self._settle(0.5) or (not self._still_reading() and self._settle(1.5)):
            return "sent Ctrl-C"
        self.child.sendeof()  # a REPL shrugs off Ctrl-C but leaves on EOF
        if self._settle(1.0):
            return "sent Ctrl-C and Ctrl-D"
        group = foreground_group(self.child.pid) if os.path.isdir("/proc/self") else None
        if group and group != os.getpgrp():
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
            if self._settle(2.0):
                return "killed the command"
        self.shell.close()
        return "the shell did not come back, so it was stopped; the next command starts a fresh one"

    def _result(self, timed_out: bool, cancelled: bool, waiting: bool, note: str) -> ShellResult:
        text = self.cap.text().rstrip("\n")
        lines = [text] if text else []
        if self.restarted:
            lines.insert(0, f"[started a fresh shell in {self.shell.workspace}: the previous one had exited, "
                            "so cd and variables were reset]")
        if waiting:
            lines.append(f"[{WAITING_MESSAGE}; {note}]")
        elif timed_out:
            lines.append(f"[timed out after {self.timeout:g} s (tools.shell.timeout); {note}]")
        elif cancelled:
            lines.append(f"[cancelled by the user; {note}]")
        status = self.status
        if self.eof:
            self.shell.close()
            status = self.child.exitstatus if self.child.exitstatus is not None else status
            lines.append(f"[the shell exited (status {status}); the next command starts a fresh one]")
        elif not (timed_out or cancelled or waiting):
            lines.append(f"[exit status {status}]")
        return ShellResult(
            output="\n".join(lines), exit_status=status, timed_out=timed_out,
            interrupted=cancelled or timed_out or waiting, truncated=self.cap.truncated,
            waiting_for_input=waiting, shell_exited=self.eof, restarted=self.restarted,
        )


def session_shell(ctx: ToolContext) -> ShellSandbox:
    """The chat session's shell, created on first use (kept in ctx.resources['shell'])."""
    shell = ctx.resources.get("shell")
    if not isinstance(shell, ShellSandbox) or shell.workspace != Path(ctx.workspace).resolve():
        if isinstance(shell, ShellSandbox):
            shell.close()
        shell = ShellSandbox(ctx.workspace, ctx.config)
        ctx.resources["shell"] = shell
    shell.config = ctx.config
    return shell


def run_shell(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The run_shell tool: one command in the session's persistent shell."""
    command = args.get("command", "")
    if not command.strip():
        raise ToolError("the command is empty; give a shell command such as 'ls -la'")
    result = session_shell(ctx).run(command, on_output=ctx.emit, cancel_event=ctx.cancel_event)
    ok = result.exit_status == 0 and not result.interrupted and not result.shell_exited
    data = {
        "exit_status": result.exit_status, "timed_out": result.timed_out,
        "interrupted": result.interrupted, "truncated": result.truncated,
        "waiting_for_input": result.waiting_for_input, "restarted": result.restarted,
    }
    return ToolResult(output=result.output, ok=ok, data=data)


TOOLS = [
    Tool(
        name="run_shell",
        description=(
            "Run a bash command in a persistent shell in the workspace (cd and variables carry over "
            "between calls). Output and the exit status come back. Interactive commands are not "
            "supported: pass input with a pipe or a here-doc."
        ),
        summary="run a bash command in the workspace's persistent shell",
        parameters={
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The bash command line to run"}},
            "required": ["command"],
            "additionalProperties": False,
        },
        risk="exec",
        function=run_shell,
    )
]
