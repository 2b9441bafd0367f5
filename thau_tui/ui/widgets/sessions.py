"""The sessions side panel: search, resume, rename, delete past chats."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, ListItem, ListView

from ...engine.store import SessionInfo, Store


def _when(ts: float) -> str:
    age = time.time() - ts
    if age < 3600:
        return f"{int(age // 60)}m"
    if age < 86400:
        return f"{int(age // 3600)}h"
    return time.strftime("%b %d", time.localtime(ts))


class SessionItem(ListItem):
    def __init__(self, info: SessionInfo) -> None:
        super().__init__(Label(f"{info.title[:40]}  [dim]{_when(info.updated)}[/]"))
        self.info = info


class SessionsPanel(Vertical):
    """Past chats, newest first. Enter resumes, r renames, d deletes.

    Shows the newest SHOWN chats (search reaches all of them): every widget in the
    list is laid out again whenever a streamed answer grows by a line, and 100 chats
    doubled the UI thread's CPU while streaming."""

    SHOWN = 30

    BINDINGS = [
        Binding("r", "rename", "Rename", id="session-rename", tooltip="Rename the highlighted chat"),
        Binding("d", "delete", "Delete", id="session-delete", tooltip="Delete the highlighted chat"),
    ]

    @dataclass
    class Resume(Message):
        session_id: str

    @dataclass
    class Rename(Message):
        session_id: str
        title: str

    @dataclass
    class Deleted(Message):
        session_id: str

    def __init__(self, store: Store, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search chats…", id="session-search")
        yield ListView(id="session-list")

    def on_mount(self) -> None:
        self.refresh_list()

    def refresh_list(self, search: str | None = None) -> None:
        if search is None:
            search = self.query_one("#session-search", Input).value
        view = self.query_one("#session-list", ListView)
        view.clear()
        found = self.store.list_sessions(search, limit=self.SHOWN + 1)
        view.extend(SessionItem(info) for info in found[: self.SHOWN])
        if len(found) > self.SHOWN:
            hint = "more matches: refine the search" if search else "older chats: type to search them"
            view.append(ListItem(Label(f"[dim]{hint}[/]"), classes="session-more", disabled=True))

    @on(Input.Changed, "#session-search")
    def _search(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    @on(Input.Submitted, "#session-search")
    def _to_list(self) -> None:
        self.query_one("#session-list", ListView).focus()

    @on(ListView.Selected, "#session-list")
    def _selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SessionItem):
            self.post_message(self.Resume(event.item.info.id))

    def _highlighted(self) -> SessionInfo | None:
        item = self.query_one("#session-list", ListView).highlighted_child
        return item.info if isinstance(item, SessionItem) else None

    def action_rename(self) -> None:
        info = self._highlighted()
        if info is None:
            return
        from ..screens.prompt_modal import PromptModal

        def done(title: str | None) -> None:
            if title:
                self.store.rename_session(info.id, title)
                self.post_message(self.Rename(info.id, title))
                self.refresh_list()

        self.app.push_screen(PromptModal("Rename chat", info.title), done)

    def action_delete(self) -> None:
        info = self._highlighted()
        if info is None:
            return
        self.store.delete_session(info.id)
        self.post_message(self.Deleted(info.id))
        self.refresh_list()
