"""One MCP server's tools in thau's registry: added when it starts, listed again and
replaced when it says its list changed (notifications/tools/list_changed: `relist`, from
MCPManager's watch over the server), taken out when it stops.

Each listed tool is vetted (mcp_tools.server_tool) and named SERVER__tool; one that cannot
be added (a name taken by a built-in or another server, a schema refused, the server's
share of the prompt used up) is kept in ServerState.rejected with why.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

from .base import ToolContext, ToolResult
from .mcp_connection import Connection, leaf, list_all_tools
from .mcp_tools import (
    MAX_SERVER_TOOL_CHARS,
    MAX_TOOLS_PER_SERVER,
    MCPToolRejected,
    defang,
    registry_name,
    risk_of,
    server_tool,
    tool_chars,
)
from .registry import ToolRegistry

if TYPE_CHECKING:
    from mcp import ClientSession

# (server, the server's tool name, arguments, context): runs one call (MCPManager.call)
Runner = Callable[[str, str, dict[str, Any], ToolContext], ToolResult]


def add_tools(registry: ToolRegistry, conn: Connection, listed: list[Any], *, held: bool, run: Runner) -> None:
    """Register the server's listed tools; those that cannot be added go in its state's
    `rejected`, each with why. `held`: whether its read-only tools may skip the card
    (mcp_connection.held)."""
    cfg, state = conn.config, conn.state
    state.tools, state.rejected = [], []
    source = f"mcp:{cfg.name}"
    shown_chars = 0
    for index, item in enumerate(listed):
        shown = defang(getattr(item, "name", "?"))[:80]
        if index >= MAX_TOOLS_PER_SERVER:
            state.rejected.append(f"{len(listed) - index} more tools (thau takes {MAX_TOOLS_PER_SERVER} a server)")
            break
        name = registry_name(cfg.name, str(getattr(item, "name", "")))
        try:
            if name in conn.names:
                raise MCPToolRejected(f"its name becomes {name}, as {conn.names[name]!r}'s did")
            existing = registry.get(name)
            if existing is not None and existing.source != source:
                owner = "a built-in tool" if existing.source == "builtin" else existing.source
                raise MCPToolRejected(f"the name {name} is already taken by {owner}")
            tool = server_tool(
                cfg.name,
                item,
                name,
                risk=risk_of(getattr(item, "annotations", None), cfg.trust_hints, held),
                function=functools.partial(run, cfg.name, item.name),
            )
            if shown_chars + tool_chars(tool) > MAX_SERVER_TOOL_CHARS:
                raise MCPToolRejected(
                    f"the server's tools would add over {MAX_SERVER_TOOL_CHARS:,} characters to every prompt"
                )
            shown_chars += tool_chars(tool)
            registry.register(tool)
        except MCPToolRejected as exc:
            state.rejected.append(f"{shown}: {exc}")
            continue
        except Exception as exc:  # a schema the validator chokes on, say
            state.rejected.append(f"{shown}: {type(exc).__name__}: {defang(exc)[:200]}")
            continue
        conn.names[name] = item.name
        state.tools.append(name)


def replace_tools(
    registry: ToolRegistry, conn: Connection, listed: list[Any], *, held: bool, run: Runner
) -> tuple[list[str], list[str]]:
    """The server's tools as it lists them now, vetted and named as at its start, in place
    of those it had: (added, gone) registry names. A tool it still lists is registered
    again over its old entry (its schema or description may have changed), never taken
    out in between: a call the model is making meanwhile still finds it."""
    before = dict(conn.names)
    conn.names.clear()
    add_tools(registry, conn, listed, held=held, run=run)
    gone = [name for name in before if name not in conn.names]
    for name in gone:
        registry.unregister(name)
    return [name for name in conn.names if name not in before], gone


def drop_tools(registry: ToolRegistry, conn: Connection) -> None:
    """Take the server's tools out of the registry (it stopped, or its entry went)."""
    conn.session = None
    for name in list(conn.names):
        registry.unregister(name)
    conn.names.clear()


def changed_text(server: str, added: list[str], gone: list[str], rejected: list[str]) -> str:
    """The notice for a changed tool list: `MCP server 'x': its tools changed (2 added: a, b; 1 gone: c)`."""
    parts = [f"{len(added)} added: {', '.join(added)}"] if added else []
    parts += [f"{len(gone)} gone: {', '.join(gone)}"] if gone else []
    text = f"MCP server '{server}': its tools changed ({'; '.join(parts) or 'the same names'})"
    return text + (f"; not added: {'; '.join(rejected)}" if rejected else "")


async def relist(
    conn: Connection,
    session: ClientSession,
    replace: Callable[[Connection, list[Any]], tuple[list[str], list[str]]],
    notice: Callable[[str, str], None],
    max_pages: int,
) -> bool:
    """The server said its tools changed (a login, a mode switch): list them and `replace`
    its tools in the registry (replace_tools, bound to it). They were listed only at its
    start, so a tool it added later never reached the model and one it removed stayed
    offered (MCP review). False when it is gone (`state.error` says why)."""
    import anyio

    cfg = conn.config
    # A server that answers one request at a time answers once its call is done.
    wait = cfg.startup_timeout + (cfg.call_timeout if conn.in_flight else 0)
    try:
        with anyio.fail_after(wait):
            listed = await list_all_tools(session, max_pages)
    except TimeoutError:
        notice(
            f"MCP server '{cfg.name}' said its tools changed, then did not list them within {wait:g} s; "
            "thau keeps the ones it had",
            "warning",
        )
        return True
    except Exception as exc:
        conn.state.error = conn.explain(leaf(exc))
        return False
    refused = list(conn.state.rejected)
    added, gone = replace(conn, listed)
    if added or gone or conn.state.rejected != refused:
        notice(
            changed_text(cfg.name, added, gone, conn.state.rejected),
            "warning" if conn.state.rejected else "information",
        )
    return True
