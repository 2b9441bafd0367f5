"""ApprovalsScreen: what thau runs without asking, and a key to take it back.

Lists the remembered approvals (this session's and the "always" ones from the
approvals file) and, read-only, the per-tool policy from config.yaml.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from ...engine.approvable_programs import may_hold
from ...engine.approvals import ApprovalBook, RememberedApproval
from ...paths import default_config_file
from ..visible import cell


def _found_at(entry: RememberedApproval) -> str:
    """Where PATH found the program when it was approved (the approval holds only there), or
    that it holds nowhere: an entry from before approvals by name took only thau's list of
    safe programs, or one config.yaml no longer adds (new-user review of 2026-12-08)."""
    if entry.program is not None and not may_hold(entry.program):
        return "not in effect: not on thau's list of programs safe to allow by name (tools.shell.approvable_by_name)"
    if entry.program is None or entry.where is None:
        return ""
    if entry.where.startswith("?"):
        return "never holds: " + entry.where[1:]
    return entry.where or "nowhere on PATH"


def _when(created: float) -> str:
    """A timestamp as the user reads it: the time today, else the date."""
    if not created:
        return "—"
    moment = time.localtime(created)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


class ApprovalsScreen(ModalScreen[None]):
    """Remembered approvals and the config policy; `d` revokes the highlighted approval."""

    CSS_PATH = "approvals.tcss"

    BINDINGS = [
        Binding("d", "revoke", "Revoke", id="revoke-approval", tooltip="Forget the highlighted approval"),
        Binding("delete", "revoke", "Revoke", id="revoke-approval-delete", show=False),
        Binding("escape", "close", "Close", id="close-approvals"),
    ]

    def __init__(
        self,
        book: ApprovalBook,
        config_path: Path | None = None,
        chat_id: str | None = None,
        typos: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.book = book
        self.typos = typos  # policy names no tool has: `run_shel: auto` looked valid here (UX review)
        self.chat_id = chat_id  # the chat open under this screen: its "for this chat" entries said so
        self.config_path = config_path  # the config.yaml in use; None: none was found
        self._rows: dict[str, RememberedApproval] = {}

    def compose(self) -> ComposeResult:
        # scrolls: on a short terminal the tables were squeezed to their headers (narrow-terminal review)
        with VerticalScroll(id="approvals-dialog"):
            yield Static("Approvals", id="approvals-title")
            yield Static("", id="approvals-problem", markup=False)  # a JSON error quotes the file
            yield DataTable(id="approvals-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="approvals-empty")
            # which file: "edit the file" named none, and there can be three (UX review)
            if self.config_path is not None:
                where = f"Policy from {self.config_path} (tools.policy): edit that file to change it"
            else:
                where = f"Policy (tools.policy): no config.yaml in use; to set one, write it in {default_config_file()}"
            yield Static(where, classes="section", markup=False)
            yield DataTable(id="policy-table", cursor_type="none", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#approvals-table", DataTable)
        table.add_columns("scope", "tool", "program", "when", "found at")
        policy = self.query_one("#policy-table", DataTable)
        policy.add_columns("tool", "policy")
        for tool, value in sorted(self.book.policy.items()):
            policy.add_row(
                cell(tool),
                cell(str(value) + ("  (no tool has this name: it applies to nothing)" if tool in self.typos else "")),
            )
        if not self.book.policy:
            policy.add_row("(none)", "read runs, write and exec ask")
        problem = self.query_one("#approvals-problem", Static)
        problem.update(self.book.load_error or "")
        problem.display = bool(self.book.load_error)
        self.refresh_table()
        table.focus()

    def refresh_table(self) -> None:
        """Re-read the book into the table, keeping the cursor near where it was."""
        table = self.query_one("#approvals-table", DataTable)
        row = table.cursor_row
        table.clear()
        self._rows.clear()
        for index, entry in enumerate(self.book.entries()):
            key = str(index)
            self._rows[key] = entry
            scope: str = entry.scope
            if scope == "session" and self.chat_id is not None:  # another chat's read as this one's (UX review)
                scope = "this chat" if entry.session_id == self.chat_id else "another chat"
            table.add_row(  # plain text: the program came from a command the model wrote
                scope,
                cell(entry.tool),
                cell(entry.program) if entry.program else Text("any", style="italic"),
                _when(entry.created),
                cell(_found_at(entry)),
                key=key,
            )
        if self._rows:
            table.move_cursor(row=min(row, len(self._rows) - 1))
        empty = self.query_one("#approvals-empty", Static)
        empty.update("" if self._rows else "Nothing remembered: write and exec tools ask every time.")
        empty.display = not self._rows

    def selected(self) -> RememberedApproval | None:
        """The highlighted approval, if any."""
        table = self.query_one("#approvals-table", DataTable)
        if not self._rows or not table.is_valid_row_index(table.cursor_row):
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self._rows.get(row_key.value)

    def action_revoke(self) -> None:
        entry = self.selected()
        if entry is None:
            self.notify("No approval is selected.", severity="warning")
            return
        what = f"{entry.tool}" + (f" ({entry.program})" if entry.program else "")
        try:
            self.book.revoke(entry)
        except OSError as exc:  # a full disk, a read-only folder: said, and the screen stays
            self.notify(f"{what} could not be revoked in the file: {exc}", severity="error", markup=False)
            return
        self.notify(f"Revoked: {what} — it will ask again.", markup=False)
        self.refresh_table()

    def action_close(self) -> None:
        self.dismiss(None)
