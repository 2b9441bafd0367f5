"""What the file tools keep off, checked on what they opened rather than on the name checked.

resolve_in_workspace and write_file's checks read names. A process an approved command left
running in the sandbox can rename ordinary folders between that check and the open: with
`proj` (holding the .venv thau runs on) and `decoy` swapped in a loop, 'decoy/.venv/lib/...'
passed as the decoy and opened as thau's own environment (a .pth file there runs inside
thau at its next start), and a hidden 'app/.env' was read as 'decoy/.env' (attacker
review). No link is involved, so opening without following links does not help.

So each folder the walk opens below the workspace, and the file at its end, is compared by
identity (st_dev, st_ino) with the folders and files kept from the tools: identities taken
before any tool's process ran (`remember`, called by sandbox_prefix and by the first file
tool) and again at each call. A folder git takes for a repository's own (HEAD with objects/
and refs/, or with commondir) is known by what it holds, whatever it is called now.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .base import ToolError

if TYPE_CHECKING:
    from thau_tui.config import Config

Identity = tuple[int, int]
_FIRST: dict[tuple[str, bool], dict[Identity, str]] = {}  # (workspace, writing) -> identities
_LOCK = threading.Lock()


def _identities(workspace: Path, config: Config | None, writing: bool) -> dict[Identity, str]:
    """The kept folders' and files' identities now, each with what it is in words: hidden
    paths and thau's own config, data and cache folders; for writing also the folders whose
    files run inside thau (sandbox.own_folders: the Python it runs on, its code, models, runs)."""
    from .sandbox import own_folders
    from .workspace import hidden_folders

    named = list(hidden_folders(config, workspace))
    if writing:
        named += [
            (folder, f"{what} (it runs or loads inside thau itself, outside the sandbox)")
            for folder, what in own_folders(config)
        ]
    found: dict[Identity, str] = {}
    for path, what in named:
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.setdefault((st.st_dev, st.st_ino), what)
    return found


def remember(workspace: Path, config: Config | None) -> None:
    """Take the kept identities for `workspace` once, before a tool's process can rename things
    (Tool.run and sandbox_prefix call it first)."""
    workspace = Path(workspace).resolve()
    for writing in (False, True):
        key = (str(workspace), writing)
        with _LOCK:
            if key in _FIRST:
                continue
        found = _identities(workspace, config, writing)
        with _LOCK:
            _FIRST.setdefault(key, found)


class Kept:
    """The check open_folder_in_workspace and open_in_workspace run on each descriptor."""

    def __init__(self, identities: dict[Identity, str], git: bool) -> None:
        self.identities, self.git = identities, git

    @classmethod
    def here(cls, workspace: Path, config: Config | None, *, writing: bool, git: bool = False) -> Kept:
        """For one call (or one search): the identities taken first and those taken now."""
        remember(workspace, config)
        now = _identities(workspace, config, writing)
        with _LOCK:
            first = _FIRST[(str(Path(workspace).resolve()), writing)]
        return cls({**now, **first}, git)

    def check(self, fd: int, rest: tuple[str, ...], shown: str, *, below: bool = True) -> None:
        """Refuse `fd` (opened below the workspace unless `below` is False: the workspace
        itself) when it is kept, or, writing, a repository's own folder; `rest` holds the names
        still to open or write in it."""
        st = os.fstat(fd)
        what = self.identities.get((st.st_dev, st.st_ino)) if below else None
        if what is None and self.git and stat.S_ISDIR(st.st_mode) and _git_layout(fd, rest):
            what = "a git repository's own folder (git runs its hooks and config as code outside the sandbox)"
        if what is not None:
            raise ToolError(
                f"'{shown}' leads into {what.removeprefix('in ')}; a folder on its way was renamed since the path was "
                "checked, or is the kept folder under another name. The tools neither read nor write there"
            )


def _git_layout(fd: int, rest: tuple[str, ...]) -> bool:
    """Whether the folder `fd` is, or would be once rest[0] is written in it, a folder git
    takes for a repository's own (files.py's _git_dir_with, on what was opened)."""

    def has(name: str, kind: int) -> bool:
        try:
            return stat.S_IFMT(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode) == kind
        except OSError:
            return False

    following, last = (rest[0] if rest else None), len(rest) == 1
    head = has("HEAD", stat.S_IFREG) or (last and following == "HEAD")
    objects = has("objects", stat.S_IFDIR) or (following == "objects" and not last)
    refs = has("refs", stat.S_IFDIR) or (following == "refs" and not last)
    common = has("commondir", stat.S_IFREG) or (last and following == "commondir")
    return head and (objects and refs or common)
