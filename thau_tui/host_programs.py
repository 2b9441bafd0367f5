"""Programs thau itself runs outside the sandbox: bubblewrap and sandbox-exec (the sandbox
itself), lsof, the clipboard tools, the file openers, an MCP server's command.

Each is looked up on PATH without the entries a tool could have put a program in: a
relative or empty entry (the current folder: `PATH=$EXTRA:$PATH` with EXTRA unset), and a
folder inside the workspace (a project's activated .venv/bin, node_modules/.bin), unless it
is the Python thau runs on, which the sandbox keeps read-only. A `bwrap` committed to a
cloned repository, or written to .venv/bin by an approved and sandboxed run, ran as the
"sandbox" at thau's next start, outside it (attacker review, 2026-12-06).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .paths import python_folders


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _workspaces(workspaces: tuple[Path | str | None, ...]) -> list[Path]:
    roots = [Path.cwd()]
    roots += [Path(w).expanduser() for w in workspaces if w is not None and str(w) != ""]
    found = []
    for root in roots:
        try:
            resolved = root.resolve()
        except (OSError, RuntimeError):
            continue
        if resolved != Path(resolved.anchor):  # a workspace of / runs no tool (unusable_workspace)
            found.append(resolved)
    return found


def _home_kept(place: Path, roots: list[Path]) -> bool:
    """A folder below the home folder where every workspace that holds it holds the home
    folder too: the sandbox keeps each PATH folder there read-only, and the home folder's
    dot-folders (tools/workspace.home_kept_elsewhere: ~/.local/bin, pyenv's shims). Not a
    folder of a project workspace below the home folder (started in ~ with tools.workspace
    ~/proj, ~/proj/.venv/bin is the project's, writable: final review)."""
    try:
        home = Path.home().resolve()
    except (OSError, RuntimeError, KeyError):
        return False
    holding = [root for root in roots if _inside(place, [root])]
    return place != home and home in place.parents and all(root == home or root in home.parents for root in holding)


def host_program(name: str, *workspaces: Path | str | None) -> str | None:
    """`name` found on PATH outside the folders tools can write (the current folder and each
    of `workspaces`), or None. A name with a slash is taken as it is: the user named it."""
    if "/" in name:
        return name
    roots = _workspaces(workspaces)
    own = python_folders()
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        candidate = os.path.join(entry, name)
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        where = [Path(os.path.abspath(entry)), Path(os.path.realpath(candidate)).parent]
        if any(_inside(place, roots) and not _inside(place, own) and not _home_kept(place, roots) for place in where):
            continue
        return candidate
    return None


def workspace_copy(name: str, *workspaces: Path | str | None) -> str | None:
    """Where plain PATH lookup finds `name` when host_program skipped it: in the workspace
    or through a relative entry (for the message that says why it does not run)."""
    if "/" in name:
        return None
    found = shutil.which(name)
    return found if found is not None and found != host_program(name, *workspaces) else None
