"""Helpers the MCP tests import (a module of its own: `from conftest import ...` picks
whichever conftest.py was imported first under that name, tests/ui's in a full run)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from thau_tui.config import MCPServerConfig

HERE = Path(__file__).resolve().parent


def server_config(name: str = "notes", script: str = "notes_server.py", env=None, **fields) -> MCPServerConfig:
    """A stdio server entry that runs one of this folder's servers with this Python."""
    return MCPServerConfig(name=name, command=sys.executable, args=[str(HERE / script)], env=env or {}, **fields)


def wait_for(condition, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
