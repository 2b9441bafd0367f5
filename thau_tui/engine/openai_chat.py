"""The server's own tool calls: `/v1/chat/completions` with the `tools` field.

What is here is the wire format only: the request body, the streamed (or whole) answer
read into text pieces and `CallDelta`s, the probe's request (engine/tool_path.py asks it),
and the server's error text. Everything in an answer is untrusted: a delta that is not the
expected shape is skipped, never a crash; names and arguments are checked later, by
engine/native_turn.py and the registry, like the dialect path's calls.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ..addresses import shown_url
from .backend import ModelLoadError, SamplingSettings, StreamStats

ToolCallsMode = Literal["auto", "native", "dialect"]

# The probe's one tool and question: a server that reads `tools` either calls it or at
# least shows it to the model (its prompt grows by the schema).
PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "thau_probe",
        "description": "Answers ping with pong.",
        "parameters": {
            "type": "object",
            "properties": {"word": {"type": "string", "enum": ["ping"]}},
            "required": ["word"],
        },
    },
}
PROBE_QUESTION = "Call the tool thau_probe with word set to ping."


class ServerError(ModelLoadError):
    """The server failed during a request; the message says what happened and what to do.

    A ModelLoadError, so the chat shows the message as it is and goes on."""


# A JSON answer outside the event stream (a model list, /props, a whole completion, an error)
# is read up to this many bytes: a 64 MB /v1/models answer grew thau by ~577 MB.
MAX_BODY_BYTES = 16 * 1024 * 1024


def _too_big(response: httpx.Response, limit: int) -> ServerError:
    request = response.request
    return ServerError(
        f"the server at {request.url.scheme}://{request.url.netloc.decode()} answered more than "
        f"{limit // (1024 * 1024)} MB to {request.method} {request.url.path}; thau stopped reading it"
    )


def _whole(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response as a new one holding `body` (decoded already), for .json() and .text."""
    headers = {"content-type": response.headers.get("content-type", "application/json")}
    if "location" in response.headers:  # a redirect's message says where to
        headers["location"] = response.headers["location"]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


async def aread_capped(
    response: httpx.Response, limit: int = MAX_BODY_BYTES, seconds: float | None = None
) -> httpx.Response:
    """The body of a streamed (unread) response, at most `limit` bytes and, with `seconds`,
    read within that long in all, else ServerError. httpx's timeout is per read: a server
    sending a space every half second kept a token count going forever, and Esc with it."""
    body = bytearray()
    deadline = None if seconds is None else time.monotonic() + seconds
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise _too_big(response, limit)
        if deadline is not None and time.monotonic() > deadline:
            raise ServerError(
                f"the server at {response.request.url.host} took more than {seconds:g} s to send one answer "
                f"({response.request.url.path}); thau stopped waiting (model.timeout)"
            )
    return _whole(response, bytes(body))


# What thau asks every answer to be: httpx asks for gzip and deflate by default and unpacks
# them, stacked too, with no bound (a 1,828-byte answer became 1 GiB before a cap saw a byte).
IDENTITY = {"Accept-Encoding": "identity"}


def refuse_compressed(response: httpx.Response) -> None:
    """Refuse an answer sent compressed, before any of its body is read (an httpx response
    hook). None of the servers thau supports compresses unless asked, and thau never asks
    (IDENTITY): a server that compresses anyway is broken or hostile (servers review)."""
    said = response.headers.get_list("content-encoding", split_commas=True)
    encodings = [value.strip().lower() for value in said if value.strip()]
    if any(value != "identity" for value in encodings):
        request = response.request
        raise ServerError(
            f"the server at {request.url.scheme}://{request.url.netloc.decode()} sent a compressed answer "
            f"(Content-Encoding: {', '.join(encodings)[:80]}) to {request.method} {request.url.path}; thau asks for "
            "uncompressed answers and does not read compressed ones (a few KB can unpack to gigabytes)"
        )


async def arefuse_compressed(response: httpx.Response) -> None:
    """refuse_compressed as an httpx.AsyncClient's response hook."""
    refuse_compressed(response)


class Stopped(ServerError):
    """The turn was stopped (Esc) while thau waited on the server outside the answer's stream."""


def _detail(response: httpx.Response) -> str:
    """The server's own error message, from an OpenAI or FastAPI error body; for a redirect,
    where to (it read "refused the request (307: )": servers review)."""
    if response.is_redirect:
        where = shown_url(response.headers.get("location", "")) or "another address"
        return f"it redirects to {where}; thau does not follow redirects: set model.base_url to the new address"
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message", error))[:300]
        return str(error)[:300]
    return str(body)[:300]


@dataclass
class CallDelta:
    """A piece of one tool call: `slot` numbers the calls of a message from 0; the name
    and arguments are fragments to add to what came before (either may be empty)."""

    slot: int
    name: str = ""
    arguments: str = ""


@dataclass
class CallSlots:
    """Which call of the message a delta belongs to. OpenAI names it by `index`; some
    servers send whole calls with only an `id` (older Ollama): each new id is a new call."""

    slots: dict[tuple[str, object], int] = field(default_factory=dict)
    last: tuple[str, object] | None = None

    def slot(self, index: object, call_id: object) -> int:
        if isinstance(index, int) and not isinstance(index, bool):
            key: tuple[str, object] = ("index", index)
        elif isinstance(call_id, str) and call_id:
            key = ("id", call_id)
        else:
            key = self.last or ("index", 0)
        self.last = key
        return self.slots.setdefault(key, len(self.slots))


@dataclass
class ToolCallPath:
    """How tool calls travel with this server, and why."""

    mode: Literal["native", "dialect"]
    why: str  # short, for the status line; native's is empty unless it is a fallback
    detail: str = ""  # a sentence, for `thau doctor`

    def status(self) -> str:
        """The status line's words: native said with its reason too when it is a fallback
        (a server with no /v1/completions: eco review, 2026-12-07 night)."""
        if self.mode == "native":
            return f"tools: native ({self.why})" if self.why else "tools: native"
        return f"tools: dialect ({self.why})"


def chat_body(
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    settings: SamplingSettings,
    max_tokens: int,
    seed: int,
) -> dict[str, Any]:
    """The request for one assistant message through the native path (streamed)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "top_k": settings.top_k,
        "repeat_penalty": settings.repeat_penalty,
        "seed": seed,
    }
    if tools:
        body["tools"] = tools
        # Said outright: llama-cpp-python's server treats a missing tool_choice as "none".
        body["tool_choice"] = "auto"
    if settings.stop:
        body["stop"] = settings.stop
    return body


def _arguments_text(value: object) -> str:
    """A call's arguments as text: a string as is, an object (some servers send one) as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return ""


def read_tool_calls(entries: object, slots: CallSlots) -> list[CallDelta]:
    """The `tool_calls` of a delta (or of a whole message) as CallDeltas; odd entries are skipped."""
    deltas = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        function = entry.get("function")
        function = function if isinstance(function, dict) else {}
        name = function.get("name")
        deltas.append(
            CallDelta(
                slots.slot(entry.get("index"), entry.get("id")),
                name if isinstance(name, str) else "",
                _arguments_text(function.get("arguments")),
            )
        )
    return deltas


def read_chunk(chunk: dict[str, Any], stats: StreamStats, slots: CallSlots) -> list[str | CallDelta]:
    """One streamed chunk: its text pieces and call deltas, in order; stats updated."""
    items: list[str | CallDelta] = []
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        text = delta.get("content")
        if isinstance(text, str) and text:
            items.append(text)
        items.extend(read_tool_calls(delta.get("tool_calls"), slots))
        if choice.get("finish_reason"):
            stats.finish_reason = str(choice["finish_reason"])
    return items


def read_message(response: dict[str, Any], stats: StreamStats) -> list[str | CallDelta]:
    """A whole (not streamed) answer as the same items a stream gives."""
    items: list[str | CallDelta] = []
    slots = CallSlots()
    for choice in response.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        message = message if isinstance(message, dict) else {}
        text = message.get("content")
        if isinstance(text, str) and text:
            items.append(text)
        items.extend(read_tool_calls(message.get("tool_calls"), slots))
        if choice.get("finish_reason"):
            stats.finish_reason = str(choice["finish_reason"])
        break  # one choice asked for
    return items


def apply_usage(chunk: dict[str, Any], stats: StreamStats) -> None:
    """The server's own token counts, when a chunk carries them (they win over thau's)."""
    usage = chunk.get("usage")
    if isinstance(usage, dict):  # counts a server could not have: -463 tok/s, or 10**400 (an overflow)
        if _count(usage.get("prompt_tokens")):
            stats.prompt_tokens = usage["prompt_tokens"]
        if _count(usage.get("completion_tokens")):
            stats.tokens = usage["completion_tokens"]


def _count(value: Any) -> bool:
    """Whether a server's token count is one: an int, not a bool, from 0 to 10**9."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**9


def probe_body(model: str, with_tools: bool, stream: bool = False, max_tokens: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": PROBE_QUESTION}],
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": stream,
    }
    if with_tools:
        body["tools"] = [PROBE_TOOL]
        body["tool_choice"] = "auto"
    return body


def probe_called(response: dict[str, Any]) -> bool:
    """Whether a probe's answer holds a call of the probe tool."""
    stats = StreamStats()
    return any(
        isinstance(item, CallDelta) and item.name.strip() == "thau_probe" for item in read_message(response, stats)
    )


def prompt_tokens(response: dict[str, Any]) -> int | None:
    usage = response.get("usage")
    found = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return found if isinstance(found, int) else None
