"""The folders git runs hooks from when a repository's config moves them out of .git.

`git config core.hooksPath .husky/_` (husky's setup) makes git run `.husky/_/pre-commit`,
which runs the user's `.husky/pre-commit`: files in the work tree, where the sandboxed shell
and write_file could write them, and a host `git commit` then ran them (attacker review,
2026-12-07 night). So the sandbox keeps these folders read-only and write_file refuses them,
like .git itself.

The value is read as git reads it, by the host git (`git config --file`, includes followed,
`~` expanded), never run in the repository itself: from the repository's own config (a
worktree's common one, and its config.worktree), and from the user's global and the system
config, whose relative value names a folder in every repository. Answers are kept while the
config files they came from are unchanged (git_folders runs after each shell command).
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..host_programs import host_program
from .workspace import OTHER_VCS_FOLDERS, gitdir_of, path_under, scrubbed_environment

# (git, file or scope, the files' stats) -> the values found
_READ: dict[tuple[str, str, tuple[tuple[int, int, int], ...]], list[str]] = {}
_USER_CONFIGS = ("~/.gitconfig", "${XDG_CONFIG_HOME}/git/config", "~/.config/git/config", "/etc/gitconfig")


def _stats(files: Iterable[str]) -> tuple[tuple[int, int, int], ...]:
    found = []
    for name in files:
        try:
            st = os.stat(os.path.expanduser(os.path.expandvars(name)))
            found.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            found.append((0, 0, 0))
    return tuple(found)


def _values(git: str, where: list[str], files: list[str]) -> list[str]:
    """Every core.hooksPath value git reads from `where` (`--file PATH`, `--global`, `--system`).
    Every one, not only the last git uses: keeping one folder too many costs nothing."""
    key = (git, " ".join(where), _stats(files))
    if key not in _READ:
        argv = [git, "config", *where, "--includes", "--path", "--get-all", "core.hooksPath"]
        from thau_tui.paths import start_folder

        try:  # started in a folder of thau's own, so no repository is found around it
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=10, cwd=start_folder(), env=scrubbed_environment()
            )
            _READ[key] = [line for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            return []
    return _READ[key]


@functools.lru_cache(maxsize=8)
def _host_git(workspace: str, _path: str) -> str | None:
    """The host's git (never one in the workspace), looked up once per workspace and PATH:
    the lookup was most of the 0.8 ms this check added to every shell command."""
    return host_program("git", Path(workspace))


def _enclosing_repository(workspace: Path) -> Path | None:
    """The .git of the repository the workspace lies in (thau started in repo/tools): its
    hooks folder may be inside the workspace though its .git is not."""
    for folder in workspace.parents:
        if os.path.lexists(folder / ".git"):
            return folder / ".git"
    return None


def _places(repository: Path) -> tuple[Path, list[Path]] | None:
    """Where a relative hooks path starts (the work tree, or a bare repository itself) and
    the config files of `repository` (a .git folder or file, or a bare repository's folder)."""
    if repository.name in OTHER_VCS_FOLDERS:
        return None
    if repository.name == ".git":
        base = repository.parent
        gitdir = repository if repository.is_dir() and not repository.is_symlink() else gitdir_of(repository)
    else:
        base = gitdir = repository
    if gitdir is None:
        return None
    common = gitdir
    with contextlib.suppress(OSError, ValueError):  # a worktree's config is in the main repository's
        named = (gitdir / "commondir").read_text(errors="replace").strip()
        common = (gitdir / named).resolve() if named else gitdir
    return base, [common / "config", gitdir / "config.worktree"]


def hooks_folders(workspace: Path, repositories: Iterable[Path]) -> list[tuple[Path, str]]:
    """The hooks folders inside `workspace` (resolved) that core.hooksPath names for each of
    `repositories` (sandbox.git_folders) and for the repository around the workspace, each
    with the words a refusal shows; existing or not. Husky's `.husky/_` brings `.husky`:
    its scripts there run the user's `.husky/<hook>`. Never the workspace itself or a folder
    above it, which cannot be kept read-only."""
    git = _host_git(str(workspace), os.environ.get("PATH", ""))
    if git is None:
        return []
    user = [*_values(git, ["--global"], list(_USER_CONFIGS)), *_values(git, ["--system"], list(_USER_CONFIGS))]
    # An absolute global value holds for every repository on the machine, with none in the workspace too.
    named = [(workspace, [value for value in user if os.path.isabs(os.path.expanduser(value))])]
    around = _enclosing_repository(workspace)
    for repository in [*repositories, *([around] if around is not None else [])]:
        if (places := _places(repository)) is not None:
            base, configs = places
            own = [v for c in configs if c.is_file() for v in _values(git, ["--file", str(c)], [str(c)])]
            named += [(base, own), (base, user)]
    found: dict[Path, str] = {}
    for base, values in named:
        for value in values:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                folder = Path(os.path.normpath(base / os.path.expanduser(value)))
                kept = [folder, folder.parent] if folder.name == "_" else [folder]
                for path in {*kept, *(path.resolve() for path in kept)}:
                    if path_under(path, workspace) and path != workspace:
                        shown = path.relative_to(workspace).as_posix()
                        found.setdefault(path, f"the git hooks folder '{shown}' (core.hooksPath = {value})")
    return sorted(found.items())


def hooks_reason(workspace: Path, path: Path, repositories: Iterable[Path]) -> str | None:
    """Which hooks folder (hooks_folders) holds `path`, in words; None when none does. Compared
    casefolded too: macOS's disk opens .HUSKY/pre-commit as .husky/pre-commit."""
    folded = Path(str(path).casefold())
    for folder, what in hooks_folders(workspace, repositories):
        if path_under(path, folder) or path_under(folded, Path(str(folder).casefold())):
            return what
    return None
