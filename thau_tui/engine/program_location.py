"""Where a program an approval names is found, and whether an approval of it can hold there:
PATH entries in the workspace or in a temporary folder, and programs found in the workspace
(shell_command.py re-exports these for approvals.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..tools.sandbox import RUN_KEPT, interpreter_folders

# What bash runs without looking at PATH (`compgen -b`); a function or alias of the same name
# needs a state change first, which shell_state_change catches.
BASH_BUILTINS = frozenset(
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare "
    "dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill "
    "let local logout mapfile popd printf pushd pwd read readarray readonly return set shift shopt "
    "source suspend test times trap true type typeset ulimit umask unalias unset wait".split()
)


def is_git(program: str) -> bool:
    """`git`, `/usr/bin/git`, or git with its subcommand as approvals name it (`git status`)."""
    return program.split(" ", 1)[0].rsplit("/", 1)[-1].lower() == "git"


def path_in_workspace(workspace: Path, search_path: str | None = None) -> str | None:
    """Why an approved program may run a file a tool wrote without naming it: PATH looks in
    a folder of the workspace that tools can write (a project's .venv/bin, node_modules/.bin),
    and programs run others from PATH by name (tar runs gzip, man its pager, git git-NAME).
    The Python thau runs on is read-only to the tools, so its bin folder does not count."""
    path = os.environ.get("PATH", os.defpath) if search_path is None else search_path
    root = workspace.resolve()
    kept = interpreter_folders()
    for entry in path.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            # an empty entry is the shell's current folder (PATH=$EXTRA:$PATH with EXTRA unset),
            # a relative one is found from it: both can be in the workspace
            return (
                f"PATH holds {entry or 'an empty entry'}, which is the shell's current folder or found from it, "
                "where a tool can put a program that an approved one runs by name"
            )
        folder = Path(os.path.realpath(entry))
        if (folder == root or root in folder.parents) and not any(k == folder or k in folder.parents for k in kept):
            return (
                f"PATH looks in {entry}, inside the workspace, where a tool can put a program that an "
                "approved one runs by name (tar runs gzip, git git-NAME)"
            )
    return None


def program_location(program: str, search_path: str | None = None, workspace: Path | None = None) -> str:
    """Where bash in a fresh shell finds `program` now: "builtin", the file's path on PATH,
    "" when it is nowhere, or "?" plus why no approval by name may hold: where it runs
    cannot be told from here (a relative PATH entry depends on the shell's folder), or it
    is a file in the workspace (a project's .venv/bin), which a tool can rewrite. A program
    named by its path is itself."""
    if is_git(program):
        program = program.split(" ", 1)[0]  # `git status`: where git is
    if "/" in program:
        return program
    if program in BASH_BUILTINS:
        return "builtin"
    path = os.environ.get("PATH", os.defpath) if search_path is None else search_path
    for entry in path.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            return f"?PATH has the relative entry {entry or '(empty)'!r}"
        if _in_a_temporary_folder(entry, workspace):
            return f"?PATH looks in {entry}, a temporary folder tools can write in, before finding it"
        candidate = os.path.join(entry, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            if workspace is not None and _in_the_workspace(candidate, workspace):
                return f"?{candidate} is in the workspace, where a tool can rewrite it"
            return candidate
    return ""


def _in_the_workspace(path: str, workspace: Path) -> bool:
    """True when `path`, or the file a link there points to, is in the workspace."""
    root = workspace.resolve()
    for each in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
        if each == root or root in each.parents:
            return True
    return False


def _in_a_temporary_folder(entry: str, workspace: Path | None) -> bool:
    """True for a PATH entry in /tmp, /var/tmp, /dev/shm, /run or the temp folder (the
    sandbox's are its own and writable, so what is there cannot be seen from here: NixOS's
    /run/wrappers/bin let a planted `ls` run under an approval), unless it is in the
    workspace, where this Python lives or what the sandbox keeps of /run (bound back as they are)."""
    folder = Path(os.path.realpath(entry))
    roots = {Path(os.path.realpath(p)) for p in ("/tmp", "/var/tmp", "/dev/shm", "/run", tempfile.gettempdir())}
    if not any(folder == root or root in folder.parents for root in roots):
        return False
    kept = [Path(os.path.realpath(p)) for p in RUN_KEPT if os.path.isdir(p)]  # bound read-only only when there
    seen = [*interpreter_folders(), *kept, *([workspace.resolve()] if workspace is not None else [])]
    return not any(folder == own or own in folder.parents for own in seen)
