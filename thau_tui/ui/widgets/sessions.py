"""The sessions side panel: search, resume, rename, delete past chats."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ...engine.store import SessionInfo, Store, StoreError
from ..compat import keymap, node_bindings
from ..visible import visible


def _when(ts: float) -> str:
    """A chat's age in at most four columns ("5m", "3h", "4d", "2w", "11mo", "2y"): a date
    ("Dec 05") after a long title wrapped onto a second row (chats review)."""
    age = max(0.0, time.time() - ts)
    if age < 60:
        return "now"  # "0m" read oddly, in the delete question too
    for size, unit in ((3600, "m"), (86400, "h"), (7 * 86400, "d"), (35 * 86400, "w"), (365 * 86400, "mo")):
        if age < size:
            step = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}[unit]
            return f"{int(age // step)}{unit}"
    return f"{int(age // (365 * 86400))}y"


LISTED = 200  # chats in the list; the rest are a search away
TYPING_S = 0.3  # a key this soon after one typed into the search is part of the word
ROW = 22  # columns a title and its age share on one row of the 32-column panel, beside its scrollbar


def _short(title: str, size: int = 20) -> str:
    """One line in the 32-column panel, with the age beside it: `size` columns, not
    characters (20 CJK characters took 40 columns, two rows: narrow-terminal review)."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(title) <= size:
        return title
    return set_cell_size(title, size - 1).rstrip() + "…"


class SessionsPanel(Vertical):
    """Past chats, newest first. Enter resumes, r renames, d deletes (after a yes);
    other letters typed in the list go to the search.

    The list is one OptionList, not a widget per chat: every widget on the screen is
    laid out again whenever a streamed answer grows by a line, and 100 chats as
    ListItems doubled the UI thread's CPU while streaming."""

    BINDINGS = [
        Binding("r", "rename", "Rename", id="session-rename", tooltip="Rename the highlighted chat"),
        Binding("d", "delete", "Delete", id="session-delete", tooltip="Delete the highlighted chat (asks first)"),
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
        self._infos: dict[str, SessionInfo] = {}
        self._shown: list[tuple[str, Content]] = []  # (id, line) of each chat listed now
        self._searched: str | None = None  # the search the list was last drawn for
        self._typing_until = 0.0  # keys before this time (time.monotonic) are a word being typed
        self._new_search = False  # the panel was shown again: the next letter typed starts a search

    def compose(self) -> ComposeResult:
        # no select-on-focus: type-to-search focuses it with the first letter already in
        yield Input(placeholder="search chats…", id="session-search", select_on_focus=False)
        yield OptionList(id="session-list")

    def on_mount(self) -> None:
        self.refresh_list()

    @property
    def listed(self) -> list[SessionInfo]:
        """The chats in the list, top to bottom."""
        return list(self._infos.values())

    def refresh_list(self, search: str | None = None) -> None:
        if search is None:
            search = self.query_one("#session-search", Input).value
        try:
            found = self.store.list_sessions(search, limit=LISTED + 1)
        except StoreError as exc:  # another thau holds the database: keep the list as it is
            self.app.notify(str(exc), title="chats list", severity="warning", markup=False)
            return
        self._infos = {info.id: info for info in found[:LISTED]}
        # the title as text (escape() leaves "[WIP] fix" to lose its "[WIP]"), its controls shown
        shown = [
            (info.id, Content.assemble(visible(_short(info.title, ROW - len(age))), (f"  {age}", "dim")))
            for info in found
            for age in (_when(info.updated),)
        ]
        if len(shown) > LISTED:  # the older ones were out of reach without a word (chats review)
            more = "more match: type more" if search else "older: type to search"  # one row (ROW columns)
            shown[LISTED:] = [("", Content.styled(more, "dim italic"))]
        if not shown and search:  # a filter that matches nothing must not read as "no chats"
            note = Content.styled(f"no chat matches \u201c{visible(search)}\u201d · Esc clears", "dim italic")
            shown = [("", note)]
        if shown == self._shown:  # after most turns nothing visible changed: no rebuild, no layout
            return
        self._shown = shown
        view = self.query_one("#session-list", OptionList)
        was = view.highlighted_option.id if view.highlighted_option is not None else None
        at = view.highlighted if search == self._searched else None  # the same list, one chat gone
        self._searched = search
        if not view.has_focus:  # not browsing it: the open chat is the one r and d would act on
            session = getattr(self.app, "session", None)
            was = getattr(session, "id", was)
        view.set_options(Option(line, id=sid or None, disabled=not sid) for sid, line in shown)
        if shown:  # keep the highlighted chat, else its place (deleted: the next one; it went to
            # the top, often the open chat, so a second d asked to delete that: chats review), else the first
            ids = [sid for sid, _ in shown]
            view.highlighted = ids.index(was) if was in ids else min(at or 0, len(ids) - 1)

    def on_key(self, event: events.Key) -> None:
        """Type-to-search: a letter typed in the list goes to the search box (but the
        panel's own keys, r and d unless remapped); Down in the search box goes to the list."""
        view = self.query_one("#session-list", OptionList)
        search = self.query_one("#session-search", Input)
        if event.key == "escape" and search.value and (search.has_focus or view.has_focus):
            event.stop()  # Esc clears the search (it did nothing: helper's UX review)
            event.prevent_default()
            search.value = ""
            return
        idle = not getattr(self.app, "turn_running", False)  # while a turn runs, Esc stops it
        if event.key == "escape" and idle and (search.has_focus or view.has_focus) and self.app.query("#input"):
            event.stop()  # with nothing to clear, back to the prompt (it stayed here: keyboard review)
            event.prevent_default()
            self.app.query_one("#input").focus()
            return
        if event.key == "down" and self.query_one("#session-search", Input).has_focus:
            event.stop()  # Down from the search box goes to the list (r and d typed there searched)
            view.focus()
            return
        typing = time.monotonic() < self._typing_until  # keys sent as a burst (tmux, a slow ssh)
        if not ((view.has_focus or typing) and event.is_printable and event.character):
            return
        bound = node_bindings(self).copy()
        bound.apply_keymap(keymap(self.app))
        # r and d are the panel's keys, but not in the middle of a word being typed: the focus
        # moves to the search box after the burst, and "build" searched "buil" (chats review)
        if event.key in bound.key_to_bindings and not typing:
            return
        event.stop()
        event.prevent_default()
        self._type_into_search(event.character)

    def shown_again(self) -> None:
        """Ctrl+B showed the panel: its list keeps the last search's matches, but a letter typed
        starts a new search. Typed after the old one, "Run the tests" searched "testsRun the
        tests", matched nothing, and the next message went into the box (new-user review)."""
        self._new_search = True

    def _type_into_search(self, text: str) -> None:
        self._typing_until = time.monotonic() + TYPING_S
        search = self.query_one("#session-search", Input)
        if self._new_search:
            self._new_search = False
            search.value = ""
        search.focus()
        search.cursor_position = len(search.value)
        search.insert_text_at_cursor(text)

    def on_paste(self, event: events.Paste) -> None:
        """Text pasted while the list has the focus goes to the search box (it was dropped)."""
        if self.query_one("#session-list", OptionList).has_focus and (line := event.text.strip().split("\n")[0]):
            event.stop()
            self._type_into_search(line)

    @on(Input.Changed, "#session-search")
    def _search(self, event: Input.Changed) -> None:
        if event.input.has_focus:
            self._new_search = False  # typed into the box itself: the user builds on what is there
        self.refresh_list(event.value)

    @on(Input.Submitted, "#session-search")
    def _to_list(self) -> None:
        self.query_one("#session-list", OptionList).focus()

    @on(OptionList.OptionHighlighted, "#session-list")
    def _to_the_note(self, event: OptionList.OptionHighlighted) -> None:
        """The last chat highlighted: the note row under it ("older: type to search") comes into
        view too; it cannot be highlighted, so End stopped a row short of it (skeptic re-review)."""
        view = event.option_list
        if event.option_index == view.option_count - 2 and view.get_option_at_index(view.option_count - 1).disabled:
            view.call_after_refresh(view.scroll_end, animate=False)

    @on(OptionList.OptionSelected, "#session-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id in self._infos:
            self.post_message(self.Resume(event.option.id))

    def _highlighted(self) -> SessionInfo | None:
        option = self.query_one("#session-list", OptionList).highlighted_option
        return self._infos.get(option.id) if option is not None else None

    def action_rename(self) -> None:
        info = self._highlighted()
        if info is None:
            return
        from ..screens.prompt_modal import PromptModal

        def done(title: str | None) -> None:
            if title:
                try:
                    self.store.rename_session(info.id, title)
                except StoreError as exc:
                    self.app.notify(str(exc), title="not renamed", severity="error", markup=False)
                    return
                self.post_message(self.Rename(info.id, title))
                self.refresh_list()

        self.app.push_screen(PromptModal("Rename chat", info.title), done)

    def action_delete(self) -> None:
        info = self._highlighted()
        if info is None:
            return
        from ..screens.confirm import ConfirmModal

        def done(yes: bool | None) -> None:
            if yes:
                try:
                    self.store.delete_session(info.id)
                except StoreError as exc:
                    self.app.notify(str(exc), title="not deleted", severity="error", markup=False)
                    return
                self.post_message(self.Deleted(info.id))
                self.refresh_list()
                if not self._infos:  # the last match is gone: the filter goes too (UX review)
                    self.query_one("#session-search", Input).value = ""

        what = f"{info.messages} message{'s' if info.messages != 1 else ''}"
        try:
            answering = self.store.turn_running(info.id)
        except StoreError:
            answering = False
        busy = " A thau window is answering in it right now; nothing more it writes is saved." if answering else ""
        self.app.push_screen(
            ConfirmModal(
                f"Delete the chat \u201c{visible(info.title)}\u201d ({what}, {_when(info.updated)})?{busy} "
                "It cannot be undone."
            ),
            done,
        )
