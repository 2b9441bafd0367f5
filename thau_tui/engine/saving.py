"""Saving a turn's messages: a store that fails costs the saving, never the turn, and never
the order of the chat.

A message whose save fails (a lock another program holds, a full disk) waits in `unsaved`
and is saved before any later one, once the store takes writes again: while a backup held
the database locked, the question was not saved and the answer was (after the lock went),
so the reopened chat showed an answer to nothing (crash review). After a failure, the queue
is tried again only after `RETRY_S`, so a lock held for half a minute does not stall every
write of the turn (each waits out SQLite's busy timeout) and freeze the screen.
"""

from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from .events import Error
from .session import NEW_CHAT
from .store import Store, StoreError

T = TypeVar("T")

RETRY_S = 3.0  # after a failed save, the queued messages wait this long before the next try


class Saving:
    """The store writes of one agent: failures noted once each for the turn to yield, and the
    messages that failed kept in order until they are saved."""

    def __init__(self) -> None:
        self.reported: set[str] = set()  # failed-save messages already shown this turn
        self.unreported: list[str] = []
        # In order: (session id, message, what) to add, or (None, {"id", "content", "meta"}, what)
        # for a row whose update failed (an answer's final text after its growing draft row)
        self.unsaved: list[tuple[str | None, dict[str, Any], str]] = []
        self.retry_at = 0.0
        self.failed = ""  # the StoreError kind of the last write that failed ("" after one that worked)
        self.titles: dict[str, str] = {}  # chat id -> the title from its first question, not saved yet

    def new_turn(self) -> None:
        self.reported, self.unreported = set(), []

    def save(self, what: str, write: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run one store write; on failure note an Error for the turn to yield and return
        None. `what` names what was not saved."""
        self.failed = ""
        try:
            return write(*args, **kwargs)
        except StoreError as exc:
            message, self.failed = exc.unsaved(what), exc.kind
        except Exception as exc:  # a store bug must not take the turn down either
            message, self.failed = f"{what} was not saved: {type(exc).__name__}: {exc}", "failed"
        self.retry_at = time.monotonic() + RETRY_S
        if message not in self.reported:
            self.reported.add(message)
            self.unreported.append(message)
        return None

    def flush(self, store: Store) -> bool:
        """Save the messages that failed before, oldest first; whether none is left."""
        if self.unsaved and time.monotonic() < self.retry_at:
            return False
        while self.unsaved:
            sid, message, what = self.unsaved[0]
            done: object
            if sid is None:
                done = self.save(what, _update, store, message)
            else:
                done = self.save(what, store.add_message, sid, message["role"], message["content"], message["meta"])
            if done is None and self.failed != "deleted":  # a deleted chat's messages have nowhere to go
                return False
            self.unsaved.pop(0)
        self._save_titles(store)
        return True

    def rename(self, store: Store, sid: str, title: str) -> None:
        """Name a new chat after its first question. A failure says nothing (the question's
        own Error does) and the name is tried again after the messages waiting: on a full
        disk the chat stayed "New chat" once both questions were saved (reliability review)."""
        self.titles[sid] = title
        self._save_titles(store)

    def _save_titles(self, store: Store) -> None:
        for sid, title in list(self.titles.items()):
            try:
                info = store.get_session(sid)
                if info is not None and info.title == NEW_CHAT:  # a name the user gave meanwhile stays
                    store.rename_session(sid, title)
            except Exception:  # noqa: BLE001 - still full or locked: the next save tries again
                return
            del self.titles[sid]

    def update(self, store: Store, row: int, content: str, meta: dict[str, Any] | None, what: str) -> None:
        """Replace a saved row's text (an answer's draft with its final text), after those
        waiting; kept in order when it fails, like an added message (review: the final answer
        was lost after a lock, its growing draft left marked interrupted)."""
        change = {"id": row, "content": content, "meta": meta or {}}
        self.failed = ""
        if not (self.flush(store) and self.save(what, _update, store, change)):
            self.unsaved.append((None, change, what))

    def waiting_for(self, sid: str) -> bool:
        """Whether a message of chat `sid` still waits to be saved (the chat is not empty)."""
        return any(waiting == sid for waiting, _, _ in self.unsaved)

    def add(self, store: Store, sid: str, message: dict[str, Any], what: str, keep: bool = True) -> int | None:
        """Save `message` (the dict the chat's history holds: what is saved later is what it
        says then) after those waiting; its row id, or None when it is not saved now. `keep`:
        wait in the queue when not saved (a draft instead tries again as it grows)."""
        row, self.failed = None, ""
        if self.flush(store):
            row = self.save(what, store.add_message, sid, message["role"], message["content"], message["meta"])
        if row is None and keep and self.failed != "deleted":
            self.unsaved.append((sid, message, what))
        return row

    def errors(self) -> list[Error]:
        """The Errors for failed saves not yet yielded."""
        errors = [Error(message) for message in self.unreported]
        self.unreported.clear()
        return errors


def _update(store: Store, change: dict[str, Any]) -> bool:
    store.update_message(change["id"], change["content"], change["meta"])
    return True
