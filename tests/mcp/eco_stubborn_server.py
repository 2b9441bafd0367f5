"""A stdio MCP server that is hard to end, for the eco review's "servers left running
after Ctrl+Q": it ignores SIGTERM, starts a `sleep 7777` that ignores it too (an ignored
signal stays ignored across exec), and writes "SERVER_PID SLEEP_PID" to ECO_PIDS.
ECO_LINGER=1: it stays after its stdin closes; otherwise it exits then, leaving the
`sleep` behind in its process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("stubborn", log_level="ERROR")


@server.tool()
def echo(text: str) -> str:
    """Say `text` back."""
    return text


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "7777"])
    pids = Path(os.environ["ECO_PIDS"])
    pids.with_suffix(".part").write_text(f"{os.getpid()} {child.pid}")
    pids.with_suffix(".part").replace(pids)  # whole or absent: the test reads it while it is written
    server.run("stdio")
    while os.environ.get("ECO_LINGER"):
        time.sleep(3600)
