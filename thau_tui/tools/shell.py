"""run_shell: one persistent bash per chat session, inside the sandbox.

The shell lives for the whole chat, whatever thread runs a call: it is started
from one long-lived thread (bubblewrap's --die-with-parent follows the thread
that forked it, and the agent runs each tool in a new thread).

A command ends when bash prints its prompt marker (PS1, carrying `$?`) *and*
the kernel says bash is back at its prompt: bash itself is the terminal's
foreground process, blocked in the very read() it makes at its prompt (same
buffer and size as when the shell started, read from /proc). A command can
print the marker text itself (PS1 is readable), but it cannot make bash idle
while it still runs, so a forged marker never ends the call early. Where /proc
is missing (macOS), the marker alone decides.

Commands are sent as one `eval $'...'` line so multi-line input never leaves
bash waiting at a continuation prompt. A command that sits waiting for terminal
input is noticed (on Linux from /proc) and interrupted with a plain message.
The shell's processes and memory are capped (thau_tui/tools/limits.py); a
command whose processes reach the cap is stopped with the whole shell. How bash
is started (sandbox, environment, the forked child's setup) is shell_spawn.py;
sending a command and reading its output up to the marker is shell_output.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pexpect

from .base import Tool, ToolContext, ToolError, ToolResult
from .limits import ProcessCap, namespace_count
from .shell_output import _CHUNK, _OutputReader  # noqa: F401
from .shell_spawn import (
    ShellLaunch,
    _terminal_modes,
    find_prompt,
    folder_by_lsof,
    hidden_change,
    hidden_now,
    repositories_made,
    repository_ids,
    shell_pid,
)
from .terminal import foreground_group, waiting_for_terminal_input
from .terminal_text import _ANSI, OutputCap, _bash_literal, clean_terminal_text  # noqa: F401
from .workspace import hidden_candidates, shell_settings

if TYPE_CHECKING:
    from thau_tui.config import Config

_IDLE_BEFORE_CHECK = 1.5  # seconds without output before asking "is it waiting for input?"
HIDDEN_CHANGED = "a file or folder the sandbox hides was made or replaced"
_CAP_CHECK = 0.5  # seconds between looks at how many processes the shell has

WAITING_MESSAGE = (
    "the command was waiting for input; interactive commands are not supported, pass input with a pipe or a here-doc"
)


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
    process_limit: bool = False
    fresh: bool = False  # the shell was started for this command: no earlier command changed it


class ShellSandbox:
    """A persistent bash for one chat session: cd, variables and venvs carry over."""

    def __init__(self, workspace: Path | str, config: Config | None = None) -> None:
        self.workspace = Path(workspace).expanduser().resolve()
        self.config = config
        self._child: pexpect.spawn[str] | None = None
        self._modes: list[Any] | None = None  # the terminal's modes when the shell started
        self._lock = threading.Lock()
        self._tag = f"__THAU_{secrets.token_hex(6)}_"
        self._marker = re.compile(re.escape(self._tag) + r"(\d+)__")
        self._terminal = 0
        self._had_shell = False
        self._bash_pid: int | None = None
        self._prompt_read: tuple[str, ...] | None = None  # bash's read() at its prompt (/proc)
        self._cap: ProcessCap | None = None
        self._sandboxed = False
        self.max_processes = 0
        self.stopped_because = ""  # why thau stopped the last shell itself, for the next result
        self._kept: dict[Path, tuple[int, int]] = {}  # the repositories this shell's sandbox keeps read-only
        self._hidden: dict[str, tuple[int, int]] = {}  # what it hides, as it was (hidden_now)
        self._candidates: list[Path] = []

    # -- lifecycle --------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.isalive()

    def start(self) -> None:
        """Start bash (inside the sandbox when there is one) and install the marker prompt."""
        self._candidates = hidden_candidates(self.config)  # read once: 0.65 ms a command otherwise
        self._hidden = hidden_now(self._candidates)  # before the plan: a change after it is seen
        launch = ShellLaunch.plan(self.workspace, self.config)
        self.max_processes = launch.max_processes
        self._sandboxed = launch.sandboxed
        self._kept = repository_ids(self.workspace) if launch.sandboxed else {}
        child, cap = launch.spawn()
        limits = launch.ulimits
        child.sendline(
            f"PS1='{self._tag}$?__'; PS2=''; PS0=''; unset PROMPT_COMMAND; set +o history; set -o ignoreeof; "
            f"bind 'set bind-tty-special-chars off' 2>/dev/null; {limits}"
        )
        try:
            child.expect(self._marker, timeout=15)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            detail = clean_terminal_text(child.before or "").strip()[-500:]
            child.close(force=True)
            if cap:
                cap.close()
            raise ToolError(f"the shell did not start: {detail or type(exc).__name__}") from exc
        self._child = child
        self._cap = cap
        self._modes = _terminal_modes(child)
        self._terminal, self._bash_pid, self._prompt_read = find_prompt(shell_pid(child))
        if self.process_count() is not None:
            threading.Thread(target=self._watch, args=(child,), name="thau-shell-watch", daemon=True).start()

    def at_prompt(self) -> bool | None:
        """Is bash idle at its own prompt? None when this platform cannot tell."""
        if self._bash_pid is None or self._prompt_read is None or self._child is None:
            return None
        if foreground_group(shell_pid(self._child)) != self._bash_pid:
            return False
        try:
            with open(f"/proc/{self._bash_pid}/syscall") as fh:
                return tuple(fh.read().split()[:4]) == self._prompt_read
        except OSError:
            return False

    def current_folder(self) -> str | None:
        """Where the shell is now (its working folder, as the sandbox binds it: the same path
        outside); None when no shell runs (the next one starts in the workspace); "?" plus
        why when that cannot be told."""
        if self._child is None or not self.alive:
            return None
        if self._bash_pid is not None and os.path.isdir("/proc/self"):
            try:
                return os.readlink(f"/proc/{self._bash_pid}/cwd")
            except OSError as exc:
                return f"?where the shell is cannot be told ({exc.strerror or exc})"
        return folder_by_lsof(shell_pid(self._child), self.workspace)  # macOS: no /proc

    def hidden_changed(self, made_only: bool = False) -> str:
        """A path the sandbox hides that was made (or replaced) since this shell started; ""."""
        return hidden_change(self._hidden, hidden_now(self._candidates), made_only=made_only) if self._sandboxed else ""

    def process_count(self) -> int | None:
        """How many processes the shell has now (None when it cannot be told)."""
        if self._cap is not None and self._cap.path is not None:
            return self._cap.count()
        if self._sandboxed and self._bash_pid is not None:
            return namespace_count(self._bash_pid)  # bubblewrap gives the shell its own pid namespace
        return None

    def at_process_cap(self) -> bool:
        count = self.process_count()
        return count is not None and count >= self.max_processes - 2

    def close(self) -> None:
        """Stop the shell and everything it started."""
        if self._child is not None:
            try:
                self._child.close(force=True)
            except pexpect.ExceptionPexpect:
                pass
            self._child = None
        if self._cap is not None:
            self._cap.close()
            self._cap = None
        self._bash_pid = self._prompt_read = None

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
            restarted = fresh = False
            if self.alive and (changed := self.hidden_changed()):
                self.stopped_because = f"{HIDDEN_CHANGED} ({changed})"
                self.close()  # bwrap's view is fixed at its start: the new or replaced file showed through
            if not self.alive:
                restarted, fresh = self._had_shell, True
                self.close()
                self.start()
                self._had_shell = True
            self._restore_modes()
            result = _Run(self, command, timeout, settings.output_limit, on_output, cancel_event, restarted).go()
            result.fresh = fresh
            if self._sandboxed and (made := repositories_made(self.workspace, self.config, self._kept)):
                result.output += made  # writable in this sandbox: the next shell's keeps them read-only
                self.stopped_because = "a repository was made, which the new shell keeps read-only"
                self.close()
            return result

    def _restore_modes(self) -> None:
        """The terminal's modes as the shell started with them, before each command line is
        sent: a command allowed once (stty, or any program) could set the terminal's kill or
        interrupt character to a letter, and the text of the next command after that letter
        ran on its own (`stty intr Q`, then an approved `ls 'xQ touch PWNED #'`). Readline
        takes no special keys from the terminal (bind-tty-special-chars off, at start)."""
        if self._child is not None and self._modes is not None:
            with contextlib.suppress(termios.error, OSError, ValueError):
                termios.tcsetattr(self._child.child_fd, termios.TCSANOW, self._modes)

    def _watch(self, child: pexpect.spawn[str]) -> None:
        """Between commands: stop the shell when something left in the background (a fork
        bomb) holds it at the process cap. During a command, the command's own loop looks."""
        while self._child is child and child.isalive():
            time.sleep(_CAP_CHECK)
            if not self._lock.acquire(blocking=False):
                continue  # a command is running
            try:
                if self._child is child and (changed := self.hidden_changed()):
                    self.stopped_because = f"{HIDDEN_CHANGED} after the last command ({changed})"
                    self.close()  # a job left in the background would read it
                elif self._child is child and self.at_process_cap():
                    self.stopped_because = (
                        f"its processes reached the limit of {self.max_processes} "
                        "(tools.shell.max_processes) after the last command"
                    )
                    self.close()
            finally:
                self._lock.release()


class _Run(_OutputReader):
    """One command's round trip: send, pump output, notice stalls, interrupt, report."""

    def __init__(
        self,
        shell: ShellSandbox,
        command: str,
        timeout: float,
        limit: int,
        on_output: Callable[[str], None] | None,
        cancel_event: threading.Event | None,
        restarted: bool,
    ) -> None:
        if shell._child is None:
            raise ToolError("the shell is not running")  # run() starts it before a command
        self.shell = shell
        self.child = shell._child
        self.pid = shell_pid(shell._child)
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
        self.capped = False

    def go(self) -> ShellResult:
        lines = self._lines()
        self.markers_left = len(lines)
        self.child.send("\n".join(lines) + "\n")
        start = last_output = time.monotonic()
        timed_out = cancelled = waiting = capped = exposed = False
        next_check = start + _IDLE_BEFORE_CHECK
        next_cap_check = start + _CAP_CHECK
        while not self.eof:
            if self._pump(0.05):
                last_output = time.monotonic()
                next_check = last_output + _IDLE_BEFORE_CHECK
            if self._finished():
                break
            now = time.monotonic()
            if self.cancel_event is not None and self.cancel_event.is_set():
                cancelled = True
            elif now - start > self.timeout:
                timed_out = True
            elif now >= next_cap_check:
                capped = self.shell.at_process_cap()
                # a secret made or replaced while the command runs: it showed through (attacker re-review)
                # one made only: a REPL's history saved on quit stopped builds (the next command hides it)
                exposed = not capped and bool(self.shell.hidden_changed(made_only=True))
                next_cap_check = now + _CAP_CHECK
            if not (cancelled or timed_out or capped) and now >= next_check:
                waiting = self._waiting(now - last_output)
                next_check = now + 0.5
            if cancelled or timed_out or waiting or capped or exposed:
                break
        if not (capped or self.eof):
            capped = self.shell.at_process_cap()  # a fork bomb left running in the background
        if capped or exposed:
            note = self._stop_shell(exposed)
        else:
            note = self._stop() if (cancelled or timed_out or waiting) and not self.eof else ""
        return self._result(timed_out, cancelled, waiting, note, capped, exposed)

    def _finished(self) -> bool:
        """Every marker seen and bash really back at its prompt (not a marker the command printed)."""
        if self.markers_left:
            return False
        idle = self.shell.at_prompt()
        if idle is None:  # no /proc: the marker is all there is
            return True
        if idle:
            self._pump(0)  # output written just before the prompt, and its marker
            return True
        return False

    def _stop_shell(self, exposed: bool = False) -> str:
        """The command's processes reached the cap, or a path the sandbox hides changed: stop
        the shell and all it started."""
        self.shell.stopped_because = (
            HIDDEN_CHANGED
            if exposed
            else f"its processes reached the limit of {self.shell.max_processes} (tools.shell.max_processes)"
        )
        self.shell.close()
        self.eof = True
        self.capped = True
        return ""

    def _waiting(self, idle: float) -> bool:
        """Is the command stuck waiting for terminal input?"""
        verdict = waiting_for_terminal_input(self.pid, self.shell._terminal)
        if verdict is not None:
            return verdict
        # No /proc: a prompt-like last line after a longer silence is the best sign there is.
        last = (self.cap.tail or self.cap.head).rsplit("\n", 1)[-1]
        return idle > 3 * _IDLE_BEFORE_CHECK and bool(_PROMPT_LIKE.search(last))

    def _still_reading(self) -> bool:
        return bool(waiting_for_terminal_input(self.pid, self.shell._terminal))

    def _settle(self, seconds: float) -> bool:
        """Pump until bash is back at its prompt or EOF; True when it is."""
        end = time.monotonic() + seconds
        self.markers_left = min(self.markers_left, 1)  # Ctrl-C drops the lines bash has not read
        while not self.eof and time.monotonic() < end:
            self._pump(0.05)
            if self._finished():
                return True
        return self._finished() or self.eof

    def _stop(self) -> str:
        """Bring the shell back to its prompt: Ctrl-C, then EOF, then kill; else restart."""
        self.child.sendintr()
        # 3 s in all for bash to take the Ctrl-C back to its prompt: on a saturated CI machine
        # 2 s ran out and a plain `sleep` was killed instead of interrupted.
        if self._settle(0.5) or (not self._still_reading() and self._settle(2.5)):
            return "sent Ctrl-C"
        if self._still_reading():  # only then: a Ctrl-D nobody reads would end the shell later
            self.child.sendeof()  # a REPL shrugs off Ctrl-C but leaves on EOF
            if self._settle(1.0):
                return "sent Ctrl-C and Ctrl-D"
        group = foreground_group(self.pid) if os.path.isdir("/proc/self") else None
        if group and group != os.getpgrp():  # bash killed first: once its command was killed it ran the
            with contextlib.suppress(OSError):  # rest of the line (`trap "" INT; sleep 9; rm x`: diff review)
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        self.shell.stopped_because = "the last command ignored Ctrl-C"
        self.shell.close()
        return "it ignored Ctrl-C, so it and the shell were stopped (nothing after it ran); a fresh shell is next"

    def _result(
        self, timed_out: bool, cancelled: bool, waiting: bool, note: str, capped: bool = False, exposed: bool = False
    ) -> ShellResult:
        text = self.cap.text().rstrip("\n")
        lines = [text] if text else []
        if self.restarted:
            why = self.shell.stopped_because or "the previous one had exited"
            self.shell.stopped_because = ""
            reset = "so cd, variables and background jobs were reset"
            lines.insert(0, f"[started a fresh shell in {self.shell.workspace}: {why}, {reset}]")
        if waiting:
            lines.append(f"[{WAITING_MESSAGE}; {note}]")
        elif timed_out:
            lines.append(f"[timed out after {self.timeout:g} s (tools.shell.timeout); {note}]")
        elif cancelled:
            lines.append(f"[cancelled by the user; {note}]")
        status = self.status
        if capped or exposed:
            why = (
                f"the command's processes reached the limit of {self.shell.max_processes} (tools.shell.max_processes)"
                if capped
                else HIDDEN_CHANGED + " while the command ran"
            )
            lines.append(
                f"[{why}, so the shell was stopped with everything it started; the next command starts a fresh one]"
            )
            status = None
        elif self.eof:
            self.shell.close()
            status = self.child.exitstatus if self.child.exitstatus is not None else status
            lines.append(f"[the shell exited (status {status}); the next command starts a fresh one]")
        elif not (timed_out or cancelled or waiting):
            lines.append(f"[exit status {status}]")
        return ShellResult(
            output="\n".join(lines),
            exit_status=status,
            timed_out=timed_out,
            interrupted=cancelled or timed_out or waiting,
            truncated=self.cap.truncated,
            waiting_for_input=waiting,
            shell_exited=self.eof,
            restarted=self.restarted,
            process_limit=capped,
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
    # A shell that ended with status 0 was asked to (`exit`, the reset a changed shell's card
    # advises): done, not failed (skeptic review). One that died another way still failed.
    ok = result.exit_status == 0 and not result.interrupted
    ok = ok and not result.process_limit
    data = {
        "exit_status": result.exit_status,
        "timed_out": result.timed_out,
        "interrupted": result.interrupted,
        "truncated": result.truncated,
        "waiting_for_input": result.waiting_for_input,
        "restarted": result.restarted,
        "process_limit": result.process_limit,
        "fresh_shell": result.fresh,
        "shell_exited": result.shell_exited,
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
