"""Which way a server backend's tool calls travel (`model.tool_calls`): native, through the
server's own `tools` field, or thau's dialect over /v1/completions. `auto` asks the server
once, when it connects; the answer is a ToolCallPath the status line and `thau doctor` show.
A server with no /v1/completions is never given the dialect by `auto`: it could answer nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx

from .backend import StreamStats
from .openai_chat import (
    CallDelta,
    CallSlots,
    ServerError,
    ToolCallPath,
    ToolCallsMode,
    _detail,
    probe_body,
    probe_called,
    prompt_tokens,
    read_chunk,
    refuse_compressed,
)
from .openai_stream import MAX_LINE_CHARS

if TYPE_CHECKING:
    from .openai_backend import OpenAiBackend


def choose_tool_path(backend: OpenAiBackend, mode: ToolCallsMode) -> ToolCallPath:
    """Native or dialect: as configured, or (auto) as the server shows when asked once."""
    if mode == "native":
        return ToolCallPath("native", "", "model.tool_calls: native (set in config.yaml)")
    if mode == "dialect":
        return ToolCallPath("dialect", "set in config", "model.tool_calls: dialect (set in config.yaml)")
    try:
        return _probe_tools(backend)
    except (ServerError, ValueError, AttributeError, TypeError, RecursionError, httpx.HTTPError) as exc:
        return ToolCallPath("dialect", "probe failed", f"asking the server about the tools field failed: {exc}")


def _probe_tools(backend: OpenAiBackend) -> ToolCallPath:
    """One question with a probe tool, streamed as a turn is: a tool_calls delta means
    native. A model that answered in words leaves it to the token counts: the same
    question with and without the tool (not streamed, one token), a longer prompt
    meaning the server showed the tools to the model. The probe tool's argument is an
    enum, so a call costs a few tokens even where a server ignores max_tokens; the streamed
    question may run to 32 tokens, room for a whole call in a model's own format."""
    url = f"{backend.base_url}/chat/completions"
    seen = _probe_stream(backend, url)
    if isinstance(seen, ToolCallPath):
        return seen
    plain = backend._request("POST", url, json=probe_body(backend.model_id, with_tools=False))
    if plain.status_code != 200:
        raise ServerError(f"{plain.status_code} to a plain chat request: {_detail(plain)[:160]}")
    if seen == "silent":
        # llama-cpp-python's server (chatml-function-calling): its stream closes without a
        # word when the model chose a call, which it can only return unstreamed.
        return ToolCallPath(
            "native",
            "",
            "the server reads the tools field; it cannot stream a call the model chose, "
            "so thau asks again unstreamed when its stream closes empty",
        )
    shown = backend._request("POST", url, json=probe_body(backend.model_id, with_tools=True))
    answer = shown.json() if shown.status_code == 200 else {}
    if isinstance(answer, dict) and probe_called(answer):
        return ToolCallPath("native", "", "the server answered a probe with a tool call")
    read = prompt_tokens(answer) if isinstance(answer, dict) else None
    bare = prompt_tokens(plain.json())
    if read is None or bare is None:
        return _dialect_if_served(
            backend,
            ToolCallPath(
                "dialect",
                "server did not show it reads tools",
                "the server answered a probe in words and gave no token counts, so thau cannot tell "
                "whether it read the tools field; set model.tool_calls: native to use it anyway",
            ),
        )
    if read > bare:
        return ToolCallPath(
            "native", "", f"the server showed the tools to the model (its prompt grew by {read - bare} tokens)"
        )
    return _dialect_if_served(
        backend,
        ToolCallPath(
            "dialect",
            "server ignores tools",
            "the server ignores the tools field (the same prompt with and without them, and no tool call); "
            "llama-server needs --jinja, llama-cpp-python's server a chat_format such as "
            "chatml-function-calling, vLLM --enable-auto-tool-choice",
        ),
    )


def _dialect_if_served(backend: OpenAiBackend, dialect: ToolCallPath) -> ToolCallPath:
    """`dialect` when the server has /v1/completions, else its chat completions (native): a
    server with only /v1/models and /v1/chat/completions was given the dialect, and every
    message failed with "has no /v1/completions (404)" while `thau doctor` said "tools:
    dialect" (eco review, 2026-12-07 night). Asked only here, where its chat completions
    answered the probe: elsewhere the dialect is the only path left to try."""
    missing = completions_missing(backend)
    if missing is None:
        return dialect
    return ToolCallPath(
        "native",
        "no /v1/completions",
        f"the server has no /v1/completions ({missing}), which thau's own dialect needs, so messages go "
        f"through its chat completions; the model may not see the tools there: {dialect.detail.split(';')[0]}",
    )


def completions_missing(backend: OpenAiBackend) -> str | None:
    """What the server said when it has no /v1/completions (a 404 or 405 to a one-token
    request), else None: any other answer, or none, leaves the dialect to be tried."""
    body = {"model": backend.model_id, "prompt": "Hi", "max_tokens": 1, "temperature": 0.0, "stream": False}
    try:
        response = backend._request("POST", f"{backend.base_url}/completions", json=body)
    except ServerError:
        return None
    if response.status_code not in (404, 405):
        return None
    return f"{response.status_code}: {_detail(response)[:160]}"


def _probe_lines(response: httpx.Response, seconds: float) -> Iterator[str]:
    """The probe's lines, at most MAX_LINE_CHARS each and all within `seconds` (model.timeout):
    httpx's iter_lines has neither, and a server sending one endless line took 600 MB, one
    sending `: ping` forever kept the model from loading (attacker review)."""
    deadline = time.monotonic() + seconds
    pending = bytearray()
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise ServerError(f"the server took more than {seconds:g} s to answer a short question (model.timeout)")
        pending += chunk
        if b"\n" not in chunk:
            if len(pending) > MAX_LINE_CHARS:
                raise ServerError(f"the server sent a line of more than {MAX_LINE_CHARS:,} characters")
            continue
        *lines, rest = bytes(pending).split(b"\n")
        pending = bytearray(rest)
        for line in lines:
            yield line.decode("utf-8", "replace").rstrip("\r")
    if pending:
        yield bytes(pending).decode("utf-8", "replace").rstrip("\r")


def _probe_stream(backend: OpenAiBackend, url: str) -> ToolCallPath | str:
    """The streamed probe: a ToolCallPath when it decides, else "silent" (no chunk at
    all) or "words" (the model answered in text)."""
    chunks = 0
    body = probe_body(backend.model_id, with_tools=True, stream=True, max_tokens=32)
    # A connection of its own: a server that drops the stream closes it (see _read).
    try:
        with (
            # compressed answers refused unread, as on every other request (servers review: a bomb)
            httpx.Client(
                headers=backend._headers, timeout=backend._timeout, event_hooks={"response": [refuse_compressed]}
            ) as client,
            client.stream("POST", url, json=body) as r,
        ):
            if r.status_code != 200:
                r.read()
                if r.status_code in (401, 403):
                    raise ServerError(backend._refused_key(r))
                return ToolCallPath(
                    "dialect",
                    f"server refused tools, {r.status_code}",
                    f"the server refused a chat request with the tools field ({r.status_code}: {_detail(r)[:160]})",
                )
            stats, slots = StreamStats(), CallSlots()
            for line in _probe_lines(r, backend.timeout_s):
                data = line[5:].strip() if line.startswith("data:") else ""
                if not data or data == "[DONE]":
                    continue
                chunk = json.loads(data)
                chunks += 1
                items = read_chunk(chunk, stats, slots) if isinstance(chunk, dict) else []
                if any(isinstance(i, CallDelta) and i.name.strip() == "thau_probe" for i in items):
                    return ToolCallPath("native", "", "the server streamed a tool call for a probe")
                if any(isinstance(i, str) and i.strip() for i in items):
                    break  # words: a server's parser holds text back while a call may be starting
    except httpx.TimeoutException as exc:
        raise ServerError(backend._timeout_message(exc)) from exc
    except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
        if chunks:  # dropped before a word is "silent" (see _read); after one, a failure
            raise ServerError(backend._unreachable(exc)) from exc
    except httpx.TransportError as exc:
        raise ServerError(backend._unreachable(exc)) from exc
    return "silent" if chunks == 0 else "words"
