"""MCP servers that fail: a command that does not exist, a server that exits at start, one
that never answers, one that hangs later, one that crashes mid-call. Each gives a clear
error (a notice, `thau doctor`), its tools leave the registry, and thau goes on."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from mcp_support import HERE, server_config, wait_for
from scripted import ScriptedBackend

from thau_tui.config import Config, MCPServerConfig
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import ToolFinished, TurnDone
from thau_tui.tools import ToolContext, builtin_tools, mcp_client, mcp_connection
from thau_tui.tools.mcp_client import describe_mcp

BUILTINS = [tool.name for tool in builtin_tools()]


def command_config(name: str, command: str) -> MCPServerConfig:
    return MCPServerConfig(name=name, command=command)


def mcp_names(registry) -> list[str]:
    return [name for name in registry.names() if registry.get(name).source.startswith("mcp:")]


def test_a_command_that_does_not_exist_is_named_and_the_other_servers_still_start(start_servers, notes_dir):
    manager, registry, notices = start_servers(
        command_config("broken", "thau-no-such-mcp-server"),
        server_config(env={"NOTES_DIR": str(notes_dir)}),
    )
    broken, notes = manager.states()
    assert broken.status == "failed"
    assert broken.error == "cannot run `thau-no-such-mcp-server`: no such program (is it installed and on PATH?)"
    assert ("MCP server 'broken' did not start: " + broken.error) in notices.text()
    assert [severity for text, severity in notices if "broken" in text] == ["error"]
    assert notes.status == "ready" and len(notes.tools) == 8
    assert registry.names()[: len(BUILTINS)] == BUILTINS  # the built-ins are untouched
    assert not any(name.startswith("broken__") for name in registry.names())


def test_a_server_that_exits_at_start_shows_what_it_said(start_servers, notes_dir):
    manager, registry, notices = start_servers(
        server_config(env={"NOTES_DIR": str(notes_dir), "NOTES_EXIT_AT_START": "1"})
    )
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error.startswith("it exited or closed the connection")
    assert "notes server: cannot open its database" in state.error  # the last words on its stderr
    assert "cannot open its database" in notices.text()
    assert mcp_names(registry) == []


def test_a_server_that_never_answers_times_out_while_starting(start_servers):
    manager, registry, _ = start_servers(
        server_config("mute", "hostile_server.py", env={"HOSTILE_MODE": "mute"}, startup_timeout=1.5)
    )
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error.startswith("no answer within 1.5 s while starting (mcp.servers startup_timeout)")
    assert mcp_names(registry) == []


def test_a_server_that_writes_something_else_on_stdout_is_told_so(start_servers):
    """A "Welcome" banner on stdout, then silence: it read "no answer within 8 s" and nothing
    more, its log empty (servers review). The line it wrote is named."""
    manager, registry, _ = start_servers(
        server_config(
            "chatty",
            "hostile_server.py",
            env={"HOSTILE_MODE": "mute", "HOSTILE_BANNER": "Welcome to my server v1.2"},
            startup_timeout=1.5,
        )
    )
    state = manager.states()[0]
    assert state.status == "failed" and state.error.startswith("no answer within 1.5 s")
    assert "it wrote 'Welcome to my server v1.2', which is not an MCP message" in state.error, state.error
    assert "logs to stderr" in state.error


def test_a_server_that_hangs_later_loses_its_tools_with_a_notice(start_servers, monkeypatch):
    monkeypatch.setattr(mcp_client, "PING_EVERY_S", 0.2)
    monkeypatch.setattr(mcp_client, "PING_TIMEOUT_S", 0.5)
    manager, registry, notices = start_servers(
        server_config("sleepy", "hostile_server.py", env={"HOSTILE_MODE": "mute_after_list"})
    )
    assert manager.states()[0].status == "ready" and "sleepy__a_b" in registry
    wait_for(lambda: "sleepy__a_b" not in registry, 20, "the hung server's tools to leave")
    assert "MCP server 'sleepy' stopped: it stopped answering (no reply to a ping in 0.5 s)" in notices.text()
    assert registry.names()[: len(BUILTINS)] == BUILTINS


def test_a_server_whose_tool_list_breaks_the_protocol_is_refused_with_the_reason(start_servers):
    manager, registry, _ = start_servers(server_config("odd", "hostile_server.py", env={"HOSTILE_TOOLS": "bad_type"}))
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.error == (
        "it sent a message that breaks the MCP protocol (tools.12.inputSchema.type: Input should be 'object')"
    )
    assert mcp_names(registry) == []


async def test_a_crash_mid_call_fails_that_call_the_turn_goes_on_and_the_tools_come_back(
    start_servers, notes_dir, tmp_path
):
    manager, registry, notices = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}))
    config = Config()
    config.tools.policy = {"notes__crash": "auto"}
    crash = "<tool_call>" + json.dumps({"name": "notes__crash", "arguments": {}}) + "</tool_call>"
    backend = ScriptedBackend([crash, "The notes server crashed."])
    agent = Agent(
        config, registry, approvals=ApprovalBook(None, config.tools.policy), backend=backend, workspace=tmp_path
    )
    events = [event async for event in agent.run_turn(agent.new_session(), "crash it")]
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "failed"
    assert "the MCP server 'notes' stopped during the call" in finished.result.output
    assert "stopped during the call" in backend.prompts[-1]
    assert isinstance(events[-1], TurnDone)  # the model answered after it
    wait_for(lambda: "MCP server 'notes' stopped" in notices.text(), 10, "the crash notice")
    wait_for(
        lambda: manager.states()[0].status == "ready" and "notes__read_note" in registry,
        30,
        "the restarted server's tools",
    )
    (notes_dir / "after").write_text("back again")
    result = registry.get("notes__read_note").run({"name": "after"}, ToolContext(workspace=tmp_path))
    assert result.ok and result.output == "back again"


def test_a_call_to_a_server_that_is_down_says_so(start_servers, notes_dir, tmp_path):
    manager, registry, _ = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}))
    tool = registry.get("notes__read_note")
    manager.stop()  # its tools leave; a call already validated against it still gets a sentence
    assert "notes__read_note" not in registry
    result = tool.run({"name": "x"}, ToolContext(workspace=tmp_path))
    assert not result.ok
    assert "the MCP server 'notes' is not running (stopped)" in result.output


def test_stopping_ends_the_server_process(start_servers, notes_dir):
    manager, registry, _ = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}))
    pid = int((notes_dir / "server.pid").read_text())
    os.kill(pid, 0)  # running
    assert manager.stop() is True  # every server stopped within the stop timeout, none left behind
    with pytest.raises(ProcessLookupError):  # ended by the time stop() returned
        os.kill(pid, 0)
    assert mcp_names(registry) == [] and manager.states()[0].status == "stopped"


def test_a_disabled_server_is_not_started(start_servers, notes_dir):
    manager, registry, notices = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}, enabled=False))
    assert manager.states()[0].line() == "mcp notes: disabled"
    assert mcp_names(registry) == [] and list(notices) == []


def test_doctor_lists_each_server_with_its_tools_or_its_error(notes_dir):
    config = Config()
    assert describe_mcp(config) == ["mcp: no servers configured (mcp.servers in config.yaml)"]
    config.mcp.servers = [
        server_config(env={"NOTES_DIR": str(notes_dir)}),
        command_config("broken", "thau-no-such-mcp-server"),
    ]
    lines = describe_mcp(config)
    assert lines[0].startswith("mcp notes: ready, 8 tools (notes__read_note, notes__write_note, ")
    assert lines[1] == (
        "mcp broken: FAILED: cannot run `thau-no-such-mcp-server`: no such program (is it installed and on PATH?)"
    )


def test_a_sandboxed_server_writes_only_in_the_workspace(start_servers, tmp_path):
    """`sandbox: true`: the server runs in the shell's sandbox, where only the workspace is
    writable. A note named by a path outside it (where a hostile call would aim) is refused
    there; the same server unsandboxed writes it."""
    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    # The server's script goes into the workspace: a checkout under /tmp (a CI clone) is out
    # of the sandbox's sight, its /tmp being its own.
    script = tmp_path / "notes_server.py"
    shutil.copy(HERE / "notes_server.py", script)
    try:
        boxed = server_config(name="boxed", env={"NOTES_DIR": str(notes)}, sandbox=True, call_timeout=20)
        boxed = boxed.model_copy(update={"args": [str(script)]})
        free = server_config(name="free", env={"NOTES_DIR": str(notes)}, call_timeout=20)
        manager, registry, notices = start_servers(boxed, free)
        assert {st.name: st for st in manager.states()}["boxed"].status == "ready", notices.text()
        ctx = ToolContext(workspace=tmp_path)
        aimed = {"name": str(outside / "a.txt"), "text": "pwned"}
        refused = registry.get("boxed__write_note").run(aimed, ctx)
        assert not refused.ok, refused.output
        assert not (outside / "a.txt").exists()
        assert registry.get("boxed__write_note").run({"name": "in.txt", "text": "inside"}, ctx).ok
        assert (notes / "in.txt").read_text() == "inside"
        assert registry.get("free__write_note").run(aimed, ctx).ok  # what the sandbox prevented
        assert (outside / "a.txt").read_text() == "pwned"
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_a_sandboxed_server_does_not_start_in_the_workspace(start_servers, tmp_path):
    """A `sandbox: true` server started in the workspace (bwrap's --chdir), unlike the others:
    `python -m NAME` imported a NAME.py a cloned repository left there, which ran as the
    server with the workspace writable and no card. It starts in the sandbox's own /tmp now."""
    assert mcp_connection.sandbox_kind(Config())[0] != "none", "this test needs the shell's sandbox (bubblewrap)"
    (tmp_path / "main.py").write_text("the user's work\n")
    (tmp_path / "jsonschema.py").write_text(  # named like an installed module the entry runs
        "import pathlib\npathlib.Path('main.py').write_text('planted code ran\\n')\n"
    )
    boxed = MCPServerConfig(
        name="boxed", command=sys.executable, args=["-m", "jsonschema"], sandbox=True, startup_timeout=10
    )
    start_servers(boxed)
    assert (tmp_path / "main.py").read_text() == "the user's work\n"  # before: planted code ran


def test_sandbox_true_without_a_sandbox_says_so_and_starts_nothing(start_servers, tmp_path, monkeypatch):
    monkeypatch.setattr(mcp_connection, "sandbox_kind", lambda config: ("none", "bubblewrap not found"))
    manager, registry, notices = start_servers(
        server_config(name="boxed", env={"NOTES_DIR": str(tmp_path)}, sandbox=True)
    )
    state = {st.name: st for st in manager.states()}["boxed"]
    assert state.status != "ready"
    assert "sandbox: true, but there is no sandbox to run it in (bubblewrap not found)" in state.error
    assert "boxed__write_note" not in registry.names()


def test_a_server_that_keeps_dying_soon_after_it_starts_backs_off_and_is_told_once(
    start_servers, monkeypatch, tmp_path
):
    """A server that exits just after listing its tools counted as "was ready", so its pause
    went back to the first one each time: restarted every few seconds for as long as thau ran,
    each time with a notice of its tools and one of its stop, stacked over the chat (MCP
    review). Only a life of STABLE_S resets the pause; the stop is told once, and the start after
    a told stop says the tools are back (a server that recovered was never said to be back)."""
    import time

    from thau_tui.tools import mcp_client

    monkeypatch.setattr(mcp_client, "RETRY_FIRST_S", 0.1)
    manager, registry, notices = start_servers(
        server_config("hostile", "hostile_server.py", {"HOSTILE_MODE": "die_after_list"})
    )
    time.sleep(6)
    starts = (tmp_path / "mcp-logs" / "hostile.log").read_text().count("--- started")
    stops = [text for text, _ in notices if "stopped" in text]
    listed = [text for text, _ in notices if text.startswith("MCP server 'hostile':")]
    # pauses of 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s: six starts at most in six seconds (each takes some too)
    assert 2 <= starts <= 6, starts
    # the stop told once, and the tools named once more after it (it did come back, for a while)
    assert len(stops) == 1 and len(listed) == 2, notices.text()
