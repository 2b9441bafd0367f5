"""A server's tools that change while it runs (notifications/tools/list_changed), a call
cut by a config.yaml change, and what the notices say (MCP review)."""

from __future__ import annotations

import threading

from mcp_support import server_config, wait_for

from thau_tui.tools import ToolContext, ToolError


def test_tools_a_server_adds_or_removes_later_follow_it_into_the_registry(start_servers, tmp_path):
    """A tool added after a login never reached the registry, and a removed one stayed
    offered: thau listed a server's tools only at its start (MCP review)."""
    manager, registry, notices = start_servers(server_config("shop", "changing_server.py"))
    assert "shop__guest_hint" in registry and "shop__list_repos" not in registry
    version = registry.version
    ctx = ToolContext(workspace=tmp_path)

    assert registry.get("shop__log_in").function({}, ctx).output == "logged in"

    wait_for(lambda: "shop__list_repos" in registry, 15, "the tool the server added")
    wait_for(lambda: "shop__guest_hint" not in registry, 5, "the tool the server removed to go")
    assert "shop__open_issue" in registry
    assert registry.version > version  # the agent renders the tool block from the registry
    assert set(manager.states()[0].tools) == {
        name for name in registry.names() if registry.get(name).source == "mcp:shop"
    }
    assert (
        "MCP server 'shop': its tools changed (2 added: shop__list_repos, shop__open_issue; 1 gone: shop__guest_hint)"
        in notices.text()
    )
    # vetted and named as at the start: prose defanged, the risk from the server's hints
    assert "<|im_start|>" not in registry.get("shop__list_repos").description
    assert registry.get("shop__open_issue").risk == "write"
    opened = registry.get("shop__open_issue").function({"repo": "thau", "title": "hi"}, ctx)
    assert opened.output == "opened 'hi' in thau"
    # the server is still the same one: nothing restarted it
    assert manager.states()[0].status == "ready"
    assert "stopped" not in notices.text() and "did not start" not in notices.text()


def test_a_call_cut_by_a_config_change_says_so(start_servers, notes_dir, tmp_path):
    """The server went from mcp.servers during its call: the call said "stopped during the
    call; its tools are gone until it restarts", which never happens (MCP review)."""
    manager, registry, _ = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}, call_timeout=60))
    said: list[str] = []

    def call() -> None:
        try:
            registry.get("notes__hang").function({"seconds": 60}, ToolContext(workspace=tmp_path))
        except ToolError as exc:
            said.append(str(exc))

    caller = threading.Thread(target=call)
    caller.start()
    wait_for(lambda: manager._connections["notes"].in_flight == 1, 15, "the call to start")
    manager.update([])
    caller.join(20)
    assert said == [
        "the MCP server 'notes' was stopped because mcp.servers changed in config.yaml (its entry went); "
        "the call was cancelled"
    ]


def test_one_tool_is_one_tool(start_servers):
    """ "MCP server 'flood': 1 tools" (MCP review)."""
    manager, _, notices = start_servers(server_config("solo", "changing_server.py", env={"CHANGING_TOOLS": "one"}))
    assert "MCP server 'solo': 1 tool" in [text for text, _ in notices]
    assert manager.states()[0].line() == "mcp solo: ready, 1 tool (solo__echo)"
