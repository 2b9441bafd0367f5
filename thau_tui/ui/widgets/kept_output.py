"""The head and the tail of a long streamed output, kept cheaply (a tool card's copy)."""

from __future__ import annotations

from collections import deque

# Characters of output a card keeps; the app passes config.tools.shell.card_output_limit.
CARD_OUTPUT_LIMIT = 200_000
MARKER_ROOM = 64  # the "[... N characters not shown ...]" line fits in this


def not_shown(count: int) -> str:
    """The plain line that stands where output was cut."""
    return f"[... {count} characters not shown ...]"


def _last_chars(chunks: deque[str] | list[str], count: int) -> str:
    """The last `count` characters of the joined chunks, touching only the chunks that hold them."""
    if count <= 0:
        return ""
    picked: list[str] = []
    for chunk in reversed(chunks):
        if len(chunk) >= count:
            picked.append(chunk[len(chunk) - count :])
            break
        picked.append(chunk)
        count -= len(chunk)
    return "".join(reversed(picked))


class KeptOutput:
    """The head and the tail of a streamed output, at most `limit` characters with the cut line.

    Adding a chunk costs about its own length: chunks are kept as they came and
    the tail drops whole chunks from its front (or skips into the first one),
    so nothing is re-joined or copied per chunk.
    """

    def __init__(self, limit: int = CARD_OUTPUT_LIMIT) -> None:
        room = max(limit - MARKER_ROOM, 2)
        self.head_limit = room // 2
        self.tail_limit = room - self.head_limit
        self.total = 0  # characters received
        self.cut = 0  # characters dropped between head and tail
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0  # kept characters in the tail
        self._skip = 0  # dropped characters at the front of the tail's first chunk

    def add(self, chunk: str) -> None:
        self.total += len(chunk)
        room = self.head_limit - self._head_len
        if room > 0:
            part = chunk[:room]
            self._head.append(part)
            self._head_len += len(part)
            chunk = chunk[len(part) :]
        if not chunk:
            return
        if len(chunk) >= self.tail_limit:
            self.cut += self._tail_len + len(chunk) - self.tail_limit
            self._tail.clear()
            self._skip = 0
            chunk = chunk[len(chunk) - self.tail_limit :]
            self._tail_len = 0
        self._tail.append(chunk)
        self._tail_len += len(chunk)
        excess = self._tail_len - self.tail_limit
        while excess > 0:
            left = len(self._tail[0]) - self._skip
            drop = min(left, excess)
            if drop == left:
                self._tail.popleft()
                self._skip = 0
            else:
                self._skip += drop
            self._tail_len -= drop
            self.cut += drop
            excess -= drop

    def text(self) -> str:
        """The kept output; when some was cut, a plain line between head and tail says how much."""
        head = "".join(self._head)
        tail = _last_chars(self._tail, self._tail_len)
        if not self.cut:
            return head + tail
        newline = "" if not head or head.endswith("\n") else "\n"
        return f"{head}{newline}{not_shown(self.cut)}\n{tail}"

    def since(self, position: int) -> tuple[str, int, str]:
        """What arrived after `position` (characters received): new head, characters cut, new tail."""
        head = _last_chars(self._head, self._head_len - position) if position < self._head_len else ""
        position = max(position, self._head_len)
        tail_start = self.total - self._tail_len
        gap = max(tail_start - position, 0)
        return head, gap, _last_chars(self._tail, self.total - max(position, tail_start))
