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


def _serve(notes_dir, **extra):
    port = free_port()
    env = {**os.environ, "NOTES_DIR": str(notes_dir), "NOTES_HTTP_PORT": str(port), **extra}
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


@pytest.fixture
def http_notes(notes_dir):
    yield from _serve(notes_dir)


TOKEN, TEAM = "tok-9d2f-secret", "team-blue"


@pytest.fixture
def guarded_notes(notes_dir):
    """The notes server over HTTP, answering 401 without the bearer token and the team header."""
    yield from _serve(notes_dir, NOTES_HTTP_TOKEN=TOKEN, NOTES_HTTP_TEAM=TEAM)


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


def _guarded_config(url: str) -> MCPServerConfig:
    return MCPServerConfig(
        name="web", url=url, api_key_env="NOTES_TEST_TOKEN", headers_env={"X-Notes-Team": "NOTES_TEST_TEAM"}
    )


def test_credentials_come_from_the_named_environment_variables(start_servers, guarded_notes, notes_dir, monkeypatch):
    monkeypatch.setenv("NOTES_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("NOTES_TEST_TEAM", TEAM)
    manager, registry, _ = start_servers(_guarded_config(guarded_notes))
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    ctx = ToolContext(workspace=notes_dir)
    assert registry.get("web__write_note").run({"name": "k", "text": "with a key"}, ctx).ok
    assert (notes_dir / "k").read_text() == "with a key"
    assert not (notes_dir / "refused").exists()  # every request carried both headers


def test_a_wrong_token_is_refused_with_the_variable_named_and_the_secret_never_shown(
    start_servers, guarded_notes, notes_dir, monkeypatch
):
    monkeypatch.setenv("NOTES_TEST_TOKEN", "not-the-token-31337")
    monkeypatch.setenv("NOTES_TEST_TEAM", TEAM)
    manager, registry, notices = start_servers(_guarded_config(guarded_notes))
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error.startswith(
        f"{guarded_notes} refused thau's credentials (401): check the value in $NOTES_TEST_TOKEN"
    )
    assert not any(name.startswith("web__") for name in registry.names())
    assert (notes_dir / "refused").exists()  # the server itself said no
    shown = state.line() + notices.text()
    assert "not-the-token-31337" not in shown and TEAM not in shown


def test_a_credential_variable_that_is_not_set_is_named(start_servers, guarded_notes, notes_dir, monkeypatch):
    monkeypatch.delenv("NOTES_TEST_TOKEN", raising=False)
    monkeypatch.setenv("NOTES_TEST_TEAM", TEAM)
    manager, _, notices = start_servers(_guarded_config(guarded_notes))
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error == (
        "its api_key_env names the environment variable NOTES_TEST_TOKEN, which is not set: "
        "export NOTES_TEST_TOKEN=<the secret> before starting thau"
    )
    assert not (notes_dir / "refused").exists()  # nothing was sent without it
    assert "NOTES_TEST_TOKEN, which is not set" in notices.text()


def test_credentials_are_for_url_servers_only():
    with pytest.raises(ValueError, match="api_key_env and headers_env are for a url server"):
        MCPServerConfig(name="local", command="x", api_key_env="TOKEN")
