"""What a shell command destroys, in a few words for its approval card: files deleted or
emptied, a disk formatted, git work thrown away.

The card warns with it (`destroys_in`). The worst of these also ask every time
(`destroys` says so): an approval of `rm -r build` or `git clean -n` for the session must
not run `rm -r src` or `git clean -fdx` unasked later. Plain `rm file` only warns.
"""

from __future__ import annotations

import re
from typing import Any

import bashlex

from .code_running import option_matches
from .shell_words import source_word

_DISKS = re.compile(r"^(?:mkfs(?:\..+)?|mke2fs|mkswap|wipefs|fdisk|sfdisk|gdisk|sgdisk|parted|blkdiscard)$")
_DISK_LISTING = ("-l", "--list", "-p", "--print", "-d", "--dump")  # fdisk -l, parted -l, sfdisk -d...
_GNU = ("rm", "rmdir", "unlink", "shred", "truncate", "dd")  # Homebrew's coreutils call them grm, gshred...
# git's global options that take a value (`git -C sub clean -fdx`)
_GIT_VALUE_OPTIONS = ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env")
# Programs that run the command after them (and their own options): the warning looks past them.
_LAUNCHERS = frozenset(
    {"sudo", "doas", "env", "nice", "nohup", "command", "exec", "time", "timeout", "xargs", "stdbuf", "ionice"}
    | {"setsid", "unbuffer", "builtin", "chrt", "taskset"}
)


def git_subcommand(arguments: list[str]) -> tuple[str, list[str]] | None:
    """git's subcommand among its `arguments` and the arguments after it, the values of its
    global options (`-C sub`, `-c k=v`) skipped; None when there is none."""
    at = 0
    while at < len(arguments):
        if not arguments[at].startswith("-"):
            return arguments[at], arguments[at + 1 :]
        at += 2 if arguments[at] in _GIT_VALUE_OPTIONS else 1
    return None


def destroys(program: str, arguments: list[str]) -> tuple[str, bool] | None:
    """What `program arguments` destroys, and whether it asks every time; None: nothing.
    Long options count in any abbreviation the program accepts (`rm --rec`, `git reset --ha`)."""
    name = program.rsplit("/", 1)[-1].lower()
    name = name[1:] if name[:1] == "g" and name[1:] in _GNU else name
    if name == "rm":
        if _any_given(("-r", "-R", "--recursive"), arguments):
            return "rm -r deletes folders and everything in them", True
        return "rm deletes files", False
    if name in ("rmdir", "unlink"):
        return f"{name} deletes {'folders' if name == 'rmdir' else 'a file'}", False
    if name == "shred":
        return "shred destroys the files' contents", True
    if name == "truncate":
        return "truncate cuts files short", True
    if name == "dd" and any(a.startswith("of=") for a in arguments):
        return "dd overwrites the file or disk of= names", True
    if name == "find" and "-delete" in arguments:
        return "find -delete deletes what it finds", True
    if name == "rsync" and _any_given(_RSYNC_DELETES, arguments):
        return "rsync deletes files (--delete, --remove-source-files)", True
    if _DISKS.match(name) and (name.startswith("mk") or not _any_given(_DISK_LISTING, arguments)):
        return f"{name} formats or repartitions a disk", True
    found = git_subcommand(arguments) if name == "git" else None
    return None if found is None else _git_destroys(*found)


_RSYNC_DELETES = (
    *("--delete", "--delete-before", "--delete-during", "--delete-after", "--delete-excluded"),
    *("--del", "--remove-source-files"),
)
_CHANGES_LOST = "throws away uncommitted changes"


def _git_destroys(subcommand: str, rest: list[str]) -> tuple[str, bool] | None:
    """git's subcommands that throw work away, each with the arguments that make them do so."""
    operands = [a for a in rest if not a.startswith("-")]
    force = _any_given(("-f", "--force"), rest)
    if subcommand == "reset" and _any_given(("--hard", "--merge"), rest):
        return f"git reset {_CHANGES_LOST}", True
    if subcommand == "clean" and not _any_given(("-n", "--dry-run"), rest):
        return "git clean deletes the files git does not track", True  # clean.requireForce may be off
    if subcommand == "checkout" and (force or operands or _any_given(("-B", "--ours", "--theirs", "-p"), rest)):
        if not (rest[:1] == ["-b"] and len(rest) in (2, 3)):  # `checkout -b new [start]` makes a branch
            return (
                "git checkout may throw away uncommitted changes in what it names (git switch changes branches)",
                True,
            )
    if subcommand == "switch" and (force or _any_given(("--discard-changes", "-C", "--force-create"), rest)):
        return f"git switch {_CHANGES_LOST}", True
    if subcommand == "restore" and (not _any_given(("-S", "--staged"), rest) or _any_given(("-W", "--worktree"), rest)):
        return f"git restore {_CHANGES_LOST}", True
    if subcommand == "stash" and ({"drop", "clear"} & set(operands)):
        return "git stash deletes stashed changes", True
    if subcommand == "branch" and (force or _any_given(("-D", "-M", "-C"), rest)):
        return "git branch deletes or overwrites a branch", True
    if subcommand == "branch" and _any_given(("-d", "--delete"), rest):
        return "git branch -d deletes a branch (a merged one)", False
    if subcommand == "push" and _any_given(("-f", "--force", "--force-with-lease", "--mirror", "--delete"), rest):
        return "git push --force overwrites or deletes the remote's history", True
    if subcommand == "rm" and not _any_given(("--cached", "-n", "--dry-run"), rest):
        return "git rm deletes tracked files", True
    if (subcommand, operands[:1]) in (("worktree", ["remove"]), ("worktree", ["prune"]), ("reflog", ["expire"])):
        return f"git {subcommand} {operands[0]} deletes what it names", True
    if (subcommand, operands[:1]) == ("reflog", ["delete"]):
        return "git reflog delete deletes what it names", True
    if subcommand == "update-ref" and _any_given(("-d",), rest):
        return "git update-ref -d deletes a ref", True
    if subcommand in ("read-tree", "checkout-index") and _any_given(("-u", "-f", "--force", "--reset"), rest):
        return f"git {subcommand} overwrites files in the work tree", True
    return None


def _any_given(options: tuple[str, ...], arguments: list[str]) -> bool:
    """One of `options` among `arguments`, in any form the program accepts (code_running's
    reading: `-f` in a cluster, `--forc` for --force: git and getopt take abbreviations)."""
    return any(option_matches(argument, option) for option in options for argument in arguments)


# When bashlex cannot read a command: a destroying program where a command starts.
_ANYWHERE = re.compile(
    r"(?:^|[;&|(`]|\$\(|\b(?:then|do|else|sudo|xargs|exec)\b)\s*"
    r"(rm|shred|truncate|wipefs|mkfs(?:\.\w+)?|dd\s+[^;&|]*\bof=)(?=\s|$)",
    re.MULTILINE,
)


def destroys_in(command: str) -> str | None:
    """What the first destroying part of a shell command destroys, for the card; a `>`
    that overwrites a file counts. None when nothing does (as far as a parser can tell)."""
    try:
        trees = bashlex.parse(command)
    except Exception:  # bashlex raises ParsingError, NotImplementedError, AttributeError...
        found = _ANYWHERE.search(command)
        return None if found is None else f"it may delete or overwrite files ({found.group(1).split()[0]})"
    for tree in trees:
        said = _walk(tree, command)
        if said is not None:
            return said
    return None


def _walk(node: Any, command: str) -> str | None:
    kind = getattr(node, "kind", None)
    if kind == "command":
        # as bash reads them (shell_words.py): `"r"'m' -rf x` is rm
        words = [source_word(p, command) or p.word for p in node.parts if getattr(p, "kind", None) == "word"]
        # past a launcher (`sudo -u bob rm -r x`, `xargs rm`), the first destroying word it runs
        launched = bool(words) and words[0].rsplit("/", 1)[-1] in _LAUNCHERS
        for at in range(len(words) if launched else min(1, len(words))):
            found = destroys(words[at], words[at + 1 :])
            if found is not None:
                return found[0]
        for part in node.parts:
            if getattr(part, "kind", None) == "redirect" and part.type in (">", ">|"):
                target = source_word(part.output, command) or getattr(part.output, "word", None)
                if isinstance(target, str) and target not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
                    return f"> overwrites {target}"
    for attribute in ("parts", "list"):
        for child in getattr(node, attribute, None) or []:
            said = _walk(child, command)
            if said is not None:
                return said
    inner = getattr(node, "command", None)
    return _walk(inner, command) if inner is not None and hasattr(inner, "kind") else None
