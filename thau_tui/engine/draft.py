"""The answer being written, saved in one row of the store as it grows.

A crash then keeps nearly all of it: the row carries meta {"interrupted": true} until the
answer completes, and loading the chat shows it as cut short (engine/recovery.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..tools.base import storable

if TYPE_CHECKING:  # the agent builds a Draft per generation; only its types are needed here
    from .agent import Agent, ChatSession


class Draft:
    """The answer being written, saved in one row as it grows (at most every `save_every_s`)
    with meta {"interrupted": true} until it completes: a crash keeps nearly all of it."""

    def __init__(self, agent: Agent, session: ChatSession, save_every_s: float) -> None:
        self.agent, self.session = agent, session
        self.save_every_s = save_every_s
        self.text = ""
        self.message_id: int | None = None
        self.saved_at = 0.0

    def grow(self, text: str) -> None:
        """More of the answer arrived: keep it, and save it if the last save is old enough.
        A lone surrogate (a server's "\\ud800") becomes U+FFFD here: kept raw, it made every
        later prompt of the chat fail to encode."""
        self.text += storable(text)
        if self.agent.store is None or time.monotonic() - self.saved_at < self.save_every_s:
            return
        self.saved_at = time.monotonic()  # also after a failed save: try again a second later
        store, sid = self.agent.store, self.session.id
        if self.message_id is None:  # after any message still waiting to be saved, never before it
            growing = {"role": "assistant", "content": self.text, "meta": {"interrupted": True}}
            self.message_id = self.agent.saving.add(store, sid, growing, "the answer", keep=False)
        else:
            self.agent._save("the answer", store.update_message, self.message_id, self.text, {"interrupted": True})

    def cut(self) -> None:
        """The backend failed mid-answer: keep all that arrived, marked interrupted, in the
        store and in the chat's history (the next prompt then shows what the user saw)."""
        if not self.text:
            return
        meta = {"interrupted": True}
        if self.message_id is None or self.agent.store is None:
            self.message_id = self.agent._add(self.session, "assistant", self.text, meta, what="the answer")
            return
        self.session.messages.append({"role": "assistant", "content": self.text, "meta": meta})
        self.agent.saving.update(self.agent.store, self.message_id, self.text, meta, "the answer")

    def finish(self, text: str, meta: dict[str, Any] | None = None, *, stopped: bool = False) -> int | None:
        """The answer is complete: save all of it (call text included, or the native path's
        calls in meta["tool_calls"]) in the same row. `stopped`: the user stopped it (Esc),
        marked so a reopened chat says so."""
        from .tool_steps import _storable_value

        if stopped:
            meta = {**(meta or {}), "stopped": True}
        text, meta = storable(text), _storable_value(meta) if meta else meta
        if self.message_id is None:
            return self.agent._add(self.session, "assistant", text, meta, what="the answer")
        self.session.messages.append({"role": "assistant", "content": text, "meta": meta or {}})
        if self.agent.store is not None:  # kept in order until saved, like an added message
            self.agent.saving.update(self.agent.store, self.message_id, text, meta, "the answer")
        return self.message_id
