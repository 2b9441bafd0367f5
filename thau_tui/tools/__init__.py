"""Built-in tools and the registry. Nothing in here imports Textual."""

from __future__ import annotations

from .base import Tool, ToolCall, ToolContext, ToolError, ToolResult
from .registry import ToolRegistry

__all__ = [
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "ToolRegistry",
    "builtin_tools",
    "build_registry",
]

# The order of ARCHITECTURE.md's table; data sets and the compact tool block follow it.
_MODULES = ("shell", "python", "files", "file_search", "images", "devtools", "ask")


def builtin_tools() -> list[Tool]:
    """Every built-in tool, in the documented order."""
    import importlib

    order = [
        "run_shell",
        "run_python",
        "read_file",
        "write_file",
        "list_directory",
        "search_code",
        "generate_image",
        "search_docs",
        "analyze_code",
        "run_tests",
        "debug_code",
        "ask_user",
    ]
    found: dict[str, Tool] = {}
    for module in _MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        for tool in mod.TOOLS:
            found[tool.name] = tool
    return [found[name] for name in order if name in found] + [t for n, t in found.items() if n not in order]


def build_registry() -> ToolRegistry:
    """A registry holding the built-in tools (plugins are added by the plugin loader)."""
    return ToolRegistry(builtin_tools())
