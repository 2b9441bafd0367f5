"""run_python: run a snippet in a fresh, isolated Python subprocess.

`run_process` is the shared runner (run_python, debug_code, run_tests,
search_docs): it streams output, enforces a timeout and a memory limit, and
kills the whole process group on timeout or cancel, and once the process exits.
"""

from __future__ import annotations

import codecs
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .base import Tool, ToolContext, ToolError, ToolResult
from .sandbox import sandbox_prefix
from .terminal_text import OutputCap
from .workspace import scrubbed_environment, shell_settings

if TYPE_CHECKING:
    from thau_tui.config import Config, PythonToolConfig


def python_settings(config: Config | None) -> PythonToolConfig:
    """config.tools.python, or the defaults when no config was given."""
    from thau_tui.config import Config

    return (config or Config()).tools.python


@dataclass
class ProcessResult:
    """What a finished (or stopped) subprocess produced."""

    output: str
    exit_status: int | None
    timed_out: bool = False
    cancelled: bool = False
    truncated: bool = False
    seconds: float = 0.0


def _limit_memory(megabytes: int | None) -> Callable[[], None] | None:
    """A preexec_fn that caps the child's address space (ignored where unsupported)."""
    if not megabytes:
        return None

    def apply() -> None:
        try:
            import resource

            size = megabytes * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        except (ImportError, ValueError, OSError):
            pass

    return apply


def run_process(
    argv: list[str],
    ctx: ToolContext,
    *,
    timeout: float,
    memory_mb: int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    sandboxed: bool = True,
    stream: bool = True,
    writable: bool = True,
) -> ProcessResult:
    """Run argv in the workspace (inside the sandbox), streaming to ctx.emit, capped output.
    writable=False (a tool that runs without a card): the sandbox keeps the workspace
    read-only and the network off, whatever tools.shell.network says: what it reads must
    not leave the machine unasked."""
    workspace = Path(ctx.workspace).resolve()
    limit = shell_settings(ctx.config).output_limit
    prefix = sandbox_prefix(workspace, ctx.config, writable=writable, network=None if writable else False)
    full = [*prefix, *argv] if sandboxed else list(argv)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            full,
            cwd=str(cwd or workspace),
            env=env or scrubbed_environment(None, ctx.config),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limit_memory(memory_mb),
        )
    except OSError as exc:
        raise ToolError(f"could not start {argv[0]}: {exc}") from exc
    except ValueError as exc:  # "embedded null byte": an argument no program can be given
        raise ToolError("an argument holds a NUL character (\\x00), which no program can take; remove it") from exc
    cap = OutputCap(limit)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    timed_out = cancelled = False
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    eof = False
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if not (cancelled or timed_out):
                cancelled = ctx.cancel_event.is_set()
                timed_out = not cancelled and now - start > timeout
                if cancelled or timed_out:
                    _kill_group(proc)
            chunk = b""
            if eof:
                time.sleep(0.02)
            elif selector.select(timeout=0.05):
                try:
                    chunk = proc.stdout.read(65536)
                except BlockingIOError:
                    chunk = b""
                if chunk is not None and not chunk:
                    eof = True
            if exited_at is None and _exited(proc):
                exited_at = now
                # What the code left running in its group would go on (writing the workspace)
                # after the user saw the result. Inside bubblewrap the PID namespace ends it all
                # already; without a sandbox (tools.shell.sandbox: none, macOS) this does.
                _kill_group(proc)
            if exited_at is not None:
                # Done at EOF, or shortly after exit when a leftover child keeps the pipe open.
                if eof or (not chunk and now - exited_at > 0.2):
                    break
            text = decoder.decode(chunk or b"")
            if text:
                text = text.replace("\r\n", "\n")
                cap.add(text)
                if stream:
                    ctx.emit(text)
    proc.stdout.close()
    status = proc.wait()
    return ProcessResult(
        output=cap.text(),
        exit_status=status,
        timed_out=timed_out,
        cancelled=cancelled,
        truncated=cap.truncated,
        seconds=time.monotonic() - start,
    )


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Has the process exited? Asked without reaping it where waitid can (Linux, macOS):
    while unreaped its id stays taken, so the group kill that follows reaches its own
    group and no other that a new process took the freed id for."""
    if proc.returncode is not None:
        return True
    if not hasattr(os, "waitid"):
        return proc.poll() is not None
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped elsewhere
        return proc.poll() is not None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_ending(result: ProcessResult, timeout: float, setting: str, memory_mb: int | None = None) -> str:
    """The closing line the model reads: exit status, or why the process was stopped."""
    if result.timed_out:
        return f"[timed out after {timeout:g} s ({setting}); the process was stopped]"
    if result.cancelled:
        return "[cancelled by the user; the process was stopped]"
    line = f"[exit status {result.exit_status}]"
    if memory_mb and "MemoryError" in result.output:
        line += f" [the code ran out of memory: the limit is {memory_mb} MB (tools.python.memory_mb)]"
    elif result.exit_status is not None and result.exit_status < 0:
        line += f" [killed by signal {-result.exit_status}]"
    return line


def python_command(code: str) -> list[str]:
    """Isolated (-I: no user site, no PYTHON* env, no cwd on sys.path), unbuffered (-u)."""
    return [sys.executable, "-I", "-u", "-c", code]


def run_python(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The run_python tool."""
    code = args.get("code", "")
    if not code.strip():
        raise ToolError("the code is empty; give Python source such as 'print(2 + 2)'")
    settings = python_settings(ctx.config)
    result = run_process(python_command(code), ctx, timeout=settings.timeout, memory_mb=settings.memory_mb)
    ending = describe_ending(result, settings.timeout, "tools.python.timeout", settings.memory_mb)
    body = result.output.rstrip("\n")
    output = f"{body}\n{ending}" if body else ending
    ok = result.exit_status == 0 and not (result.timed_out or result.cancelled)
    data = {
        "exit_status": result.exit_status,
        "timed_out": result.timed_out,
        "cancelled": result.cancelled,
        "truncated": result.truncated,
        "seconds": round(result.seconds, 3),
    }
    return ToolResult(output=output, ok=ok, data=data)


TOOLS = [
    Tool(
        name="run_python",
        description=(
            "Run Python code in a fresh isolated subprocess in the workspace and return what it "
            "prints and its exit status. Each call starts clean; stdin is empty; time and memory are limited."
        ),
        summary="run Python code in a fresh subprocess and return its output",
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Python source to run; print what you need"}},
            "required": ["code"],
            "additionalProperties": False,
        },
        risk="exec",
        function=run_python,
    )
]
