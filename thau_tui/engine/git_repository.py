"""Which git repository a command in the chat's shell would read, and whether a tool could
have written it: git runs code from a repository's config (core.fsmonitor, core.pager, a
filter or diff driver), so an approval of git holds only where that config is the user's."""

from __future__ import annotations

import os
from pathlib import Path


def git_repository_risk(folder: str | None, workspace: Path | None, own_git_trusted: bool = True) -> str | None:
    """Why git, run in the shell's `folder`, may read a repository a tool could have written
    (its config runs code: core.fsmonitor, core.pager, a filter or diff driver); None when
    the repository it finds is the workspace's own (the sandbox keeps its .git read-only) or
    one outside the workspace (read-only there). `folder` None: the shell has not started,
    so it will start in the workspace; "?" plus why no repository can be trusted (where the
    shell is cannot be told, or tools may write .git).
    `own_git_trusted` False: the workspace's .git is not the one there when the chat began
    (a tool may have made it before the sandbox could keep it read-only)."""
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


def git_identity(workspace: Path) -> tuple[int, int] | None:
    """Which .git the workspace has (device and inode), None when it has none."""
    try:
        info = os.lstat(workspace / ".git")
    except OSError:
        return None
    return (info.st_dev, info.st_ino)
