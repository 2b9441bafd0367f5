"""ApprovalsScreen over a real ApprovalBook (tmp approvals file): list, revoke, close."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable, Static

from thau_tui.engine.approvals import ApprovalBook, program_location
from thau_tui.engine.events import Decision
from thau_tui.tools.base import ToolCall
from thau_tui.ui.screens.approvals import ApprovalsScreen


def filled_book(path) -> ApprovalBook:
    book = ApprovalBook(path, {"run_python": "deny"})
    book.remember(ToolCall("run_shell", {"command": "git status"}), "exec", Decision("always"), "s1")
    book.remember(ToolCall("write_file", {"path": "a", "content": ""}), "write", Decision("session"), "s1")
    return book


class Host(App):
    def __init__(self, book: ApprovalBook) -> None:
        super().__init__()
        self.book = book
        self.closed = False

    def on_mount(self) -> None:
        self.push_screen(ApprovalsScreen(self.book), callback=lambda _result: setattr(self, "closed", True))


async def test_lists_approvals_and_policy(tmp_path):
    app = Host(filled_book(tmp_path / "approvals.json"))
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ApprovalsScreen)
        table = screen.query_one("#approvals-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][:3] == ["always", "run_shell", "git status"]
        assert rows[0][4] == (program_location("git") or "nowhere on PATH")  # the approval holds only there
        assert rows[1][:3] == ["session", "write_file", "any"]
        assert rows[1][4] == ""
        policy = screen.query_one("#policy-table", DataTable)
        assert [str(c) for c in policy.get_row_at(0)] == ["run_python", "deny"]
        # Each column as wide as what it holds: the tool column stayed as wide as its header
        # ("tool"), showing "run_" for run_shell (helper's UX review).
        for listing, widest in ((table, ["always", "write_file", "git status"]), (policy, ["run_python", "deny"])):
            widths = [column.content_width for column in listing.columns.values()]
            assert all(width >= len(text) for width, text in zip(widths, widest)), widths


async def test_revoke_removes_the_entry_from_the_book_and_file(tmp_path):
    path = tmp_path / "approvals.json"
    book = filled_book(path)
    app = Host(book)
    async with app.run_test() as pilot:
        await pilot.pause()
        table = app.screen.query_one("#approvals-table", DataTable)
        assert app.focused is table
        await pilot.press("d")  # the "always" git approval is highlighted first
        assert [(e.tool, e.program) for e in book.entries()] == [("write_file", None)]
        assert ApprovalBook(path).entries() == []
        assert book.decide(ToolCall("run_shell", {"command": "git log"}), "exec", "s1") == "ask"
        assert table.row_count == 1
        await pilot.press("delete")
        assert book.entries() == [] and table.row_count == 0
        assert app.screen.query_one("#approvals-empty", Static).display
        await pilot.press("d")  # nothing left: a warning, no error
        assert book.entries() == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.closed and not isinstance(app.screen, ApprovalsScreen)


async def test_broken_file_is_reported_on_the_screen(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text("[broken")
    app = Host(ApprovalBook(path))
    async with app.run_test() as pilot:
        await pilot.pause()
        problem = app.screen.query_one("#approvals-problem", Static)
        assert problem.display and "could not be read" in str(problem.render())


async def test_a_program_name_is_shown_as_text_not_markup(tmp_path):
    """Table cells read a str as markup: a program named '[/b]' in a hand-edited approvals
    file raised a MarkupError (the screen could not open), and '[@click=app.quit]' made a
    clickable action. Names are shown as text."""
    import json

    programs = ["[/b]", "[@click=app.quit]x[/]"]
    path = tmp_path / "approvals.json"
    entries = [{"tool": "run_shell", "program": p, "created": 1.0, "where": "/usr/bin/x"} for p in programs]
    path.write_text(json.dumps({"version": 1, "approvals": entries}))
    book = ApprovalBook(path, {})
    assert [entry.program for entry in book.entries()] == programs
    app = Host(book)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#approvals-table", DataTable)
        await pilot.pause()
        cells = [table.get_row_at(i)[2] for i in range(table.row_count)]
        assert [str(cell) for cell in cells] == programs
        assert not any("@click" in str(span.style) for cell in cells for span in getattr(cell, "spans", []))
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "[/b]" in shown and "[@click" in shown, shown  # the column cuts the second
        await pilot.press("d")  # the notice names the program too
        await pilot.pause()
        assert app.is_running


async def test_on_a_short_terminal_the_policy_rows_can_be_reached(tmp_path):
    """At 60x16 the policy table showed only its header and no key revealed its rows
    (narrow-terminal review): the dialog scrolls, and Tab brings the table into view."""
    from scripted import ScriptedBackend
    from test_app import make_app

    app = make_app(tmp_path, ScriptedBackend([]))
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        await pilot.press("tab")
        await pilot.pause(0.3)
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "(none)" in screen and "read runs, write and exec ask" in screen, screen


class HostWithConfig(App):
    def __init__(self, book: ApprovalBook, config_path) -> None:
        super().__init__()
        self.book, self.config_path = book, config_path

    def on_mount(self) -> None:
        self.push_screen(ApprovalsScreen(self.book, self.config_path))


async def test_the_policy_section_names_the_config_file_to_edit(tmp_path, monkeypatch):
    """It said "edit the file to change it" and named none; there can be three (UX review)."""
    from thau_tui.paths import default_config_file

    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    config = tmp_path / "my config" / "config.yaml"
    for path, said in ((config, f"Policy from {config} (tools.policy): edit that file"), (None, "no config.yaml")):
        app = HostWithConfig(filled_book(tmp_path / "approvals.json"), path)
        async with app.run_test(size=(160, 30)) as pilot:
            await pilot.pause()
            section = str(app.screen.query_one(".section", Static).render())
            assert said in section, section
            if path is None:  # where to write one
                assert str(default_config_file()) in section, section


class HostInChat(App):
    def __init__(self, book: ApprovalBook, chat_id: str) -> None:
        super().__init__()
        self.book, self.chat_id = book, chat_id

    def on_mount(self) -> None:
        self.push_screen(ApprovalsScreen(self.book, None, self.chat_id))


async def test_a_for_this_chat_approval_says_which_chat(tmp_path):
    """Opened in a new chat, the screen listed `session run_shell ls` from another chat, as if
    ls were allowed here (UX review): each says whether it is this chat's."""
    book = ApprovalBook(tmp_path / "approvals.json")
    book.remember(ToolCall("run_shell", {"command": "ls -la"}), "exec", Decision("session"), "chat-1")
    book.remember(ToolCall("write_file", {"path": "a", "content": ""}), "write", Decision("session"), "chat-2")
    app = HostInChat(book, "chat-2")
    async with app.run_test() as pilot:
        await pilot.pause()
        table = app.screen.query_one("#approvals-table", DataTable)
        rows = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert rows == {"run_shell": "another chat", "write_file": "this chat"}, rows


async def test_an_approval_of_a_program_off_the_list_says_it_is_not_in_effect(tmp_path):
    """An "always" of hadolint stayed listed as if it held after config.yaml stopped adding hadolint
    (and so do entries from before approvals by name took only thau's list of safe programs):
    the screen says it is not in effect (new-user review of 2026-12-08)."""
    from thau_tui.engine.approvable_programs import set_added

    book = filled_book(tmp_path / "approvals.json")
    set_added(["hadolint"])
    try:
        assert book.remember(ToolCall("run_shell", {"command": "hadolint check ."}), "exec", Decision("always"), "s1")
    finally:
        set_added([])
    app = Host(book)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#approvals-table", DataTable)
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert rows["hadolint"].startswith("not in effect: not on thau's list of programs safe to allow by name"), rows
        assert rows["git status"] == (program_location("git") or "nowhere on PATH")


async def test_an_approval_of_sed_is_in_effect_for_the_scripts_that_only_print(tmp_path):
    """sed is approvable by name only when its whole script prints, deletes or substitutes: the
    screen marked its approval "not in effect" though it covered the next `sed -n 5,9p f`."""
    book = filled_book(tmp_path / "approvals.json")
    assert book.remember(ToolCall("run_shell", {"command": "sed -n 1,5p f"}), "exec", Decision("session"), "s1")
    assert book.decide(ToolCall("run_shell", {"command": "sed -n 5,9p f"}), "exec", "s1") == "auto"
    app = Host(book)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#approvals-table", DataTable)
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert rows["sed"] == (program_location("sed") or "nowhere on PATH"), rows
