"""A stdio MCP server's output, read in whole lines with a bound on each.

The SDK's stdio transport (`mcp.client.stdio`) decodes a server's stdout with anyio's
`TextReceiveStream` and joins each 64 KB piece to the line so far. A server that writes one
endless line (or a result of hundreds of megabytes) grew thau's memory without bound, and
the join, done once per piece, copies the whole line each time: quadratic, holding the GIL
for minutes while the chat froze (MCP review). The SDK has no setting for it, so its module's
`TextReceiveStream` is replaced, behind a check, by `LineBoundedText`: the same decoded text,
handed over only in whole lines (so the SDK's join is linear), and a line that runs past
`MAX_LINE_CHARS` ends the connection, with the reason in the server's log, which the error
the user reads ends with. Where the SDK reads its output some other way, nothing is replaced
and the SDK's own reader runs (`bound_stdio_lines` says which).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Callable

from anyio import ClosedResourceError, EndOfStream
from anyio.streams.text import TextReceiveStream

from .mcp_tools import MAX_IMAGE_BYTES, MAX_IMAGES

# A message thau accepts at all: MAX_IMAGES images of MAX_IMAGE_BYTES each, in base64, and
# room for text around them; a longer line is a runaway, not a result.
MAX_LINE_CHARS = MAX_IMAGES * MAX_IMAGE_BYTES * 4 // 3 + 8 * 2**20

# Where the reader of the server being started says why it closed the connection: set by
# MCPManager around stdio_client; the SDK's reader task copies it when the transport opens.
ON_TOO_LONG: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("ON_TOO_LONG", default=None)


class LineTooLong(ClosedResourceError):
    """A server sent a line longer than MAX_LINE_CHARS: its connection is closed (the SDK's
    reader ends quietly on a closed stream, as at its own shutdown)."""


@dataclass(eq=False)
class LineBoundedText(TextReceiveStream):
    """anyio's TextReceiveStream, handing over text up to the last line end only; a line that
    grows past MAX_LINE_CHARS before its end closes the stream and raises LineTooLong."""

    _partial: list[str] = field(init=False, default_factory=list)
    _partial_chars: int = field(init=False, default=0)

    async def receive(self) -> str:
        while True:
            try:
                text = await super().receive()
            except EndOfStream:
                if not self._partial:
                    raise
                rest, self._partial, self._partial_chars = "".join(self._partial), [], 0
                return rest  # an unfinished last line, as the SDK's reader would have had it
            end = text.rfind("\n")
            if end < 0:
                self._partial.append(text)
                self._partial_chars += len(text)
                if self._partial_chars > MAX_LINE_CHARS:
                    self._partial, self._partial_chars = [], 0
                    reason = (
                        f"thau closed the connection: the server sent a line of over {MAX_LINE_CHARS // 2**20} MB"
                        " with no end (a runaway output, or a result far larger than any thau takes)"
                    )
                    note = ON_TOO_LONG.get()
                    if note is not None:
                        note(reason)
                    # Closed, or the SDK's reader would drain a runaway server's output until
                    # the call timed out; the server's next write fails and it ends.
                    await self.aclose()
                    raise LineTooLong(reason)
                continue
            whole = "".join(self._partial) + text[: end + 1]
            rest = text[end + 1 :]
            self._partial, self._partial_chars = ([rest], len(rest)) if rest else ([], 0)
            return whole


def bound_stdio_lines() -> bool:
    """Make the SDK's stdio transport read with LineBoundedText; False, and nothing changed,
    where its module no longer reads with anyio's TextReceiveStream."""
    import mcp.client.stdio as sdk

    current = getattr(sdk, "TextReceiveStream", None)
    if current is LineBoundedText:
        return True
    if current is not TextReceiveStream:
        return False
    sdk.TextReceiveStream = LineBoundedText  # type: ignore[attr-defined]
    return True
