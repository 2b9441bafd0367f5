"""What an MCP server's tool becomes in thau: a registry name, a vetted schema, a risk, and
results turned into text (and image files) the way thau's own tools return them.

Everything a server sends is untrusted: its names, descriptions and schemas reach the
system prompt, its results reach the model and the screen. Names are cut down to what an
OpenAI function name allows (and what the dialects' grammars can quote), prose loses any
"<" that could begin a dialect tag or a chat-template control token, and schemas that are
too large, too deep or point outside themselves are refused with a sentence that says why.
Results are defused by the engine (Dialect.render_result) like every other tool's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .base import BRACKET_TOKENS, Risk, Tool, ToolError, ToolResult, storable
from .file_search import check_repeats

# An OpenAI function name: letters, digits, "_" and "-", at most 64 characters.
MAX_NAME = 64
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")
SEPARATOR = "__"

MAX_SCHEMA_CHARS = 16_000  # a schema is shown to the model in full, in every prompt
MAX_SCHEMA_DEPTH = 12
MAX_DESCRIPTION_CHARS = 1_000
MAX_TOOLS_PER_SERVER = 64
# What one server's tools may add to every prompt, schemas and descriptions together: 64
# tools of 16,000 characters each made a system prompt of a million characters.
MAX_SERVER_TOOL_CHARS = 48_000
MAX_ERROR_CHARS = 2_000  # a server's error message, as the tool result says it
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGES = 4  # per result: a server sending 40 of 20 MB each filled the disk, one call at a time
_IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}

# The start of anything a dialect or a chat template reads as a tag: "<" then a name, "</",
# "<|", DeepSeek's "<｜"; the bracketed tokens ([INST], [TOOL_CALLS]), EXAONE's "[|" and
# MiniMax's "]~b]" and "[e~[". The "<" (or "[", "]") becomes a look-alike the tokenizer does not join.
_TAG_START = re.compile(
    rf"<(?=\s*[/|!\uff5c]?\s*[A-Za-z_|\uff5c])|\[(?=/?(?:{BRACKET_TOKENS})\]|\|\w|e~\[)|\](?=~!?b[\[\]])"
)
_LOOKALIKE = {"<": "\u2039", "[": "\u2045", "]": "\u2046"}
# Schema keys whose values are prose for the model, not part of what a call must match.
_PROSE_KEYS = ("description", "title", "$comment")


class MCPToolRejected(Exception):
    """Why a server's tool was not added (shown to the user as is)."""


def defang(text: Any) -> str:
    """Untrusted prose with every tag-like "<" (or [INST]) replaced by a look-alike."""
    return _TAG_START.sub(lambda m: _LOOKALIKE[m.group(0)], storable(text))


def tool_count(count: int) -> str:
    """`1 tool`, `3 tools` ("1 tools" was in a notice: MCP review)."""
    return f"{count} tool" + ("" if count == 1 else "s")


def registry_name(server: str, tool: str) -> str:
    """`server__tool`, cut to what an OpenAI function name allows (e.g. git__status)."""
    base = _NOT_NAME.sub("_", tool).strip("_") or "tool"
    return f"{server}{SEPARATOR}{base}"[:MAX_NAME]


def risk_of(annotations: Any, trust_hints: bool = True, sandboxed: bool = False) -> Risk:
    """read for readOnlyHint with openWorldHint false from a server in thau's sandbox, write
    for a tool that says it changes things (destructiveHint or readOnlyHint false) or reaches
    the open world (openWorldHint, true unless said otherwise, as the MCP spec has it: a
    read-only fetch(url) that ran without asking would carry what read_file read, unasked,
    out in its URL), exec when the server says nothing (or is not trusted to).

    A read-only tool of a server outside the sandbox is write too: "read-only" is the
    server's word for what it means to do, not for what the files it reads can make it do.
    mcp-server-git's git_status is read-only, yet in a repository an approved command made
    inside the workspace it runs that repository's core.fsmonitor, as the user, outside
    the sandbox. Inside the sandbox that command is held like the shell's."""
    if annotations is None or not trust_hints:
        return "exec"
    if getattr(annotations, "read_only_hint", None) is True:
        return "read" if getattr(annotations, "open_world_hint", None) is False and sandboxed else "write"
    if (
        getattr(annotations, "destructive_hint", None) is not None
        or getattr(annotations, "read_only_hint", None) is False
    ):
        return "write"
    return "exec"


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_SCHEMA_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _clean(value: Any, key: str | None = None) -> Any:
    """A schema copy with its prose defanged; raises MCPToolRejected for a tag-like string
    where the model's call would have to match it (a property name, an enum value, a pattern)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise MCPToolRejected("its schema has a key that is not a string")
            if k in ("$ref", "$dynamicRef") and not (isinstance(v, str) and v.startswith("#")):
                raise MCPToolRejected(f"its schema refers outside itself ({k}: {str(v)[:80]!r})")
            if _TAG_START.search(k):
                raise MCPToolRejected(f"its schema has a name that looks like a chat tag ({defang(k)[:80]!r})")
            out[storable(k)] = defang(v) if k in _PROSE_KEYS and isinstance(v, str) else _clean(v, k)
        return out
    if isinstance(value, list):
        return [_clean(v, key) for v in value]
    if isinstance(value, str):
        if _TAG_START.search(value):
            raise MCPToolRejected(f"its schema holds text that looks like a chat tag ({defang(value)[:80]!r})")
        return storable(value)
    return value


def _values_of(value: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in a schema."""
    if isinstance(value, dict):
        own = [value[key]] if key in value else []
        return own + [found for v in value.values() for found in _values_of(v, key)]
    if isinstance(value, list):
        return [found for v in value for found in _values_of(v, key)]
    return []


def vet_schema(schema: Any) -> dict[str, Any]:
    """The tool's input schema, made safe to show and to validate against; MCPToolRejected if it cannot be."""
    if schema is None:
        schema = {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        raise MCPToolRejected(f"its input schema is a {type(schema).__name__}, not a JSON Schema object")
    try:
        size = len(json.dumps(schema, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise MCPToolRejected(f"its input schema is not plain JSON ({exc})") from exc
    if size > MAX_SCHEMA_CHARS:
        raise MCPToolRejected(
            f"its input schema is {size:,} characters; thau shows at most {MAX_SCHEMA_CHARS:,} to the model"
        )
    if _depth(schema) > MAX_SCHEMA_DEPTH:
        raise MCPToolRejected(f"its input schema nests deeper than {MAX_SCHEMA_DEPTH} levels")
    schema = _clean(schema)
    if schema.get("type", "object") != "object":
        raise MCPToolRejected(f"its input schema must describe an object (got type {schema.get('type')!r})")
    vetted: dict[str, Any] = {"type": "object", **schema}
    if not isinstance(vetted.get("properties", {}), dict):
        raise MCPToolRejected("its input schema's properties are not a mapping")
    vetted.setdefault("properties", {})
    for pattern in _values_of(vetted, "pattern"):
        try:
            if isinstance(pattern, str):
                check_repeats(pattern)  # compiling it is not covered by the match timeout (registry.py)
        except ToolError as exc:
            raise MCPToolRejected(f"a pattern in its input schema: {exc}") from exc
    if _values_of(vetted, "patternProperties"):
        # jsonschema matches these against the model's argument names with Python's re, which
        # no timeout stops (registry.py times `pattern` only); a tool's schema rarely needs them.
        raise MCPToolRejected("its input schema uses patternProperties, which thau does not accept from a server")
    try:
        Draft202012Validator.check_schema(vetted)
    except SchemaError as exc:
        raise MCPToolRejected(f"its input schema is not a valid JSON Schema: {defang(exc.message)[:200]}") from exc
    return vetted


def server_tool(server: str, item: Any, name: str, *, risk: Risk, function: Callable[..., ToolResult]) -> Tool:
    """A server's listed tool as a registry Tool, its schema vetted (MCPToolRejected) and its prose defanged."""
    return Tool(
        name=name,
        description=describe(server, item),
        parameters=vet_schema(getattr(item, "input_schema", None)),
        risk=risk,
        function=function,
        source=f"mcp:{server}",
    )


def tool_chars(tool: Tool) -> int:
    """What a tool adds to every prompt, roughly: its schema and its description."""
    return len(json.dumps(tool.parameters, ensure_ascii=False)) + len(tool.description)


def describe(server: str, tool: Any) -> str:
    """The tool's description for the model: the server's words, defanged and capped."""
    text = (getattr(tool, "description", None) or getattr(tool, "title", None) or "").strip()
    text = defang(text) or f"The {defang(tool.name)} tool of the {server} MCP server."
    if len(text) > MAX_DESCRIPTION_CHARS:
        text = text[: MAX_DESCRIPTION_CHARS - 1] + "…"
    return text


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 3 // 4], text[-(limit // 4) :]
    return f"{head}\n[… {len(text) - limit:,} characters cut …]\n{tail}"


def _save_image(data: str, mime: str, folder: Path) -> Path:
    suffix = _IMAGE_TYPES.get((mime or "").lower())
    if suffix is None:
        raise ValueError(f"an image of type {mime!r} (thau shows png, jpeg, gif and webp)")
    if len(data) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ValueError(f"an image over {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("an image that is not valid base64") from exc
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mcp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}{suffix}"
    path.write_bytes(raw)
    return path


def tool_result(server: str, result: Any, images_dir: Path, limit: int) -> ToolResult:
    """An MCP CallToolResult as thau's ToolResult: text for the model, images saved as files
    (the first one shown in the image pane, as generate_image's are)."""
    parts: list[str] = []
    images: list[str] = []
    skipped = 0
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(storable(item.text))
        elif kind == "image" and len(images) >= MAX_IMAGES:
            skipped += 1
        elif kind == "image":
            try:
                path = _save_image(item.data, item.mime_type, images_dir)
            except (ValueError, OSError) as exc:
                parts.append(f"[{server} sent {exc}; not shown]")
            else:
                images.append(str(path))
                parts.append(f"[image saved to {path}; it is shown to the user]")
        elif kind == "resource":
            inner = item.resource
            text = getattr(inner, "text", None)
            parts.append(storable(text) if text is not None else f"[binary resource {inner.uri} not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource {item.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content not shown]")
    if skipped:
        parts.append(f"[{server} sent {skipped} more images than the {MAX_IMAGES} a result may save; not saved]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    output = _cap("\n".join(parts), limit)
    failed = bool(getattr(result, "is_error", False))
    if failed:
        output = f"the {server} server says the tool failed: {output or '(no message)'}"
    data: dict[str, Any] = {"mcp_server": server}
    if images:
        data["image_path"] = images[0]
        data["images"] = images
    return ToolResult(output=output, ok=not failed, data=data)
