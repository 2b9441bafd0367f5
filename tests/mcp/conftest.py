"""MCP tests: real MCP servers (written with the SDK, in this folder) started over stdio.

No __init__.py here on purpose: a package named `mcp` under tests/ would hide the SDK.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp_support import HERE, server_config, wait_for  # noqa: F401  (the fixtures use them)

from thau_tui.tools import build_registry
from thau_tui.tools.mcp_client import MCPManager


class Notices(list):
    """What the manager told the user: (text, severity) pairs, from its own thread."""

    def __call__(self, text: str, severity: str) -> None:
        self.append((text, severity))

    def text(self) -> str:
        return "\n".join(text for text, _ in self)


@pytest.fixture
def notes_dir(tmp_path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    return folder


@pytest.fixture
def start_servers(tmp_path):
    """start_servers(*configs) -> (manager, registry, notices), all stopped after the test."""
    managers = []

    def start(*configs, registry=None):
        registry = registry if registry is not None else build_registry()
        notices = Notices()
        manager = MCPManager(
            configs,
            registry,
            workspace=tmp_path,
            on_notice=notices,
            images_dir=tmp_path / "images",
            log_dir=tmp_path / "mcp-logs",
        )
        managers.append(manager)
        manager.start()
        assert manager.wait_ready(60), "the MCP servers did not settle in 60 s"
        return manager, registry, notices

    yield start
    for manager in managers:
        manager.stop()


@pytest.fixture
def notes(start_servers, notes_dir):
    """The notes server, ready: (manager, registry, notices)."""
    return start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}, call_timeout=20))
