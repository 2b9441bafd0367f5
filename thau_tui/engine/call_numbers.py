"""Which call of one message a server's `tool_calls` entry belongs to, written into the entry
as its `index` before openai_chat reads it (openai_chat.CallSlots keys calls by `index` first).

OpenAI numbers a message's calls by `index`, and sends a call's `id` on its first fragment
only. Some servers send no index: there an entry with an `id` opens a call even when the id
was said before (some servers give every call of a message the same one, and such calls were
merged into one, their arguments run together: native calls review), unless it repeats the
last call's id with no name, a fragment that repeats its call's id; an entry with neither
continues the last call, as OpenAI's fragments do.
"""

from __future__ import annotations

from typing import Any


class CallNumbers:
    """The numbering of one streamed message's calls, chunk by chunk."""

    def __init__(self) -> None:
        self.count = 0  # calls opened so far
        self.by_index: dict[int, int] = {}  # a server's own index -> the call's number
        self.last: int | None = None
        self.last_id: str | None = None

    def number(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """`chunk` with each call entry's `index` set to its call's number: a copy when it has
        call entries, else `chunk` itself."""
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not any(call_entries(c, "delta") for c in choices):
            return chunk
        numbered = [with_entries(c, "delta", [self._entry(e) for e in call_entries(c, "delta")]) for c in choices]
        return {**chunk, "choices": numbered}

    def _entry(self, entry: object) -> object:
        if not isinstance(entry, dict):
            return entry
        index, call_id, function = entry.get("index"), entry.get("id"), entry.get("function")
        named = isinstance(function, dict) and bool(function.get("name"))
        has_id = isinstance(call_id, str) and call_id != ""
        if isinstance(index, int) and not isinstance(index, bool):
            if index not in self.by_index:
                self.by_index[index] = self._open()
            call = self.by_index[index]
        elif self.last is None or (has_id and (named or call_id != self.last_id)):
            call = self._open()
        else:
            call = self.last
        self.last = call
        if has_id:
            self.last_id = call_id
        return {**entry, "index": call}

    def _open(self) -> int:
        self.count += 1
        return self.count - 1


def whole_calls_numbered(answer: dict[str, Any]) -> dict[str, Any]:
    """A whole (not streamed) answer with its calls numbered by their place: each entry of a
    message is a call of its own, whatever its id or index."""
    choices = answer.get("choices")
    if not isinstance(choices, list):
        return answer
    numbered = []
    for choice in choices:
        entries = call_entries(choice, "message")
        calls = [{**e, "index": at} if isinstance(e, dict) else e for at, e in enumerate(entries)]
        numbered.append(with_entries(choice, "message", calls))
    return {**answer, "choices": numbered}


def call_entries(choice: object, part: str) -> list[Any]:
    """The `tool_calls` list of a choice's `part` ("delta" or "message"), or []."""
    holder = choice.get(part) if isinstance(choice, dict) else None
    entries = holder.get("tool_calls") if isinstance(holder, dict) else None
    return entries if isinstance(entries, list) else []


def with_entries(choice: object, part: str, entries: list[Any]) -> object:
    """`choice` with its `part`'s tool_calls replaced by `entries` (a copy)."""
    if not entries or not isinstance(choice, dict):
        return choice
    return {**choice, part: {**choice[part], "tool_calls": entries}}
