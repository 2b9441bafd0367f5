"""The tool registry: names -> tools, JSON Schema validation with plain messages."""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Iterator, Mapping

import regex
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .base import Tool, ToolCall

# How long the patterns of one call's validation may take in all. A schema's `pattern` is
# the tool's (an MCP server's) and the string is the model's: `^(?=.)(.|.)*Z$` against 35
# characters ran for half an hour on the event loop, Esc and all frozen. The `regex`
# library matches with a timeout; a value not checked in time is an invalid argument.
PATTERN_BUDGET_S = 0.25
_budget = threading.local()


def _timed_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema's `pattern` keyword, on `regex` with what is left of the call's budget."""
    if not validator.is_type(instance, "string"):
        return
    left = getattr(_budget, "deadline", time.monotonic() + PATTERN_BUDGET_S) - time.monotonic()
    try:
        if left <= 0:
            raise TimeoutError
        found = regex.search(pattern, instance, timeout=left)
    except TimeoutError:
        yield ValidationError(f"could not be checked against the pattern {pattern!r} in time; use a simpler value")
        return
    except (regex.error, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        yield ValidationError(f"its schema's pattern {pattern!r} cannot be used ({exc})")
        return
    if found is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _timed_pattern})  # type: ignore[no-untyped-call]


def _message(tool: str, error: ValidationError) -> str:
    """Turn a jsonschema error into one actionable sentence."""
    where = ".".join(str(p) for p in error.absolute_path)
    target = f"{tool}.{where}" if where else tool
    v = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{tool}: missing required argument '{missing}'"
    if v == "additionalProperties":
        given = error.instance if isinstance(error.instance, dict) else {}
        extra = sorted(set(given) - set(schema.get("properties", {})))
        allowed = ", ".join(schema.get("properties", {})) or "none"
        return f"{tool}: unexpected argument(s) {', '.join(map(repr, extra))}; allowed: {allowed}"
    if v == "enum":
        options = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"{target} must be one of {', '.join(map(str, options))} (got {error.instance!r})"
    if v == "type":
        return (
            f"{target} must be of type {error.validator_value} (got {type(error.instance).__name__} {error.instance!r})"
        )
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = v.replace("exclusive", "exclusive ").lower()
        return f"{target} must be {bound} {error.validator_value} (got {error.instance!r})"
    return f"{target}: {error.message}"


class ToolRegistry:
    """Holds the tools the model may call. Thread-safe: plugins reload from a watcher."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.plugin_errors: dict[str, str] = {}
        self.version = 0  # bumps on every change, so the agent knows to re-render the tool block
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        Draft202012Validator.check_schema(tool.parameters)
        with self._lock:
            self._tools[tool.name] = tool
            self._validators[tool.name] = _Validator(tool.parameters)
            self.version += 1

    def unregister(self, name: str) -> None:
        with self._lock:
            if self._tools.pop(name, None) is not None:
                self._validators.pop(name, None)
                self.version += 1

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return list(self._tools)

    def unknown_in_policy(self, policy: dict[str, str], mcp_servers: Iterable[str] = ()) -> list[str]:
        """One line per tools.policy entry that names no tool here (a typo: `run_shel: deny`
        left run_shell on its default without a word; config review), with the nearest name.
        An MCP server's tools (SERVER__tool) arrive later: a configured server's are kept."""
        import difflib

        from .mcp_tools import SEPARATOR

        servers = tuple(f"{name}{SEPARATOR}" for name in mcp_servers)
        known = self.names()
        lines = []
        for name in policy:
            if name == "*" or name in self._tools or name.startswith(servers):
                continue
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f"; the tools are: {', '.join(sorted(known))}"
            lines.append(f"tools.policy.{name}: no tool has this name, so it applies to nothing{hint}")
        return lines

    def tools(self, only: Iterable[str] | None = None) -> list[Tool]:
        with self._lock:
            if only is None:
                return list(self._tools.values())
            return [self._tools[n] for n in only if n in self._tools]

    def schemas(self, only: Iterable[str] | None = None) -> list[dict[str, Any]]:
        return [tool.schema() for tool in self.tools(only)]

    def validate(self, call: ToolCall) -> list[str]:
        """Every problem with a call, as sentences the model can act on; [] when valid."""
        tool = self._tools.get(call.name)
        if tool is None:
            available = ", ".join(sorted(self._tools)) or "none"
            return [f"unknown tool '{call.name}'; available tools: {available}"]
        arguments: object = call.arguments  # a model's JSON may be any value, whatever the annotation says
        if not isinstance(arguments, dict):
            return [f"{call.name}: arguments must be a JSON object, got {type(arguments).__name__}"]
        validator = self._validators[call.name]
        _budget.deadline = time.monotonic() + PATTERN_BUDGET_S
        try:
            errors = sorted(validator.iter_errors(call.arguments), key=lambda e: list(e.absolute_path))
        finally:
            del _budget.deadline
        return [_message(call.name, e) for e in errors]
