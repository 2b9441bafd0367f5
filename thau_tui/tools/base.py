"""What a tool is: a JSON Schema, a risk level, and a function that runs it.

Tools are plain Python; they never import Textual. A tool function runs in a
worker thread and talks back only through its ToolContext (streamed output,
progress, cancellation).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:
    from thau_tui.config import Config

Risk = Literal["read", "write", "exec"]

# The bracketed control tokens of Llama 2's and Mistral's chat templates ([INST], [/INST],
# [TOOL_CALLS], ...), as a regex alternation: defused in results (engine/dialect_base.py)
# and in an MCP server's prose (mcp_tools.py).
BRACKET_TOKENS = "INST|TOOL_CALLS|TOOL_RESULTS|TOOL_CONTENT|AVAILABLE_TOOLS|SYSTEM_PROMPT"

# What UTF-8 text cannot hold: a lone surrogate, such as a byte of a file name that is not
# UTF-8, which Python decodes with surrogateescape (b'caf\xe9.txt' -> 'caf\udce9.txt').
# A progress label longer than this is cut before anything reads it (ToolContext.progress).
PROGRESS_LABEL_CHARS = 200
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: Any) -> str:
    """`text` as a str that encodes to UTF-8: each lone surrogate becomes U+FFFD.

    The one gate for text that crosses into the store, the prompt or the screen (the
    store and the agent use it too, as thau_tui.engine.store.storable).
    """
    value = text if isinstance(text, str) else "" if text is None else str(text)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return value


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
    config: Config | None = None  # None: the defaults (each tool's *_settings)
    session_id: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    on_output: Callable[[str], None] | None = None
    on_progress: Callable[[float, float, str], None] | None = None
    resources: dict[str, Any] = field(default_factory=dict)  # per-session objects (the shell)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def emit(self, chunk: str) -> None:
        """Stream a piece of output to the card (made storable: see `storable`)."""
        if self.on_output and chunk:
            self.on_output(storable(chunk))

    def progress(self, done: float, total: float, label: str = "") -> None:
        """Report progress (a step counter, bytes, ...) to the card. The numbers come from a
        plugin or an MCP server: one that is not a finite number is 0 (unknown), as NaN made
        the card's bar recurse until the app ended (MCP review); the label is cut to
        PROGRESS_LABEL_CHARS (100 KB labels, 3,000 of them, froze the app: attacker review)."""
        if self.on_progress:
            self.on_progress(_finite(done), _finite(total), str(label)[:PROGRESS_LABEL_CHARS])


def _finite(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0


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
    # The risk when commands run with no sandbox (tools.shell.sandbox: none, or none found):
    # search_docs imports the module it documents, which runs that module's code, harmless
    # without a card only inside the sandbox's read-only walls.
    unsandboxed_risk: Risk | None = None

    def risk_here(self, config: Config | None) -> tuple[Risk, str]:
        """The risk this tool runs at under `config`, and why it differs from `risk` ("" if not)."""
        if self.unsandboxed_risk is None:
            return self.risk, ""
        from .sandbox import sandbox_kind

        try:
            kind, why = sandbox_kind(config)
        except ToolError as exc:
            kind, why = "none", str(exc)
        if kind != "none":
            return self.risk, ""
        return self.unsandboxed_risk, f"no sandbox ({why}): {self.name} runs code outside one"

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

    def _where(self, exc: BaseException) -> str:
        """For a plugin, the line of its own file the crash came from (only "KeyError: 'b'" was
        said, with no file or line: tools review); "" for a built-in tool."""
        if self.source == "builtin":
            return ""
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.source]
        return f" ({Path(self.source).name} line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""

    def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        """Run the tool; a ToolError or any exception becomes a failed result.

        The output is made storable (a lone surrogate, e.g. from a file name that is not
        UTF-8, becomes U+FFFD), so it can go to the store, the prompt and the screen.
        """
        try:
            from .kept import remember  # the kept folders' identities, before any tool's process runs

            if not os.path.isdir(context.workspace):  # deleted or moved while thau ran: "run_shell
                # crashed: FileNotFoundError" said nothing of it (reliability review)
                raise ToolError(
                    f"the workspace {context.workspace} no longer exists (deleted or moved while thau ran); "
                    "make it again, or start thau in another folder (or set tools.workspace)"
                )
            remember(context.workspace, context.config)
            result: Any = self.function(arguments, context)  # a plugin's may return anything
        except ToolError as exc:
            return ToolResult(output=storable(f"{self.name} failed: {exc}"), ok=False)
        except Exception as exc:  # a tool bug must not take the turn down
            logging.getLogger(__name__).exception("the %s tool crashed", self.name)  # the whole traceback
            return ToolResult(
                output=storable(f"{self.name} crashed: {type(exc).__name__}: {exc}{self._where(exc)}"), ok=False
            )
        if result is None and self.source != "builtin":  # a plugin's run that forgot to return
            return ToolResult(output=f"{self.name} returned nothing: a plugin's run must return its result", ok=False)
        if isinstance(result, (dict, list)):  # the model read a Python repr ({'a': 1})
            return ToolResult(output=storable(json.dumps(result, ensure_ascii=False, default=str)))
        if not isinstance(result, ToolResult):
            return ToolResult(output=storable(result))
        result.output = storable(result.output)
        return result
