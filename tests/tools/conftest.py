"""Fixtures for the built-in tool tests: a workspace folder, a config, a tool context."""

from __future__ import annotations

import pytest

from thau_tui.config import Config
from thau_tui.tools.base import ToolContext


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def config():
    return Config()


@pytest.fixture
def ctx(workspace, config):
    """A tool context that collects streamed output in ctx.chunks."""
    chunks: list[str] = []
    context = ToolContext(workspace=workspace, config=config, on_output=chunks.append)
    context.chunks = chunks  # type: ignore[attr-defined]
    yield context
    shell = context.resources.get("shell")
    if shell is not None:
        shell.close()
