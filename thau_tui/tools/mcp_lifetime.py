"""A stdio MCP server that ends when thau does, however thau ends.

The SDK starts a server in a session of its own (start_new_session), so the terminal's
SIGHUP never reaches it, and it ends the server only when thau closes it (Ctrl+Q,
MCPManager.stop). A server that was not reading its stdin when thau went away (hung
before initialize, busy in a tool) never saw the pipe close, and ran on with PPID 1
after SIGHUP, SIGTERM or SIGKILL (MCP review). On Linux the server is started through a
few lines of Python that ask the kernel for SIGTERM when the thread that started it ends
(prctl PR_SET_PDEATHSIG: it follows the thread, and the one that starts servers is the
MCP loop thread, which runs until MCPManager.stop), then exec the server: its pid, argv,
environment, starting folder and signal dispositions are those the SDK would have given
it. A `sandbox: true` server needs none of it: bubblewrap's --die-with-parent does the
same. macOS has no prctl: a server there is started as before. Only the process thau starts is
covered: one it starts in turn (npx's node) ends as that process arranges, or at EOF.

When thau stops a server itself (Ctrl+Q, MCPManager.stop, a restart), the SDK closes its
stdin, waits 2 s, sends SIGTERM to its process group and SIGKILL 2 s later; thau's quit
gives it 3 s, so a server that ignored SIGTERM, and a `sleep` it had started, ran on with
PPID 1; and a server that exits when its stdin closes left its children running (eco
review, 2026-12-07 night). So the server's pid is noted when the SDK starts it
(`note_server_pids`: the SDK starts it in a session of its own, so its pid is its process
group's), and once the SDK's shutdown is over, or thau's wait for it, `end_group` sends
SIGKILL to the whole group.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import shutil
import signal
import sys
from typing import Any, Callable

# Run as `python -I -S -c WRAPPER THAU_PID PROGRAM ARGV0 ARGS...`. What Python's own startup
# changes would reach the server through exec, so it is undone: SIGPIPE and SIGXFSZ ignored
# (subprocess resets them for a child: a shell or node server would get EPIPE where it
# died quietly), and LC_CTYPE set in its environment where the locale is C (PEP 538), as it
# is in the SDK's minimal one: the server gets the environment from /proc/self/environ,
# which holds what execve passed, not what Python changed since.
WRAPPER = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
except Exception:
    pass  # no prctl: the server runs as it would have without this
if os.getppid() != int(sys.argv[1]):
    os._exit(0)  # thau ended before the request took hold
for name in ("SIGPIPE", "SIGXFSZ"):  # ignored by Python's startup; subprocess had reset them
    if hasattr(signal, name):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
try:
    with open("/proc/self/environ", "rb") as given:
        env = dict(item.split(b"=", 1) for item in given.read().split(b"\\0") if b"=" in item)
except OSError:
    env = os.environ
os.execve(sys.argv[2], sys.argv[3:], env)
"""


def dies_with_thau(params: Any, sandboxed: bool) -> Any:
    """The SDK's StdioServerParameters, started through WRAPPER on Linux (see the module);
    unchanged elsewhere, for a sandboxed server, or where the program is not found (the
    SDK's own start then says so, as it did)."""
    if sys.platform != "linux" or sandboxed or not sys.executable:
        return params
    from mcp.client.stdio import get_default_environment

    env = get_default_environment() | (params.env or {})
    program = _program(params.command, env.get("PATH") or os.defpath, params.cwd)
    if program is None:
        return params
    wrapped = [sys.executable, "-I", "-S", "-c", WRAPPER, str(os.getpid()), program, params.command, *params.args]
    return params.model_copy(update={"command": wrapped[0], "args": wrapped[1:]})


def _program(command: str, path: str, cwd: Any) -> str | None:
    """The file the SDK's start would run (subprocess's lookup: a name on the given PATH, a
    path as it is, from the starting folder), or None when there is none to run."""
    if os.sep not in command:
        return shutil.which(command, path=path)
    found = command if os.path.isabs(command) or cwd is None else os.path.join(str(cwd), command)
    return found if os.path.isfile(found) and os.access(found, os.X_OK) else None


# Told the pid of the server being started: set by Connection.transport around stdio_client;
# the SDK starts the process in the task that enters it, so it sees the value.
ON_SPAWN: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar("ON_SPAWN", default=None)


def note_server_pids() -> bool:
    """Make the SDK's stdio transport tell ON_SPAWN each server's pid as it starts it; False,
    and nothing changed, where the SDK no longer starts its servers through the function
    this wraps (the SDK's own shutdown then ends them as it can)."""
    import mcp.client.stdio as sdk

    found = getattr(sdk, "_create_platform_compatible_process", None)
    if getattr(found, "notes_pid", False):
        return True
    if found is None or not inspect.iscoroutinefunction(found) or not hasattr(os, "killpg"):
        return False
    start: Callable[..., Any] = found

    async def noted(*args: Any, **kwargs: Any) -> Any:
        process = await start(*args, **kwargs)
        told = ON_SPAWN.get()
        if told is not None:  # no await from here on: the SDK enters its task group next
            told(process.pid)
        return process

    noted.notes_pid = True  # type: ignore[attr-defined]
    sdk._create_platform_compatible_process = noted
    return True


def end_group(pid: int) -> None:
    """SIGKILL the process group a server leads (what is left of it: a server that exited
    leaves its children there). Called only after the SDK's own shutdown had its chance."""
    if not hasattr(os, "killpg"):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # gone already, or not thau's to end
        pass
