"""ApprovalBook: risk defaults, config policy, remembered approvals, the approvals file."""

from __future__ import annotations

import json
import threading

import pytest

from thau_tui.engine.approvals import (
    ApprovalBook,
    RememberedApproval,
    describe_session_scope,
    program_of,
    programs_of,
)
from thau_tui.engine.events import Decision
from thau_tui.tools.base import ToolCall


def shell(command: str) -> ToolCall:
    return ToolCall("run_shell", {"command": command})


def write(path: str = "a.txt") -> ToolCall:
    return ToolCall("write_file", {"path": path, "content": "x"})


def test_defaults_follow_risk():
    book = ApprovalBook(None)
    assert book.decide(ToolCall("read_file", {"path": "a"}), "read", "s1") == "auto"
    assert book.decide(write(), "write", "s1") == "ask"
    assert book.decide(shell("ls"), "exec", "s1") == "ask"
    assert book.auto_approves(ToolCall("list_directory", {}), "read", None)
    assert not book.auto_approves(write(), "write", None)


def test_policy_wins_over_risk_and_remembered(tmp_path):
    book = ApprovalBook(tmp_path / "approvals.json", {"read_file": "ask", "run_python": "auto"})
    assert book.decide(ToolCall("read_file", {"path": "a"}), "read", "s1") == "ask"
    assert book.decide(ToolCall("run_python", {"code": "1"}), "exec", "s1") == "auto"
    book.remember(write(), "write", Decision("always"), "s1")
    assert book.decide(write(), "write", "s1") == "auto"
    book.set_policy({"write_file": "deny"})
    assert book.decide(write(), "write", "s1") == "deny"  # a remembered "always" never beats a deny
    assert book.decide(ToolCall("read_file", {"path": "a"}), "read", "s1") == "auto"  # old policy gone


def test_a_star_policy_covers_every_tool_not_named(tmp_path):
    """A config.yaml thau cannot read falls back to {"*": "ask"}: every tool asks, a
    remembered approval included, and the tools the file names keep their own entry."""
    book = ApprovalBook(tmp_path / "approvals.json", {"*": "ask", "run_shell": "deny"})
    book.set_policy({})
    book.remember(shell("ls"), "exec", Decision("always"), "s1")
    book.set_policy({"*": "ask", "run_shell": "deny", "list_files": "auto"})
    assert book.decide(ToolCall("read_file", {"path": "a"}), "read", "s1") == "ask"
    assert book.decide(ToolCall("word_count", {}), "read", "s1") == "ask"  # a plugin's tool too
    assert book.decide(shell("ls"), "exec", "s1") == "deny"
    assert book.decide(ToolCall("list_files", {}), "read", "s1") == "auto"
    assert "asks before every write_file call" in book.why_not_held(write(), "s1", None)
    book.set_policy({"*": "auto"})  # "*" asks or denies, never approves every tool (review)
    assert book.decide(shell("ls"), "exec", "s1") == "auto"  # remembered "always" above
    assert book.decide(write(), "write", "s1") == "ask"
    assert book.decide(shell("python3 -c 'import os'"), "exec", "s1") == "ask"
    assert book.decide(ToolCall("some_mcp_tool", {}), "exec", "s1") == "ask"
    assert book.why_asking_again(shell("ls"), "s1") is None


def test_bad_policy_value_names_the_tool():
    with pytest.raises(ValueError, match="run_shell: 'yes'"):
        ApprovalBook(None, {"run_shell": "yes"})


def test_session_scope_covers_only_that_session():
    book = ApprovalBook(None)
    added = book.remember(write(), "write", Decision("session"), "s1")
    assert [(e.scope, e.tool, e.program, e.session_id) for e in added] == [("session", "write_file", None, "s1")]
    assert book.decide(write("other.txt"), "write", "s1") == "auto"
    assert book.decide(write(), "write", "s2") == "ask"
    assert book.decide(write(), "write", None) == "ask"


def test_once_deny_cancel_are_not_remembered(tmp_path):
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    for kind in ("once", "deny", "cancel"):
        assert book.remember(write(), "write", Decision(kind), "s1") == []
    assert book.entries() == []
    assert not path.exists()


def test_always_persists_across_instances(tmp_path):
    path = tmp_path / "cfg" / "approvals.json"
    book = ApprovalBook(path)
    book.remember(shell("git status"), "exec", Decision("always"), "s1")
    book.remember(write(), "write", Decision("always"), "s1")
    data = json.loads(path.read_text())
    assert {(row["tool"], row["program"]) for row in data["approvals"]} == {
        ("run_shell", "git status"),
        ("write_file", None),
    }
    again = ApprovalBook(path)
    assert again.load_error is None
    assert again.decide(shell("git status --short"), "exec", "another-session") == "auto"
    assert again.decide(shell("git log -1"), "exec", "another-session") == "ask"  # another subcommand
    assert again.decide(shell("rm -rf build"), "exec", "another-session") == "ask"
    assert again.decide(write(), "write", None) == "auto"
    assert {e.scope for e in again.entries()} == {"always"}
    assert not list(path.parent.glob(".approvals-*"))  # the atomic write left no temp file


def test_revoke_session_and_always(tmp_path):
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    book.remember(shell("ls"), "exec", Decision("session"), "s1")
    book.remember(shell("du -sh ."), "exec", Decision("always"), "s1")
    entries = {e.program: e for e in book.entries()}
    assert set(entries) == {"ls", "du"}
    book.revoke(entries["ls"])
    assert book.decide(shell("ls"), "exec", "s1") == "ask"
    book.revoke(entries["du"])
    assert book.decide(shell("du -sh ."), "exec", "s1") == "ask"
    assert book.entries() == []
    assert ApprovalBook(path).entries() == []
    book.revoke(RememberedApproval("always", "nothing"))  # revoking twice is harmless


def test_program_of():
    assert program_of("ls -la /tmp") == "ls"
    assert program_of("FOO=1 BAR='a b' python3 -m http.server") == "python3"
    assert program_of("  git   commit -m 'x && y'") == "git commit"
    assert program_of("") == ""
    assert program_of("ls | wc -l") == "ls"


def test_programs_of_splits_chains_and_respects_quotes():
    assert programs_of("ls && rm x") == ["ls", "rm"]
    assert programs_of("ls && rm -rf x") is None  # destroys a folder: asks every time
    assert programs_of("cat a | grep b || echo none; wc -l a &") is None  # a background job runs beside what follows
    assert programs_of("cat a | grep b || echo none; wc\nwc -l a") == [
        "cat",
        "grep",
        "echo",
        "wc",
        "wc",
    ]
    assert programs_of("echo 'a; rm -rf /' | wc -c") == ["echo", "wc"]
    assert programs_of("ls > /dev/null 2>&1") == ["ls"]  # a redirection target is not a program
    assert programs_of("ls > rm 2>&1") is None  # writing a file is more than `ls` shows
    for opaque in ("ls $(rm x)", "ls `rm x`", "(rm x)", "if true; then rm x; fi", "$CMD x", "echo 'open"):
        assert programs_of(opaque) is None, opaque


def test_chained_command_needs_every_program_approved():
    book = ApprovalBook(None)
    book.remember(shell("ls -l"), "exec", Decision("session"), "s1")
    assert book.decide(shell("ls /tmp"), "exec", "s1") == "auto"
    assert book.decide(shell("ls && rm -rf x"), "exec", "s1") == "ask"
    assert book.decide(shell("ls; rm -rf x"), "exec", "s1") == "ask"
    assert book.decide(shell("ls | sh"), "exec", "s1") == "ask"
    assert book.decide(shell("ls $(rm -rf x)"), "exec", "s1") == "ask"
    book.remember(shell("grep x f | wc -l"), "exec", Decision("session"), "s1")
    assert book.decide(shell("ls | grep a | wc -l"), "exec", "s1") == "auto"
    assert describe_session_scope(shell("ls | grep a | ls")) == "run_shell: ls, grep"


def test_opaque_shell_command_is_not_remembered():
    book = ApprovalBook(None)
    assert book.remember(shell("echo $(date)"), "exec", Decision("session"), "s1") == []
    assert book.decide(shell("echo $(date)"), "exec", "s1") == "ask"
    assert "this call only" in describe_session_scope(shell("echo $(date)"))


def test_broken_file_starts_empty_and_is_kept_until_next_remember(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text("{not json")
    book = ApprovalBook(path)
    assert book.load_error is not None
    assert str(path) in book.load_error and "delete the file" in book.load_error
    assert book.entries() == []
    assert book.decide(write(), "write", "s1") == "ask"
    book.remember(write(), "write", Decision("session"), "s1")  # session: the file stays as it is
    assert path.read_text() == "{not json"
    book.remember(write(), "write", Decision("always"), "s1")
    assert json.loads(path.read_text())["approvals"][0]["tool"] == "write_file"
    assert (tmp_path / "approvals.json.broken").read_text() == "{not json"
    assert book.load_error is None


def test_a_second_broken_file_never_overwrites_the_first_copy(tmp_path):
    """Each save after a load error moved the file to approvals.json.broken: a second
    breakage overwrote the first copy, and the 40 approvals kept by hand in it were lost."""
    path = tmp_path / "approvals.json"
    for number, text in enumerate(["{first broken", "{second broken", "[third"]):
        path.write_text(text)
        book = ApprovalBook(path)
        assert book.load_error is not None
        book.remember(ToolCall(f"tool_{number}", {}), "write", Decision("always"), "s1")
        assert [e.tool for e in ApprovalBook(path).entries()] == [f"tool_{number}"]
    kept = {p.name: p.read_text() for p in tmp_path.glob("approvals.json.broken*")}
    assert kept == {
        "approvals.json.broken": "{first broken",
        "approvals.json.broken.2": "{second broken",
        "approvals.json.broken.3": "[third",
    }


def test_wrong_shape_file_is_a_load_error(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text(json.dumps({"approvals": [{"program": "ls"}]}))
    book = ApprovalBook(path)
    assert "tool" in book.load_error
    assert book.entries() == []


def test_two_windows_share_the_file_and_a_revoke_holds_in_both(tmp_path):
    """Window B wrote its whole in-memory list on each save: after the user revoked an
    "always" approval in window A, B's next "always" approval wrote it back, and B kept
    approving it until restarted. Each book now reads the file again when it changed."""
    path = tmp_path / "approvals.json"
    a, b = ApprovalBook(path), ApprovalBook(path)
    a.remember(write(), "write", Decision("always"), "s1")
    assert b.decide(write(), "write", "s2") == "auto"  # B sees A's approval without a restart
    (entry,) = a.entries()
    a.revoke(entry)
    assert b.decide(write(), "write", "s2") == "ask"  # before: still auto in B
    b.remember(ToolCall("generate_image", {"prompt": "x"}), "exec", Decision("always"), "s2")
    tools = [row["tool"] for row in json.loads(path.read_text())["approvals"]]
    assert tools == ["generate_image"]  # before: write_file came back
    assert [e.tool for e in ApprovalBook(path).entries()] == ["generate_image"]
    assert a.decide(ToolCall("generate_image", {"prompt": "y"}), "exec", "s1") == "auto"


def test_two_windows_writing_at_once_do_not_undo_each_other(tmp_path):
    """Each window read the file again before its change, but nothing kept the other window
    from writing between that read and its own write: window A, adding an approval, wrote
    back write_file that window B had revoked meanwhile. A change now holds the file's lock
    from the read to the write, so B's revoke waits for A's write and then reads it."""
    path = tmp_path / "approvals.json"
    a, b = ApprovalBook(path), ApprovalBook(path)
    a.remember(write(), "write", Decision("always"), "s1")
    (old,) = b.entries()
    a_read, go_on = threading.Event(), threading.Event()
    save = a._save

    def slow_save() -> None:  # A has read the file and is about to write it
        a_read.set()
        go_on.wait(5)
        save()

    a._save = slow_save  # type: ignore[method-assign]
    adding = threading.Thread(
        target=a.remember, args=(ToolCall("generate_image", {"prompt": "x"}), "exec", Decision("always"), "s1")
    )
    adding.start()
    assert a_read.wait(5)
    revoking = threading.Thread(target=b.revoke, args=(old,))
    revoking.start()
    revoking.join(0.3)  # before: B wrote at once
    go_on.set()
    adding.join(5)
    revoking.join(5)
    tools = sorted(row["tool"] for row in json.loads(path.read_text())["approvals"])
    assert tools == ["generate_image"]  # before: ["generate_image", "write_file"]: the revoke was lost
    assert b.decide(write(), "write", "s2") == "ask"


def test_a_file_with_a_huge_or_deep_value_is_a_load_error_not_a_crash(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text('{"approvals": [{"tool": "x", "created": 1' + "0" * 400 + "}]}")
    book = ApprovalBook(path)  # before: OverflowError, and thau did not start
    assert book.load_error is not None and book.entries() == []
    path.write_text('{"approvals": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert ApprovalBook(path).load_error is not None


def test_a_lock_held_too_long_by_another_process_delays_the_write_but_does_not_stop_it(tmp_path, monkeypatch):
    import fcntl
    import os
    import time

    from thau_tui import paths

    monkeypatch.setattr(paths, "LOCK_WAIT_S", 0.2)
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    holder = os.open(tmp_path / "approvals.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # a stuck thau window
    try:
        started = time.monotonic()
        book.remember(write(), "write", Decision("always"), "s1")
        waited = time.monotonic() - started
    finally:
        os.close(holder)
    assert 0.2 <= waited < 3
    assert [row["tool"] for row in json.loads(path.read_text())["approvals"]] == ["write_file"]


def test_an_approval_is_saved_even_when_its_lock_file_cannot_be_opened(tmp_path):
    """From the read-through: the lock was opened before the approval was recorded, so a lock
    that could not be opened (a folder or a link in its place) lost the approval itself."""
    path = tmp_path / "approvals.json"
    (tmp_path / "approvals.json.lock").mkdir()
    book = ApprovalBook(path)
    book.remember(write(), "write", Decision("always"), "s1")
    assert [row["tool"] for row in json.loads(path.read_text())["approvals"]] == ["write_file"]


def test_a_call_that_runs_unasked_says_why(tmp_path):
    """An auto-approved write or command looked on its card like one the user had just
    allowed (UX walkthrough): the engine now says which approval let it run."""
    book = ApprovalBook(tmp_path / "approvals.json", {"edit_file": "auto", "read_file": "auto"})
    book.remember(shell("ls -la"), "exec", Decision("session"), "s1")
    book.remember(write(), "write", Decision("always"), "s1")
    assert book.allowed_by(shell("ls"), "exec") == "allowed for this chat"
    assert book.allowed_by(write("b.txt"), "write") == "always allowed"
    assert book.allowed_by(ToolCall("edit_file", {}), "write") == "tools.policy in config.yaml"
    assert book.allowed_by(ToolCall("read_file", {"path": "a"}), "read") is None  # reading needs no word


def test_a_shell_builtin_that_changes_the_shell_is_named_as_such():
    """`export FOO=bar` was said to 'run other code or write what its input names' (tools review)."""
    from thau_tui.engine.shell_command import analyse_shell_command

    for command, program in (("export FOO=bar", "export"), ("set -e", "set"), ("alias ll='ls -l'", "alias")):
        found = analyse_shell_command(command)
        assert found.programs is None and found.reason.startswith(f"{program} changes the shell"), found
    assert analyse_shell_command("eval ls").reason == "eval runs other code or writes what its input names"
