"""What a shell command destroys, as its approval card warns (engine/destructive.py)."""

from __future__ import annotations

import pytest

from thau_tui.engine.destructive import destroys, destroys_in


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("rm notes.txt", "rm deletes files"),
        ("rm -rf build", "rm -r deletes folders and everything in them"),
        ("ls && rm -R build", "rm -r deletes folders and everything in them"),
        ("if true; then rm -r x; fi", "rm -r deletes folders and everything in them"),
        ("echo hi > notes.txt", "> overwrites notes.txt"),
        ("git clean -fdx", "git clean deletes the files git does not track"),
        ("git reset --hard HEAD~1", "git reset throws away uncommitted changes"),
        ("git stash drop", "git stash deletes stashed changes"),
        ("find . -name '*.pyc' -delete", "find -delete deletes what it finds"),
        ("dd if=/dev/zero of=disk.img bs=1M count=1", "dd overwrites the file or disk of= names"),
        ("mkfs.ext4 disk.img", "mkfs.ext4 formats or repartitions a disk"),
        ("[[ -f x ]] && rm -rf x", "it may delete or overwrite files (rm)"),  # bashlex cannot read [[
    ],
)
def test_what_a_command_destroys_is_said(command, said):
    assert destroys_in(command) == said


@pytest.mark.parametrize(
    "command",
    ["ls -la", "echo hi >> notes.txt", "ls > /dev/null", "git clean -n", "git status", "git rm --cached a", "cat a"],
)
def test_what_destroys_nothing_says_nothing(command):
    assert destroys_in(command) is None


def test_only_the_worst_ask_every_time():
    assert destroys("rm", ["notes.txt"]) == ("rm deletes files", False)  # a warning only
    assert destroys("/bin/rm", ["-r", "build"]) == ("rm -r deletes folders and everything in them", True)
    assert destroys("git", ["branch", "-vD", "old"]) == ("git branch deletes a branch", True)
