"""read_file, write_file, list_directory, search_code on a real temporary workspace."""

from __future__ import annotations

import os

import pytest

from thau_tui.tools.base import ToolContext, ToolError
from thau_tui.tools.file_search import search_code
from thau_tui.tools.files import list_directory, read_file, write_file
from thau_tui.tools.workspace import resolve_in_workspace


def test_write_read_append(ctx, workspace):
    made = write_file({"path": "notes/today.txt", "content": "one\n"}, ctx)
    assert made.output.startswith("created notes/today.txt") and made.data["created"]
    write_file({"path": "notes/today.txt", "content": "two\n", "mode": "append"}, ctx)
    assert read_file({"path": "notes/today.txt"}, ctx).output == "one\ntwo\n"
    again = write_file({"path": "notes/today.txt", "content": "fresh"}, ctx)
    assert again.output.startswith("overwrote") and (workspace / "notes/today.txt").read_text() == "fresh"


def test_an_append_starts_a_new_line_when_the_file_does_not_end_with_one(ctx, workspace):
    """The data set writes stated text exactly ('eggs', no newline added), so appending
    'bread' must not give 'eggsbread': the newline goes first, and only where it is missing."""
    write_file({"path": "shop.txt", "content": "eggs"}, ctx)
    added = write_file({"path": "shop.txt", "content": "bread", "mode": "append"}, ctx)
    assert (workspace / "shop.txt").read_text() == "eggs\nbread" and added.data["bytes"] == 10
    write_file({"path": "shop.txt", "content": "\nmilk", "mode": "append"}, ctx)  # brings its own newline
    (workspace / "ends.txt").write_text("one\n")
    write_file({"path": "ends.txt", "content": "two", "mode": "append"}, ctx)
    write_file({"path": "new.txt", "content": "first", "mode": "append"}, ctx)  # a new, empty file
    assert (workspace / "shop.txt").read_text() == "eggs\nbread\nmilk"
    assert (workspace / "ends.txt").read_text() == "one\ntwo"
    assert (workspace / "new.txt").read_text() == "first"


def test_read_reports_missing_folders_binary_and_long_files(ctx, workspace, config):
    with pytest.raises(ToolError, match="does not exist"):
        read_file({"path": "nope.txt"}, ctx)
    (workspace / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert "binary file (PNG image, 108 bytes)" in read_file({"path": "pic.png"}, ctx).output
    (workspace / "sub").mkdir()
    with pytest.raises(ToolError, match="is a folder; use list_directory"):
        read_file({"path": "sub"}, ctx)
    config.tools.shell.output_limit = 300
    (workspace / "long.txt").write_text("x" * 1000)
    long = read_file({"path": "long.txt"}, ctx)
    assert long.data["truncated"] and long.output.startswith("x" * 300)
    assert "showed the first 300 characters of 1000 bytes" in long.output


def test_list_directory_folders_first_with_sizes(ctx, workspace):
    (workspace / "b.txt").write_text("hello")
    (workspace / "a_dir").mkdir()
    out = list_directory({}, ctx).output.splitlines()
    assert out == [".: 2 entries", "a_dir/", "b.txt  (5 B)"]
    with pytest.raises(ToolError, match="is a file"):
        list_directory({"path": "b.txt"}, ctx)


def test_search_code_regex_literal_fallback_and_skips(ctx, workspace):
    (workspace / "app.py").write_text("def main():\n    return compute(1)\n")
    (workspace / "lib").mkdir()
    (workspace / "lib" / "calc.py").write_text("def compute(x):\n    return x * 2\n")
    for skipped in (".git", "node_modules", "env"):
        (workspace / skipped).mkdir()
        (workspace / skipped / "x.py").write_text("compute = 1\n")
    (workspace / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (workspace / "blob.bin").write_bytes(b"compute\0\0")
    found = search_code({"pattern": r"comp\w+\("}, ctx)
    assert found.output.splitlines() == [
        "2 match(es) in 2 file(s)",
        "app.py:2: return compute(1)",
        "lib/calc.py:1: def compute(x):",
    ]
    literal = search_code({"pattern": "compute(", "path": "lib"}, ctx)
    assert "not a valid regular expression" in literal.output
    assert "lib/calc.py:1: def compute(x):" in literal.output
    none = search_code({"pattern": "zebra"}, ctx)
    assert none.output.startswith("no matches for 'zebra'") and none.data["matches"] == 0


def test_search_code_caps_matches(ctx, workspace):
    (workspace / "many.txt").write_text("hit\n" * 500)
    result = search_code({"pattern": "hit"}, ctx)
    assert result.data["matches"] == 100
    assert result.output.splitlines()[-1].startswith("[showing the first 100 matches")


@pytest.mark.parametrize("path", ["../escape.txt", "sub/../../escape.txt", "/etc/passwd", "~/x.txt"])
def test_paths_outside_the_workspace_are_refused(ctx, workspace, path):
    (workspace / "sub").mkdir()
    with pytest.raises(ToolError, match="is outside the workspace .*; use a path inside it"):
        write_file({"path": path, "content": "x"}, ctx)
    with pytest.raises(ToolError, match="outside the workspace"):
        read_file({"path": path}, ctx)
    assert not (workspace.parent / "escape.txt").exists()


def test_symlinks_that_leave_the_workspace_are_refused(ctx, workspace, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    os.symlink(secret, workspace / "link.txt")
    os.symlink(tmp_path, workspace / "linkdir")
    with pytest.raises(ToolError, match="is a link to .*outside the workspace"):
        read_file({"path": "link.txt"}, ctx)
    with pytest.raises(ToolError, match="outside the workspace"):
        write_file({"path": "linkdir/new.txt", "content": "x"}, ctx)
    assert not (tmp_path / "new.txt").exists()
    with pytest.raises(ToolError, match="outside the workspace"):
        list_directory({"path": "linkdir"}, ctx)
    # a link that stays inside is fine
    (workspace / "real.txt").write_text("inside")
    os.symlink(workspace / "real.txt", workspace / "alias.txt")
    assert read_file({"path": "alias.txt"}, ctx).output == "inside"
    assert "secret" not in search_code({"pattern": "do not read"}, ctx).output


def test_resolve_in_workspace_accepts_absolute_paths_inside(workspace):
    inside = workspace / "a" / "b.txt"
    assert resolve_in_workspace(workspace, str(inside)) == inside.resolve()
    assert resolve_in_workspace(workspace, ".") == workspace.resolve()
    with pytest.raises(ToolError, match="the path is empty"):
        resolve_in_workspace(workspace, " ")


def test_write_file_refuses_a_folder(ctx, workspace):
    (workspace / "docs").mkdir()
    with pytest.raises(ToolError, match="is a folder"):
        write_file({"path": "docs", "content": "x"}, ctx)


def test_overwrite_of_a_longer_file_leaves_no_stale_tail(ctx, workspace):
    (workspace / "long.txt").write_text("a much longer first version\n" * 10)
    result = write_file({"path": "long.txt", "content": "short\n"}, ctx)
    assert result.output == "overwrote long.txt: wrote 6 characters (file is now 6 bytes)"
    assert (workspace / "long.txt").read_bytes() == b"short\n"
    appended = write_file({"path": "long.txt", "content": "ünï\n", "mode": "append"}, ctx)
    assert appended.data == {
        "path": str((workspace / "long.txt").resolve()),
        "bytes": 12,
        "mode": "append",
        "created": False,
    }
    assert (workspace / "long.txt").read_text() == "short\nünï\n"


def test_write_file_without_a_config_uses_the_defaults(workspace):
    bare = ToolContext(workspace=workspace)
    assert write_file({"path": "a.txt", "content": "x"}, bare).data["created"]
    with pytest.raises(ToolError, match="inside a .git folder"):
        write_file({"path": ".git/config", "content": "x"}, bare)
    with pytest.raises(ToolError, match="over the 10 MB cap"):
        write_file({"path": "big.txt", "content": "x" * (10 * 1024 * 1024 + 1)}, bare)


def test_a_path_ending_in_a_slash_is_no_file_to_write(ctx, workspace):
    """write_file('notes.txt/') made a file notes.txt (review): the path names a folder."""
    for path in ("notes.txt/", "notes.txt/.", "sub/notes.txt/.", "notes.txt/.."):
        with pytest.raises(ToolError, match="ends in a folder"):
            write_file({"path": path, "content": "x"}, ctx)
    assert not (workspace / "notes.txt").exists() and not (workspace / "sub").exists()


def test_a_lone_surrogate_in_a_path_is_a_clear_error_not_a_crash(workspace):
    with pytest.raises(ToolError, match="lone surrogate"):
        resolve_in_workspace(workspace, "notes\ud800.txt")


def test_a_listing_is_held_to_the_output_limit(ctx, workspace, config):
    """500 names of 200 characters came to 108,554 characters (the limit is 16,000; review)."""
    folder = workspace / "many"
    folder.mkdir()
    for i in range(600):
        (folder / f"{i:04d}{'n' * 200}").touch()
    listed = list_directory({"path": "many"}, ctx)
    assert len(listed.output) <= config.tools.shell.output_limit + 200
    assert listed.output.startswith("many: 600 entries") and "more entries not shown" in listed.output


def test_a_deleted_workspace_is_named_not_a_crash(tmp_path):
    """The workspace removed while thau ran: a new shell's call ended "run_shell crashed:
    FileNotFoundError" (reliability review). Every tool says what is wrong now."""
    from thau_tui.config import Config
    from thau_tui.tools import build_registry
    from thau_tui.tools.base import ToolContext

    workspace = tmp_path / "ws2"
    workspace.mkdir()
    context = ToolContext(workspace=workspace, config=Config())
    workspace.rmdir()
    registry = build_registry()
    for name, arguments in (("run_shell", {"command": "pwd"}), ("list_directory", {"path": "."})):
        result = registry.get(name).run(arguments, context)
        assert not result.ok and "crashed" not in result.output, result.output
        assert f"the workspace {workspace} no longer exists" in result.output, result.output
