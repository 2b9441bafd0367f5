"""What a tool is: a JSON Schema, a risk level, and a function that runs it.

Tools are plain Python; they never import Textual. A tool function runs in a
worker thread and talks back only through its ToolContext (streamed output,
progress, cancellation).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

Risk = Literal["read", "write", "exec"]


class ToolError(Exception):
    """A failure the model (and the user) should read as a plain message."""


@dataclass
class ToolCall:
    """One call the model made: a name and its arguments."""

    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    raw: str = ""


@dataclass
class ToolResult:
    """What a tool returned. `output` is what the model reads; `data` is for the UI."""

    output: str
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolContext:
    """Everything a running tool may use. Built per call by the agent."""

    workspace: Path
    config: Any = None  # thau_tui.config.Config (kept loose so tools need not import it)
    session_id: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    on_output: Callable[[str], None] | None = None
    on_progress: Callable[[float, float, str], None] | None = None
    resources: dict[str, Any] = field(default_factory=dict)  # per-session objects (the shell)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def emit(self, chunk: str) -> None:
        """Stream a piece of output to the card."""
        if self.on_output and chunk:
            self.on_output(chunk)

    def progress(self, done: float, total: float, label: str = "") -> None:
        """Report progress (a step counter, bytes, ...) to the card."""
        if self.on_progress:
            self.on_progress(done, total, label)


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A tool's parameters: these properties, these required, nothing else accepted."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


ToolFunction = Callable[[dict[str, Any], ToolContext], ToolResult | str]


@dataclass
class Tool:
    """A tool the model may call."""

    name: str
    description: str
    parameters: dict[str, Any]
    risk: Risk
    function: ToolFunction
    summary: str = ""  # one compact line for the tool block the adapter was trained on
    source: str = "builtin"  # "builtin" or the plugin file's path

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling form of this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def compact(self) -> str:
        """One line: name(arg, arg?) - what it does. Optional args end with '?'."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        args = ", ".join(name if name in required else f"{name}?" for name in props)
        return f"{self.name}({args}) - {self.summary or self.description}"

    def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        """Run the tool; a ToolError or any exception becomes a failed result."""
        try:
            result = self.function(arguments, context)
        except ToolError as exc:
            return ToolResult(output=f"{self.name} failed: {exc}", ok=False)
        except Exception as exc:  # a tool bug must not take the turn down
            return ToolResult(output=f"{self.name} crashed: {type(exc).__name__}: {exc}", ok=False)
        if isinstance(result, str):
            return ToolResult(output=result)
        return result
