"""Which git repository a command in the chat's shell would read, and whether a tool could
have written it: git runs code from a repository's config (core.fsmonitor, core.pager, a
filter or diff driver), so an approval of git holds only where that config is the user's."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..tools.git_hooks import submodule_gits


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
    (a tool may have made it before the sandbox could keep it read-only). `made`: submodules'
    repositories in the workspace made since thau first saw it: git enters them, and a tool
    wrote their config before thau could keep them read-only (attacker review of 2026-12-08:
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
        return f"{name} is a submodule's repository made since thau started, whose config a tool could write"
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


def _repositories(root: Path) -> dict[Path, tuple[int, int]] | None:
    """The workspace's own .git and each submodule's that exists (git_hooks.submodule_gits),
    with their device and inode; None when the index cannot be read."""
    gits = submodule_gits(root)
    if gits is None:
        return None
    found = {}
    for path in [root / ".git", *gits]:
        try:
            status = os.lstat(path)
        except OSError:
            continue
        found[path] = (status.st_dev, status.st_ino)
    return found


class RepositoriesSeen:
    """The repositories git reads from the workspace (its own .git, its submodules') as the
    approvals first saw them, before any tool of this process ran there (every call is
    decided), for git_repository_risk. A repository made elsewhere in the workspace is not
    read by git run at the root (git enters only the index's submodules; an untracked nested
    repository's core.fsmonitor and core.pager did not run: diff review of 2026-12-08)."""

    def __init__(self) -> None:
        self._first: dict[Path, dict[Path, tuple[int, int]]] = {}

    def note(self, root: Path) -> None:
        """Remember `root`'s repositories the first time it is seen."""
        if root not in self._first:
            self._first[root] = _repositories(root) or {}

    def risk(self, folder: str | None, root: Path) -> str | None:
        """git_repository_risk for a git command run in `folder`, with what changed since."""
        self.note(root)
        first, own = self._first[root], root / ".git"
        try:
            status = os.lstat(own)
            if (status.st_dev, status.st_ino) != first.get(own):  # its index is a tool's to write
                return git_repository_risk(folder, root, own_git_trusted=False)
        except OSError:
            pass  # no .git of its own: the repository above it, if any (read-only here), names the submodules
        now = _repositories(root)
        if now is None:
            return f"thau could not read which submodules git would enter (the index of {own})"
        made = sorted(path for path, identity in now.items() if path != own and first.get(path) != identity)
        return git_repository_risk(folder, root, made=made)
