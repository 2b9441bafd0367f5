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
from typing import TYPE_CHECKING, Any, Callable, Literal

from .base import Tool, ToolContext, ToolError, ToolResult
from .limits import ProcessCap
from .sandbox import sandbox_kind, sandbox_prefix
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


# Run inside bubblewrap ahead of the command: RLIMIT_NPROC set there, in the sandbox's own
# user namespace, counts the sandbox's processes only, as the shell's `ulimit -u` does
# (limits.py). Set before bubblewrap starts (in the preexec), the kernel counts every process
# of the user against it: a desktop running more than the cap could not even start the
# sandbox ("Creating new namespace failed: Resource temporarily unavailable").
_CAP_PROCESSES = (
    "import os, resource, sys\n"
    "n = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n))\n"
    "try:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "except OSError as exc:\n"
    "    print(f'could not start {sys.argv[2]}: {exc.strerror}', file=sys.stderr)\n"
    "    os._exit(127)\n"
)


def _prepare_child(
    megabytes: int | None, memory_kind: Literal["address", "data"], cap: ProcessCap | None
) -> Callable[[], None] | None:
    """A preexec_fn that caps the child's memory (ignored where unsupported) and moves it into
    the pids cgroup `cap` (root: the kernel does not hold root to RLIMIT_NPROC)."""
    if not megabytes and cap is None:
        return None

    def apply() -> None:
        if cap is not None:
            cap.join()
        if not megabytes:
            return
        try:
            import resource

            size = megabytes * 1024 * 1024
            which = resource.RLIMIT_AS if memory_kind == "address" else resource.RLIMIT_DATA
            resource.setrlimit(which, (size, size))
        except (ImportError, ValueError, OSError):
            pass

    return apply


def run_process(
    argv: list[str],
    ctx: ToolContext,
    *,
    timeout: float,
    memory_mb: int | None = None,
    memory_kind: Literal["address", "data"] = "address",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    sandboxed: bool = True,
    stream: bool = True,
    writable: bool = True,
) -> ProcessResult:
    """Run argv in the workspace (inside the sandbox), streaming to ctx.emit, capped output.
    writable=False (a tool that runs without a card): the sandbox keeps the workspace
    read-only and the network off, whatever tools.shell.network says: what it reads must
    not leave the machine unasked.
    memory_mb caps each process: its address space (memory_kind "address", run_python's
    tools.python.memory_mb) or its data (memory_kind "data": the shell's mechanism, which
    leaves programs that reserve large address ranges alone). Inside bubblewrap the
    processes are capped at tools.shell.max_processes, like the shell's; without it they
    are not (outside a user namespace RLIMIT_NPROC counts all the user's processes)."""
    workspace = Path(ctx.workspace).resolve()
    settings = shell_settings(ctx.config)
    prefix = sandbox_prefix(workspace, ctx.config, writable=writable, network=None if writable else False)
    cap: ProcessCap | None = None
    if not sandboxed:
        full = list(argv)
    elif sandbox_kind(ctx.config)[0] == "bwrap":
        launcher = [sys.executable, "-I", "-S", "-c", _CAP_PROCESSES, str(settings.max_processes)]
        full = [*prefix, *launcher, *argv]
        cap = ProcessCap(settings.max_processes) if os.geteuid() == 0 else None
    else:
        full = [*prefix, *argv]
    try:
        return _run(
            full,
            argv[0],
            ctx,
            timeout,
            env,
            cwd or workspace,
            stream,
            settings.output_limit,
            _prepare_child(memory_mb, memory_kind, cap),
        )
    finally:
        if cap is not None:
            cap.close()  # and whatever is left in it


def _run(
    full: list[str],
    program: str,
    ctx: ToolContext,
    timeout: float,
    env: dict[str, str] | None,
    cwd: Path,
    stream: bool,
    limit: int,
    preexec: Callable[[], None] | None,
) -> ProcessResult:
    """Start `full` and read it to its end (see run_process)."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            full,
            cwd=str(cwd),
            env=env or scrubbed_environment(None, ctx.config),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
        )
    except OSError as exc:
        raise ToolError(f"could not start {program}: {exc}") from exc
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
