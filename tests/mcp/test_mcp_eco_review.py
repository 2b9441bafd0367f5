"""Three MCP faults the eco review (2026-12-07 night) reproduced with real servers:

- a `url:` server's result over 1 MiB failed: the SDK's event stream keeps its own 1 MiB
  bound on each event, under thau's (mcp_http.MAX_REPLY_BYTES), and the stream's failure
  was put as "the server refused the call";
- a server that hung while starting was still "starting" when wait_ready returned: the
  failure was set only after its connection had closed, which takes a stdio server seconds;
- a server that ignores SIGTERM, and a child it started, outlived thau's quit
  (MCPManager.stop(timeout=3) gave up before the SDK's SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp_support import HERE, server_config, wait_for
from test_mcp_http import _serve, free_port, listening

from thau_tui.config import MCPServerConfig
from thau_tui.tools import ToolContext
from thau_tui.tools.mcp_client import MCPManager
from thau_tui.tools.registry import ToolRegistry


@pytest.fixture
def http_notes(notes_dir):
    yield from _serve(notes_dir)


def test_a_result_over_a_megabyte_comes_over_http_as_over_stdio(start_servers, http_notes, notes_dir, tmp_path):
    # 1.5 MB of text; the SDK's server sends it twice (content and structuredContent)
    text = "HEAD-" + "x" * 1_500_000 + "-TAIL"
    (notes_dir / "big").write_text(text)
    stdio = server_config(env={"NOTES_DIR": str(notes_dir)}, call_timeout=60)
    manager, registry, _ = start_servers(MCPServerConfig(name="web", url=http_notes, call_timeout=60), stdio)
    assert [state.status for state in manager.states()] == ["ready", "ready"], manager.states()
    ctx = ToolContext(workspace=tmp_path)
    over_http = registry.get("web__read_note").run({"name": "big"}, ctx)
    over_stdio = registry.get("notes__read_note").run({"name": "big"}, ctx)
    # Before the fix: "refused the call: SSE stream failed: Server-sent event exceeded the 1048576 byte limit"
    assert over_http.ok, over_http.output[:300]
    assert over_http.output.startswith("HEAD-") and over_http.output.endswith("-TAIL")
    assert "characters cut" in over_http.output  # thau's own result limit, as over stdio
    assert over_http.output == over_stdio.output


@pytest.fixture
def broken_stream(tmp_path):
    """A url server whose reply to tools/call is an event stream that ends empty."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "eco_stream_server.py"), str(port)], stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: listening(port) or process.poll() is not None, 60, "the HTTP server")
        assert process.poll() is None, "the server did not start"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def test_a_reply_stream_that_breaks_is_not_called_a_refusal(start_servers, broken_stream, tmp_path):
    manager, registry, _ = start_servers(MCPServerConfig(name="web", url=broken_stream, call_timeout=30))
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    result = registry.get("web__fetch").run({}, ToolContext(workspace=tmp_path))
    assert not result.ok
    # Before the fix: "the MCP server 'web' refused the call: SSE stream ended without a response"
    assert "refused the call" not in result.output, result.output
    assert "the MCP server 'web' call broke off on the way back" in result.output, result.output
    assert "SSE stream ended without a response" in result.output
    assert manager.states()[0].status == "ready"  # the server is still there for the next call


def test_a_server_that_hangs_at_start_is_failed_when_its_startup_timeout_ends(tmp_path):
    notices: list[str] = []
    config = server_config("slow", "changing_server.py", env={"CHANGING_HANG_AT_START": "1"}, startup_timeout=2)
    manager = MCPManager(
        [config],
        ToolRegistry(),
        workspace=tmp_path,
        log_dir=tmp_path / "logs",
        on_notice=lambda text, severity: notices.append(text),
    ).start()
    try:
        started = time.monotonic()
        settled = manager.wait_ready()  # what `thau doctor` and `thau -m` wait: startup_timeout + 1 s
        took = time.monotonic() - started
        state = manager.states()[0]
        # Before the fix: "mcp slow: starting", the failure set seconds later, once the
        # SDK had closed the server's stdin, waited 2 s and sent SIGTERM.
        assert settled and state.status == "failed", state.line()
        assert state.error.startswith("no answer within 2 s while starting"), state.error
        assert took < 3.5
        assert any("MCP server 'slow' did not start: no answer within 2 s" in text for text in notices), notices
    finally:
        manager.stop()


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("linger", [True, False], ids=["stays-after-stdin-closes", "exits-leaving-its-child"])
def test_stopping_leaves_no_server_process_and_no_child_of_it(tmp_path, linger):
    pid_file = tmp_path / "pids"
    env = {"ECO_PIDS": str(pid_file), **({"ECO_LINGER": "1"} if linger else {})}
    config = server_config("stubborn", "eco_stubborn_server.py", env=env)
    manager = MCPManager([config], ToolRegistry(), workspace=tmp_path, log_dir=tmp_path / "logs").start()
    pids: list[int] = []
    try:
        assert manager.wait_ready(30) and manager.states()[0].status == "ready", manager.states()[0].line()
        pids = [int(pid) for pid in pid_file.read_text().split()]
        assert len(pids) == 2 and all(_running(pid) for pid in pids)
        started = time.monotonic()
        manager.stop(timeout=3)  # what thau's quit gives it (ui/services.py, on_unmount)
        assert time.monotonic() - started < 4.5  # quitting stays quick
        # Before the fix both ran on (PPID 1) for the `sleep`'s 7777 s.
        wait_for(lambda: not any(_running(pid) for pid in pids), 3, "the server and its child to end")
    finally:
        manager.stop()
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
