"""Which git repository a command in the chat's shell would read, and whether a tool could
have written it: git runs code from a repository's config (core.fsmonitor, core.pager, a
filter or diff driver), so an approval of git holds only where that config is the user's."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..tools.shell_spawn import repository_ids


def git_repository_risk(
    folder: str | None, workspace: Path | None, own_git_trusted: bool = True, made: Sequence[Path] = ()
) -> str | None:
    """Why git, run in the shell's `folder`, may read a repository a tool could have written
    (its config runs code: core.fsmonitor, core.pager, a filter or diff driver); None when
    the repository it finds is the workspace's own (the sandbox keeps its .git read-only) or
    one outside the workspace (read-only there). `folder` None: the shell has not started,
    so it will start in the workspace; "?" plus why no repository can be trusted (where the
    shell is cannot be told, or tools may write .git).
    `own_git_trusted` False: the workspace's .git is not the one there when the chat began
    (a tool may have made it before the sandbox could keep it read-only). `made`: repositories
    in the workspace that were not there when the chat began: git enters a submodule's, and a
    tool wrote its config before thau could keep it read-only (attacker review of 2026-12-08:
    a `.git` made at a submodule's path ran its core.fsmonitor at an approved `git status`)."""
    if workspace is None:
        return None
    root = workspace.resolve()
    if folder is not None and folder.startswith("?"):
        return folder[1:]
    here = root if folder is None else Path(os.path.realpath(folder))
    if here != root and root not in here.parents:
        return f"the shell is in {folder}, outside the workspace, where git may read a repository a tool made"
    while here != root:
        if os.path.lexists(here / ".git") or looks_like_git_dir(here):
            return f"git would read the repository in {here}, inside the workspace, where a tool can write its config"
        here = here.parent
    if made:
        name = made[0].relative_to(root) if root in made[0].parents else made[0]
        return f"{name} is a repository made during this chat, whose config a tool could write (git enters submodules)"
    if not own_git_trusted and os.path.lexists(root / ".git"):
        return f"{root / '.git'} is not the one there when this chat began: a tool may have written its config"
    if not os.path.lexists(root / ".git") and looks_like_git_dir(root):
        return "the workspace itself looks like a bare repository (HEAD, objects/, refs/) whose config a tool can write"
    return None


def looks_like_git_dir(folder: Path) -> bool:
    """Whether git would take `folder` itself for a repository (a bare one: HEAD, objects/
    and refs/, or HEAD and a `commondir` file naming where they are), reading its config:
    git finds one that way too, not only by a .git."""
    if not os.path.lexists(folder / "HEAD"):
        return False
    return os.path.lexists(folder / "commondir") or ((folder / "objects").is_dir() and (folder / "refs").is_dir())


# Each workspace's submodule paths, with the state of the index they were read from.
_SUBMODULES: dict[Path, tuple[tuple[int, int, int], list[Path]]] = {}


def submodule_gits(root: Path) -> list[Path]:
    """Where the submodules of the workspace's own repository keep their `.git` (git enters each
    one that has it at an approved `git status`, however deep: the repository scan stops at
    three levels). Read from the index by the host git (no stdin, 2 s), kept while the index is
    unchanged; [] when there is none or it cannot be read."""
    try:
        status = os.stat(root / ".git" / "index")
    except OSError:
        return []
    stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
    if root in _SUBMODULES and _SUBMODULES[root][0] == stamp:
        return _SUBMODULES[root][1]
    command = ["git", "--git-dir", str(root / ".git"), "-c", "core.fsmonitor=false", "ls-files", "--stage", "-z"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=2, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        mode, _, path = line.partition("\t")
        if mode.startswith("160000 ") and path:
            found.append(root / path / ".git")
    _SUBMODULES[root] = (stamp, found)
    return found


def _repositories(root: Path, own_trusted: bool = True) -> dict[Path, tuple[int, int]]:
    """repository_ids, and the `.git` of each submodule the index names that has one (the host
    git reads the index only of a .git that is the one the chat began with: `own_trusted`)."""
    found = repository_ids(root)
    for path in submodule_gits(root) if own_trusted else ():
        if path not in found:
            try:
                status = os.lstat(path)
            except OSError:
                continue
            found[path] = (status.st_dev, status.st_ino)
    return found


class RepositoriesSeen:
    """The repositories of each workspace (`_repositories`) as the approvals first saw them,
    before any tool of this process ran there (every call is decided), for git_repository_risk."""

    def __init__(self) -> None:
        self._first: dict[Path, dict[Path, tuple[int, int]]] = {}

    def note(self, root: Path) -> None:
        """Remember `root`'s repositories the first time it is seen (a scan: ~0.1 s at most)."""
        if root not in self._first:
            self._first[root] = _repositories(root)

    def risk(self, folder: str | None, root: Path) -> str | None:
        """git_repository_risk for a git command run in `folder`, with what changed since."""
        self.note(root)
        first, own = self._first[root], root / ".git"
        try:
            status = os.lstat(own)
            own_trusted = (status.st_dev, status.st_ino) == first.get(own)
        except OSError:
            own_trusted = True  # no .git of its own: git looks above the workspace, read-only here
        now = _repositories(root, own_trusted)
        made = sorted(path for path, identity in now.items() if path != own and first.get(path) != identity)
        return git_repository_risk(folder, root, own_git_trusted=own_trusted, made=made)
