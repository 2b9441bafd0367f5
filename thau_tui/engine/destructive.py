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

_DISKS = re.compile(r"^(?:mkfs(?:\..+)?|mke2fs|mkswap|wipefs|fdisk|sfdisk|gdisk|sgdisk|parted|blkdiscard)$")
# git subcommands that throw work away, each with the arguments that make it do so (None: always)
_GIT: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "reset": (("--hard", "--merge", "--keep"), "throws away uncommitted changes"),
    "clean": (("-f", "--force"), "deletes the files git does not track"),
    "checkout": (("--", ".", "-f", "--force"), "throws away uncommitted changes"),
    "restore": (None, "throws away uncommitted changes"),
    "stash": (("drop", "clear"), "deletes stashed changes"),
    "branch": (("-D", "--delete", "-d"), "deletes a branch"),
    "rm": (None, "deletes tracked files"),
}


def destroys(program: str, arguments: list[str]) -> tuple[str, bool] | None:
    """What `program arguments` destroys, and whether it asks every time; None: nothing."""
    name = program.rsplit("/", 1)[-1].lower()
    short = {c for a in arguments if a.startswith("-") and not a.startswith("--") for c in a[1:]}
    long = {a.split("=", 1)[0] for a in arguments if a.startswith("--")}
    if name == "rm":
        if short & {"r", "R"} or "--recursive" in long:
            return "rm -r deletes folders and everything in them", True
        return "rm deletes files", False
    if name in ("rmdir", "unlink"):
        return f"{name} deletes", False
    if name == "shred":
        return "shred destroys the files' contents", True
    if name == "truncate":
        return "truncate cuts files short", True
    if name == "dd" and any(a.startswith("of=") for a in arguments):
        return "dd overwrites the file or disk of= names", True
    if name == "find" and "-delete" in arguments:
        return "find -delete deletes what it finds", True
    if _DISKS.match(name):
        return f"{name} formats or repartitions a disk", True
    if name == "git":
        subcommand = next((a for a in arguments if not a.startswith("-")), "")
        rule = _GIT.get(subcommand)
        if rule is not None:
            needed, what = rule
            rest = arguments[arguments.index(subcommand) + 1 :]
            if subcommand == "rm" and "--cached" in rest:
                return None  # only stops tracking them
            if needed is None or any(_given(option, rest) for option in needed):
                return f"git {subcommand} {what}", True
    return None


def _given(option: str, arguments: list[str]) -> bool:
    """`option` among `arguments`: `-f` inside a cluster (`-fdx`) too, `--force=...` too."""
    if len(option) == 2 and option[0] == "-" and option[1] != "-":
        return any(a.startswith("-") and not a.startswith("--") and option[1] in a[1:] for a in arguments)
    return any(a == option or a.split("=", 1)[0] == option for a in arguments)


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
        said = _walk(tree)
        if said is not None:
            return said
    return None


def _walk(node: Any) -> str | None:
    kind = getattr(node, "kind", None)
    if kind == "command":
        words = [p.word for p in node.parts if getattr(p, "kind", None) == "word"]
        if words:
            found = destroys(words[0], words[1:])
            if found is not None:
                return found[0]
        for part in node.parts:
            if getattr(part, "kind", None) == "redirect" and part.type in (">", ">|"):
                target = getattr(part.output, "word", None)
                if isinstance(target, str) and target not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
                    return f"> overwrites {target}"
    for attribute in ("parts", "list"):
        for child in getattr(node, attribute, None) or []:
            said = _walk(child)
            if said is not None:
                return said
    inner = getattr(node, "command", None)
    return _walk(inner) if inner is not None and hasattr(inner, "kind") else None
