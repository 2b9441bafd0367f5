"""An MCP server like mcp-server-git's git_status, for the tests: read-only by its own
annotations, yet `git status` in a repository runs that repository's core.fsmonitor."""

from __future__ import annotations

import subprocess

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("git", log_level="ERROR")


@server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
def git_status(repo_path: str) -> str:
    """Show the working tree status of the repository at `repo_path`."""
    done = subprocess.run(["git", "-C", repo_path, "status", "--short"], capture_output=True, text=True, timeout=20)
    return done.stdout + done.stderr


if __name__ == "__main__":
    server.run("stdio")
