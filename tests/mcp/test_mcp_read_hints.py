"""A server's read-only hint lets its tool run without a card only inside thau's sandbox.

mcp-server-git (README's example) marks git_status read-only, and it ran unasked. But it
runs outside the sandbox, and `git status` in a repository the model made inside the
workspace (one approved `git init sub` and a config line) runs that repository's
core.fsmonitor as the user: a sandbox escape with no card. Here the server is a small one
like it (git_status_server.py) and the planted repository is made directly.
"""

from __future__ import annotations

import shutil
import subprocess

from mcp_support import HERE, server_config

from thau_tui.config import Config
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.tools import mcp_connection
from thau_tui.tools.base import ToolCall, ToolContext


def plant(workspace, canary):
    """A nested repository whose config runs a command at every `git status`."""
    sub = workspace / "sub"
    subprocess.run(["git", "init", "-q", str(sub)], check=True)
    with open(sub / ".git" / "config", "a") as config:
        config.write(f'[core]\n\tfsmonitor = "id > {canary}; false"\n')
    return sub


def test_a_read_only_tool_of_a_server_outside_the_sandbox_asks(start_servers, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    try:
        sub = plant(tmp_path, outside / "PWNED")
        manager, registry, notices = start_servers(server_config(name="git", script="git_status_server.py"))
        tool = registry.get("git__git_status")
        assert tool is not None, notices.text()
        assert tool.risk == "write"
        call = ToolCall("git__git_status", {"repo_path": str(sub)})
        assert ApprovalBook(None, {}).decide(call, tool.risk, "s", tmp_path) == "ask"
        # what an unasked call would have done: the planted command ran, outside any sandbox
        tool.run(call.arguments, ToolContext(workspace=tmp_path))
        assert (outside / "PWNED").exists()
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_a_read_only_tool_of_a_server_sandboxed_read_only_runs_unasked_and_writes_nothing(start_servers, tmp_path):
    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    script = tmp_path / "git_status_server.py"  # a checkout under /tmp is out of the sandbox's sight
    shutil.copy(HERE / "git_status_server.py", script)
    try:
        sub = plant(tmp_path, outside / "PWNED")
        boxed = server_config(name="git", script="git_status_server.py", sandbox=True, read_only=True)
        manager, registry, notices = start_servers(boxed.model_copy(update={"args": [str(script)]}))
        tool = registry.get("git__git_status")
        assert tool is not None, notices.text()
        assert tool.risk == "read"
        call = ToolCall("git__git_status", {"repo_path": str(sub)})
        assert ApprovalBook(None, {}).decide(call, tool.risk, "s", tmp_path) == "auto"
        result = tool.run(call.arguments, ToolContext(workspace=tmp_path))
        assert result.ok, result.output
        assert not (outside / "PWNED").exists()  # the planted command could not write outside
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    replant(sub, tmp_path / "main.py")
    tool.run(call.arguments, ToolContext(workspace=tmp_path))
    assert (tmp_path / "main.py").read_text() == "the user's work\n"  # nor in the workspace


def replant(sub, target):
    """The planted repository's command now aims at the user's file in the workspace."""
    target.write_text("the user's work\n")
    config = (sub / ".git" / "config").read_text().replace("id > ", f"echo HACKED > {target}; id > ")
    (sub / ".git" / "config").write_text(config)


def test_a_read_only_tool_of_a_sandboxed_server_that_can_write_the_workspace_asks(start_servers, tmp_path):
    """`sandbox: true` alone leaves the workspace writable to the server, and its read-only
    git_status ran without a card: in a planted repository that ran core.fsmonitor, which
    overwrote the user's main.py. Only `read_only: true` (and the network off) lets such a
    tool run unasked now."""
    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    script = tmp_path / "git_status_server.py"
    shutil.copy(HERE / "git_status_server.py", script)
    sub = plant(tmp_path, tmp_path / "canary")
    replant(sub, tmp_path / "main.py")
    boxed = server_config(name="git", script="git_status_server.py", sandbox=True)
    manager, registry, notices = start_servers(boxed.model_copy(update={"args": [str(script)]}))
    tool = registry.get("git__git_status")
    assert tool is not None, notices.text()
    call = ToolCall("git__git_status", {"repo_path": str(sub)})
    assert tool.risk == "write"  # before: read
    assert ApprovalBook(None, {}).decide(call, tool.risk, "s", tmp_path) == "ask"  # before: auto
    tool.run(call.arguments, ToolContext(workspace=tmp_path))  # what it would have done unasked
    assert (tmp_path / "main.py").read_text().startswith("HACKED")


def test_read_only_needs_the_sandbox():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="read_only: true needs sandbox: true"):
        server_config(name="git", read_only=True)


def test_with_the_network_on_a_read_only_server_still_asks():
    """Read-only arguments can still leave the machine when the sandbox has the network."""
    entry = server_config(name="git", sandbox=True, read_only=True)
    networked = Config.model_validate({"tools": {"shell": {"network": True}}})
    assert mcp_connection.held(entry, Config()) and not mcp_connection.held(entry, networked)


def test_a_relist_keeps_what_the_running_sandbox_holds_not_what_the_config_says_now(tmp_path):
    """A read-only server started with tools.shell.network on keeps its network until it
    restarts. The user turned the network off (its entry unchanged, so it ran on); the server
    then said its tools changed, the relist read the new config, and its read-only tools ran
    without a card while it could still reach the network (attacker review)."""
    from mcp_support import wait_for

    from thau_tui.tools import build_registry
    from thau_tui.tools.mcp_client import MCPManager

    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    script = tmp_path / "changing_server.py"  # a checkout under /tmp is out of the sandbox's sight
    shutil.copy(HERE / "changing_server.py", script)
    entry = server_config(name="c", sandbox=True, read_only=True).model_copy(update={"args": [str(script)]})
    networked = Config.model_validate({"tools": {"shell": {"network": True}}})
    registry = build_registry()
    manager = MCPManager([entry], registry, workspace=tmp_path, log_dir=tmp_path / "logs", config=networked)
    manager.start()
    try:
        assert manager.wait_ready(60)
        assert registry.get("c__echo").risk == "write"  # it has the network: read-only hints ask
        manager.config = Config()  # network off now; the entry is the same, so the server runs on
        manager.update([entry])
        registry.get("c__log_in").run({}, ToolContext(workspace=tmp_path, config=Config()))
        wait_for(lambda: registry.get("c__list_repos") is not None, 30, "the relisted tools")
        assert registry.get("c__echo").risk == "write" and registry.get("c__list_repos").risk == "write"
    finally:
        manager.stop()
