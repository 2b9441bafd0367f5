"""An MCP server over streamable HTTP (`url:` in mcp.servers): the notes server run by the
test on a local port; its tools work as over stdio, and a URL with nothing behind it is a
clear error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from mcp_support import HERE, wait_for

from thau_tui.config import MCPServerConfig
from thau_tui.tools import ToolContext


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def http_notes(notes_dir):
    port = free_port()
    env = {**os.environ, "NOTES_DIR": str(notes_dir), "NOTES_HTTP_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "notes_server.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: listening(port) or process.poll() is not None, 60, "the HTTP server")
        assert process.poll() is None, "the notes server did not start over HTTP"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def test_tools_over_streamable_http_work_like_stdio_ones(start_servers, http_notes, notes_dir, tmp_path):
    manager, registry, _ = start_servers(MCPServerConfig(name="web", url=http_notes))
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    progress = []
    ctx = ToolContext(workspace=tmp_path, on_progress=lambda done, total, label: progress.append(label))
    assert registry.get("web__write_note").risk == "write"
    assert registry.get("web__write_note").run({"name": "h", "text": "over http"}, ctx).ok
    assert (notes_dir / "h").read_text() == "over http"
    assert registry.get("web__count_slowly").run({"steps": 2}, ctx).output == "counted to 2"
    assert progress == ["step 1", "step 2"]


def test_a_url_with_no_server_behind_it_is_a_clear_error(start_servers):
    url = f"http://127.0.0.1:{free_port()}/mcp"
    manager, registry, notices = start_servers(MCPServerConfig(name="web", url=url, startup_timeout=10))
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error.startswith(f"cannot talk to {url}: "), state.error
    assert not any(name.startswith("web__") for name in registry.names())
    assert f"MCP server 'web' did not start: cannot talk to {url}" in notices.text()
