"""A stdio MCP server ends with thau however thau ends: the terminal closing (SIGHUP),
SIGTERM, SIGKILL, even while the server reads nothing (MCP review: a server hung before
initialize, or busy in a tool, ran on with PPID 1), and when mcp.servers drops it while
the SDK is shutting it down. The server still gets the argv, the environment, the starting
folder and the signal dispositions it had before.

thau is played by a child Python that starts an MCPManager; the server is its child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp_support import HERE, server_config, wait_for

from thau_tui.config import Config, MCPServerConfig
from thau_tui.tools import ToolContext, mcp_connection

ROOT = HERE.parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's (prctl)")

# thau, as far as its MCP servers can tell: an MCPManager started, and, with "call" as the
# last argument, a call to the server's `busy` tool on the way.
THAU = """
import sys, threading, time
from pathlib import Path
from thau_tui.config import MCPServerConfig
from thau_tui.tools import ToolContext
from thau_tui.tools.mcp_client import MCPManager
from thau_tui.tools.registry import ToolRegistry

folder = Path(sys.argv[2])
registry = ToolRegistry()
manager = MCPManager([MCPServerConfig.model_validate_json(sys.argv[1])], registry, workspace=folder,
                     log_dir=folder / "logs", images_dir=folder / "images").start()
if sys.argv[3] == "call":
    manager.wait_ready(30)
    busy = registry.get("changing__busy").function
    threading.Thread(target=busy, args=({}, ToolContext(workspace=folder)), daemon=True).start()
time.sleep(3600)
"""


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for init to reap it is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize(
    ("how", "when"),
    [
        pytest.param(signal.SIGHUP, "hung at start", id="terminal-closed"),
        pytest.param(signal.SIGTERM, "hung at start", id="SIGTERM"),
        pytest.param(signal.SIGKILL, "hung at start", id="SIGKILL"),
        pytest.param(signal.SIGTERM, "busy in a call", id="SIGTERM-during-a-call"),
    ],
)
def test_a_server_that_reads_nothing_ends_when_thau_is_ended(tmp_path, how, when):
    pid_file, busy_file = tmp_path / "server.pid", tmp_path / "busy"
    env = {"CHANGING_PID_FILE": str(pid_file), "CHANGING_BUSY_FILE": str(busy_file)}
    if when == "hung at start":
        env["CHANGING_HANG_AT_START"] = "1"
    config = server_config("changing", "changing_server.py", env=env, startup_timeout=600)
    thau = subprocess.Popen(
        [sys.executable, "-c", THAU, config.model_dump_json(), str(tmp_path), "call" if "call" in when else "-"],
        cwd=ROOT,  # `-c` imports thau_tui from here: this checkout, not an installed copy
        env={**os.environ, "THAU_HOME": str(tmp_path / "home")},
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # as a terminal's session would be: the signal is thau's alone
    )
    server = 0
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 30, "the server to start")
        server = int(pid_file.read_text())
        if "call" in when:
            wait_for(busy_file.exists, 30, "the call to reach the server")
        assert _running(server)
        os.kill(thau.pid, how)
        thau.wait(10)
        # Before the fix the server ran on here for its hour (PPID 1).
        wait_for(lambda: not _running(server), 10, f"the server to end after thau got {how.name}")
    finally:
        if thau.poll() is None:
            thau.kill()
            thau.wait()
        if server and _running(server):
            os.kill(server, signal.SIGKILL)


def _with_marker(marker: bytes) -> list[int]:
    """The live processes whose environment holds `marker`: a sandboxed server and its
    bubblewrap (the server's own pid is its pid namespace's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if _running(pid)]


def test_a_sandboxed_server_ends_with_thau_without_the_wrapper(tmp_path):
    """A `sandbox: true` server is not started through the parent-death lines: bubblewrap's
    --die-with-parent already ends it (and bubblewrap) when the thread that started it ends."""
    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    marker = f"CHANGING_PID_FILE={tmp_path / 'server.pid'}"
    env = {"CHANGING_PID_FILE": marker.split("=", 1)[1], "CHANGING_HANG_AT_START": "1"}
    # The server's file in the workspace: the sandbox hides the host's /tmp, where a checkout
    # (a CI clone) may hold this folder.
    script = tmp_path / "changing_server.py"
    script.write_bytes((HERE / "changing_server.py").read_bytes())
    config = MCPServerConfig(
        name="changing", command=sys.executable, args=[str(script)], env=env, startup_timeout=600, sandbox=True
    )
    thau = subprocess.Popen(
        [sys.executable, "-c", THAU, config.model_dump_json(), str(tmp_path), "-"],
        cwd=ROOT,
        env={**os.environ, "THAU_HOME": str(tmp_path / "home")},
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for((tmp_path / "server.pid").exists, 30, "the server to start")
        started = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in _with_marker(marker.encode())}
        server = [argv for argv in started.values() if not argv[0].endswith(b"bwrap")]
        assert server == [[sys.executable.encode(), str(script).encode(), b""]], started
        os.kill(thau.pid, signal.SIGKILL)
        thau.wait(10)
        wait_for(lambda: not _with_marker(marker.encode()), 10, "the sandboxed server to end")
    finally:
        if thau.poll() is None:
            thau.kill()
            thau.wait()
        for pid in _with_marker(marker.encode()):
            os.kill(pid, signal.SIGKILL)


def test_the_server_gets_the_argv_environment_and_folder_it_was_configured_with(start_servers, tmp_path):
    """The server is started through a few lines of Python that exec it: nothing of those
    lines may show (Python sets LC_CTYPE in its own environment where the locale is C)."""
    from mcp.client.stdio import get_default_environment

    config = server_config("changing", "changing_server.py", env={"MY_SETTING": "x y"})
    manager, registry, _ = start_servers(config)
    result = registry.get("changing__whoami").function({}, ToolContext(workspace=tmp_path))
    seen = json.loads(result.output)
    wanted = mcp_connection.stdio_params(config, tmp_path, None)
    assert seen["argv"] == [wanted.command, *wanted.args]
    assert seen["env"] == get_default_environment() | wanted.env
    assert seen["cwd"] == wanted.cwd
    assert seen["ppid"] == os.getpid()  # exec'd in place: thau's own child, as before


def test_a_server_taken_out_while_it_is_being_shut_down_still_ends(tmp_path):
    """A server that failed to start (here: hung before initialize) is being shut down by the
    SDK (stdin closed, a wait, then SIGTERM) when mcp.servers drops it. The native
    task.cancel() that stopped its supervisor broke into that shielded shutdown and the
    server ran on, reading nothing, until thau ended (MCP review, found while fixing it)."""
    from thau_tui.tools.mcp_client import MCPManager
    from thau_tui.tools.registry import ToolRegistry

    pid_file = tmp_path / "server.pid"
    env = {"CHANGING_PID_FILE": str(pid_file), "CHANGING_HANG_AT_START": "1"}
    config = server_config("changing", "changing_server.py", env=env, startup_timeout=0.5)
    manager = MCPManager([config], ToolRegistry(), workspace=tmp_path, log_dir=tmp_path / "logs").start()
    server = 0
    try:
        wait_for(pid_file.exists, 30, "the server to start")
        server = int(pid_file.read_text())
        time.sleep(1.0)  # its start has timed out; the SDK's shutdown waits 2 s for it to exit
        manager.update([])
        assert not _running(server)
    finally:
        manager.stop()
        if server and _running(server):
            os.kill(server, signal.SIGKILL)


def test_the_server_gets_the_signal_dispositions_it_had(start_servers, tmp_path):
    """Python's startup ignores SIGPIPE and SIGXFSZ, and an exec keeps what is ignored: a
    shell or node server started through the parent-death lines must still die of them, as
    it did when subprocess started it (it resets them)."""
    seen = tmp_path / "sigign"
    script = f"grep SigIgn /proc/$$/status > {seen}; exec {sys.executable} {HERE / 'changing_server.py'}"
    start_servers(MCPServerConfig(name="changing", command="sh", args=["-c", script]))
    ignored = int(seen.read_text().split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1) | 1 << (signal.SIGXFSZ - 1)), hex(ignored)
