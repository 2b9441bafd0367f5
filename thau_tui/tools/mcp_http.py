"""A `url:` MCP server's replies, read with a bound and never unpacked.

The SDK's streamable HTTP transport caps each server-sent event at 1 MiB, but reads an
`application/json` reply whole with `response.aread()`: a server that answered with a
1.5 GB body took `thau doctor` to 6.6 GB before it failed with "PyObject pointer is null"
(servers review). A compressed reply is the same attack in a smaller parcel: httpx
unpacks gzip (stacked, "gzip, gzip") without a bound. The SDK has no setting for either,
so thau hands it a client (`bounded_client`) whose replies are read through
`BoundedBody`: past MAX_REPLY_BYTES, or at the first byte of a compressed reply, reading
fails with `ReplyRefused`, which the SDK turns into an error for that one request. The
connection is dropped, so the server's writes fail, and the server stays connected for
its next call, as a tool that fails does.

An event stream is read event by event; the SDK bounds each event, at 1 MiB unless told
otherwise, so `http_transport` gives it MAX_REPLY_BYTES: a 600,000-character result
failed, the SDK's server sending its text twice (eco review, 2026-12-07 night).
"""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Callable

import httpx2

from .mcp_stdio import MAX_LINE_CHARS

# A JSON reply is one JSON-RPC message, what a stdio server writes as one line: the same
# bound as mcp_stdio's, the largest message thau accepts at all (MAX_IMAGES images in
# base64, and room for text). JSON-RPC is ASCII but for the text in it, so its characters
# and bytes come to about the same.
MAX_REPLY_BYTES = MAX_LINE_CHARS


def too_long_reason() -> str:
    """Why a reply that ran past MAX_REPLY_BYTES was cut: what the user reads."""
    return (
        f"thau stopped reading its reply past {MAX_REPLY_BYTES // 2**20} MB, the most it takes from an "
        "MCP server (a runaway output, or a result far larger than any thau takes)"
    )


def compressed_reason(encoding: str) -> str:
    """Why a compressed reply was refused."""
    return (
        f"it sent its reply compressed ({encoding[:40]}) though thau asked for none (Accept-Encoding: "
        "identity); thau does not unpack a server's replies, as a small one can unpack to gigabytes"
    )


class ReplyRefused(httpx2.StreamError, httpx2.SSEError):
    """Reading a reply stopped: too long, or compressed. Both kinds of error on purpose: the
    SDK turns a StreamError in a JSON reply, and an SSEError in an event stream, into an
    error for that request carrying this message; anything else it reports only as "SSE
    stream ended", or it ends the whole connection."""

    def __init__(self, message: str) -> None:
        httpx2.SSEError.__init__(self, message)  # sets .request's slot; StreamError adds no state


class BoundedBody(httpx2.AsyncByteStream):
    """A response's body, passed on until it runs past `limit` bytes; `refusal`, when set,
    is raised at the first read instead (a compressed reply)."""

    def __init__(
        self, inner: httpx2.AsyncByteStream, limit: int | None, refusal: str, on_refused: Callable[[str], None]
    ) -> None:
        self.inner, self.limit, self.refusal, self.on_refused = inner, limit, refusal, on_refused

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.refusal:
            self.on_refused(self.refusal)
            raise ReplyRefused(self.refusal)
        read = 0
        async for chunk in self.inner:
            read += len(chunk)
            if self.limit is not None and read > self.limit:
                reason = too_long_reason()
                self.on_refused(reason)
                raise ReplyRefused(reason)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()  # unread: the connection is dropped, not reused


def bounded_client(headers: dict[str, str], on_refused: Callable[[str], None]) -> Any:
    """The SDK's HTTP client for one server (its own timeouts), asking for replies as they
    are (Accept-Encoding: identity) and reading each through BoundedBody. An event stream
    has no bound on its whole length: the GET stream stays open for as long as the server
    does, and the SDK bounds each of its events (http_transport) and hands them over one by one."""
    from mcp.shared._httpx_utils import create_mcp_http_client

    client = create_mcp_http_client(headers={**headers, "Accept-Encoding": "identity"})

    async def bound(response: httpx2.Response) -> None:
        if not isinstance(response.stream, httpx2.AsyncByteStream):  # an async client's never is
            return
        encoding = response.headers.get("content-encoding", "").strip().lower()
        kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        refusal = compressed_reason(encoding) if encoding not in ("", "identity") else ""
        limit = None if kind == "text/event-stream" else MAX_REPLY_BYTES
        # Replaced in the response hook, not in a transport of thau's own: a client given a
        # transport no longer takes its proxy from HTTP(S)_PROXY.
        response.stream = BoundedBody(response.stream, limit, refusal, on_refused)

    client.event_hooks["response"].append(bound)
    return client


def http_transport(url: str, client: Any) -> Any:
    """The SDK's streamable HTTP transport to `url` through `client`, its events bounded at
    MAX_REPLY_BYTES as a JSON reply is; an SDK without the setting keeps its own bound."""
    from mcp.client.streamable_http import streamable_http_client

    bound: dict[str, Any] = {}
    if "max_sse_event_size" in inspect.signature(streamable_http_client).parameters:
        bound["max_sse_event_size"] = MAX_REPLY_BYTES
    return streamable_http_client(url, http_client=client, **bound)


# How the SDK ends a request whose reply stream broke: an event past its bound, a stream
# that ended before the reply (its error code is the one a closed connection gets).
_BROKEN_STREAM = ("SSE stream failed", "SSE stream ended")


def broken_stream(message: str) -> bool:
    """Whether an error the SDK gave a request says its reply stream broke on the way."""
    return message.startswith(_BROKEN_STREAM)


def stream_broke(server: str, said: str) -> str:
    """What a call whose reply stream broke (broken_stream) tells the model: it was put as
    "the MCP server refused the call" (eco review, 2026-12-07 night), but the server
    refused nothing and may have run the call."""
    return (
        f"the MCP server '{server}' call broke off on the way back: its reply stream broke before "
        f"the whole result came through ({said}); the server refused nothing and may have run the "
        "call; it is still connected"
    )
