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
        # past launchers and git's global options (read-through review)
        ("sudo -u bob rm -r x", "rm -r deletes folders and everything in them"),
        ("find . -name '*.o' | xargs rm", "rm deletes files"),
        ("git -C sub clean -fdx", "git clean deletes the files git does not track"),
        ("git --git-dir .git reset --hard", "git reset throws away uncommitted changes"),
        ("grm -rf src", "rm -r deletes folders and everything in them"),  # Homebrew's coreutils
        ("git restore notes.txt", "git restore throws away uncommitted changes"),
        ("git branch -d old", "git branch -d deletes a branch (a merged one)"),
    ],
)
def test_what_a_command_destroys_is_said(command, said):
    assert destroys_in(command) == said


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "echo hi >> notes.txt",
        "ls > /dev/null",
        "git clean -n",
        "git clean -nfd",
        "git status",
        "git rm --cached a",
        "git rm -n a",
        "cat a",
        # what only looks destructive (read-through review)
        "git restore --staged a.py",
        "git reset --keep HEAD~1",
        "fdisk -l",
        "parted -l",
        "sfdisk --list",
        "sudo echo hi",
    ],
)
def test_what_destroys_nothing_says_nothing(command):
    assert destroys_in(command) is None


def test_only_the_worst_ask_every_time():
    assert destroys("rm", ["notes.txt"]) == ("rm deletes files", False)  # a warning only
    assert destroys("/bin/rm", ["-r", "build"]) == ("rm -r deletes folders and everything in them", True)
    assert destroys("git", ["branch", "-vD", "old"]) == ("git branch deletes or overwrites a branch", True)
    assert destroys("git", ["branch", "-d", "old"]) == ("git branch -d deletes a branch (a merged one)", False)
