"""What a repository's git config makes run on the host that lies in the work tree: the hooks
folders core.hooksPath moves out of .git, and the config files the repository includes.

`git config core.hooksPath .husky/_` (husky's setup) makes git run `.husky/_/pre-commit`,
which runs the user's `.husky/pre-commit`: files in the work tree, where the sandboxed shell
and write_file could write them, and a host `git commit` then ran them (attacker review,
2026-12-07 night). `include.path = ../.gitconfig` makes a work-tree file as strong as
.git/config: the shell appended `core.fsmonitor = "touch PWNED; false"` to it and the user's
next `git status` ran it (diff review, 2026-12-07 night). So the sandbox keeps both
read-only and write_file refuses them, like .git itself.

The config is read by the host git for each repository itself (`git --git-dir=R config
--list --show-origin --includes`), so `includeIf "gitdir:…"` in the user's global config and
`includeIf "onbranch:…"` in the repository's count as they do for git there; read from a
folder of thau's own they never matched (diff review, 2026-12-07 night). Answers are kept
while every file they came from is unchanged (git_folders runs after each shell command).
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..host_programs import host_program
from .workspace import OTHER_VCS_FOLDERS, gitdir_of, path_under, scrubbed_environment, small_file

# One config entry: the file it came from (None: not a file), its key (lower case), its value.
Entry = tuple[str | None, str, str]
# (git, where) -> (the files watched, their stats, the entries read)
_READ: dict[tuple[str, tuple[str, ...]], tuple[list[str], list[tuple[int, int, int]], list[Entry] | None]] = {}
# The answers _named last read (kept, so their ids stay theirs) and what it found in them
_NAMED: dict[tuple[int, ...], tuple[list[tuple[Path, list[Entry], bool]], list[tuple[Path, str]]]] = {}
_USER_CONFIGS = ("~/.gitconfig", "${XDG_CONFIG_HOME}/git/config", "~/.config/git/config", "/etc/gitconfig")
# What decides which files the host git reads as the user's config, passed on as it is.
_CONFIG_PLACES = ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")


def _stat(name: str, seen: dict[str, tuple[int, int, int]] | None = None) -> tuple[int, int, int]:
    """The file's inode, size and change time; (0, 0, 0) when it is not there. `seen`: those
    taken in this check already (the user's config is watched for every repository)."""
    if seen is not None:
        if name not in seen:
            seen[name] = _stat(name)
        return seen[name]
    try:
        st = os.stat(os.path.expanduser(os.path.expandvars(name)))
        return (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        return (0, 0, 0)


def _included(entries: list[Entry]) -> list[str]:
    """The files include.path and includeIf.<condition>.path name, matched or not: relative
    ones start at the folder of the file that names them, as git reads them."""
    found = []
    for origin, key, value in entries:
        if origin is not None and key.startswith(("include.", "includeif.")) and key.endswith(".path") and value:
            found.append(os.path.join(os.path.dirname(origin), os.path.expanduser(value)))
    return found


_EMPTY: list[Entry] = []  # one list for every answer with nothing in it: _named keys its memo on ids
# A config read takes milliseconds; one that has not ended by then waits on a file that never
# ends (an include that is a FIFO: every shell command took 20 s, for good: second diff review).
GIT_CONFIG_TIMEOUT_S = 2.0


def _entries(
    git: str, where: list[str], watched: list[str], seen: dict[str, tuple[int, int, int]], includes: bool = True
) -> list[Entry] | None:
    """Every entry git reads for `where` (`--git-dir R`, `--file PATH`, `--global`, `--system`),
    includes followed unless told not to; None when git did not answer in time. Kept while the
    files in `watched` and every file the answer came from or names as an include are
    unchanged: a changed included file is read again, a stalled read is not tried again."""
    # `--git-dir R` goes before `config`, a scope after it
    repository, scope = (where, []) if where[:1] == ["--git-dir"] else ([], where)
    key = (git, (*where, "--includes" if includes else "--no-includes"))
    kept = _READ.get(key)
    if kept is not None and [_stat(name, seen) for name in kept[0]] == kept[1]:
        return kept[2]
    before = {name: _stat(name) for name in [*watched, *(kept[0] if kept is not None else [])]}
    # Safe in a hostile repository: `git config` only reads config. It never refreshes the
    # index (core.fsmonitor), runs no hook, no alias (a builtin is never an alias) and no
    # pager (--no-pager, and its output is not a terminal); the environment is the tools'
    # scrubbed one, with safe.bareRepository=explicit. The system config counts: it is read.
    env = scrubbed_environment({name: os.environ[name] for name in _CONFIG_PLACES if name in os.environ})
    from thau_tui.paths import start_folder

    follow = ["--includes"] if includes else ["--no-includes"]
    try:  # started in a folder of thau's own: no repository but the one named is found
        done = subprocess.run(  # stdin: never thau's (an include of /dev/stdin read the user's keys)
            [git, "--no-pager", *repository, "config", *scope, *follow, "--show-origin", "--list", "-z"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_CONFIG_TIMEOUT_S,
            cwd=start_folder(),
            env=env,
        )
    except subprocess.TimeoutExpired:
        _READ[key] = (list(before), list(before.values()), None)
        return None
    except (OSError, subprocess.SubprocessError):
        return []
    entries: list[Entry] = []
    parts = done.stdout.decode("utf-8", "surrogateescape").split("\0") if done.returncode == 0 else []
    for origin, item in zip(parts[0::2], parts[1::2], strict=False):
        name, _, value = item.partition("\n")
        entries.append((origin[len("file:") :] if origin.startswith("file:") else None, name.lower(), value))
    files = list(dict.fromkeys([*watched, *(o for o, _k, _v in entries if o is not None), *_included(entries)]))
    _READ[key] = (files, [before[name] if name in before else _stat(name) for name in files], entries)
    return entries


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


def _places(repository: Path) -> tuple[Path, Path, list[Path]] | None:
    """Where a relative hooks path starts (the work tree, or a bare repository itself), the
    repository's own folder, and the files whose change changes its config (HEAD: onbranch)
    for `repository` (a .git folder or file, or a bare repository's folder)."""
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
    with contextlib.suppress(OSError, ValueError, RuntimeError):  # a worktree's config is in the main repository's
        named = (small_file(gitdir / "commondir") or "").strip()  # never blocking: a FIFO hung thau (diff review)
        common = (gitdir / named).resolve() if named else gitdir
    return base, gitdir, [common / "config", gitdir / "config.worktree", gitdir / "HEAD"]


def _entries_of(
    git: str, repository: Path, seen: dict[str, tuple[int, int, int]]
) -> tuple[Path, list[list[Entry]]] | None:
    """Where a relative hooks path starts, and the config entries of `repository` as the host
    git reads them there; read file by file (its own config, no includeIf) when git refuses
    the repository."""
    if (places := _places(repository)) is None:
        return None
    base, gitdir, files = places
    entries = _entries(git, ["--git-dir", str(gitdir)], [*map(str, files), *_USER_CONFIGS], seen)
    if entries:
        return base, [entries]
    # Refused, or stalled on an include: its own files, includes followed only if that was not why
    own = [_entries(git, ["--file", str(c)], [str(c)], seen, includes=entries is not None) for c in files[:2]]
    return base, [each or _EMPTY for each in own]


def _named(answers: list[tuple[Path, list[Entry], bool]]) -> list[tuple[Path, str]]:
    """The hooks folders (their core.hooksPath value) and the config files (`""`) the answers
    name, not resolved; each answer's entries with its base, absolute values only when told.
    Kept while the answers are the same lists: this loop was most of the check's cost."""
    key = tuple(id(entries) for _base, entries, _absolute in answers)
    last = _NAMED.get(key)
    if last is not None and all(a[1] is b[1] and a[::2] == b[::2] for a, b in zip(last[0], answers, strict=True)):
        return last[1]
    found: dict[Path, str] = {}
    for base, entries, absolute in answers:
        for origin, key_, value in entries:
            if key_ == "core.hookspath" and (not absolute or os.path.isabs(os.path.expanduser(value))):
                with contextlib.suppress(ValueError):
                    found.setdefault(Path(os.path.normpath(base / os.path.expanduser(value))), value)
            if origin is not None and not absolute:
                found.setdefault(Path(origin), "")
        for name in _included(entries) if not absolute else []:
            found.setdefault(Path(name), "")
    _NAMED.clear()  # one workspace's answers at a time
    _NAMED[key] = (answers, list(found.items()))
    return _NAMED[key][1]


def hooks_folders(workspace: Path, repositories: Iterable[Path]) -> list[tuple[Path, str]]:
    """The hooks folders inside `workspace` (resolved) that core.hooksPath names for each of
    `repositories` (sandbox.git_folders) and for the repository around the workspace, and the
    config files there those repositories include, each with the words a refusal shows;
    existing or not. Husky's `.husky/_` brings `.husky`: its scripts there run the user's
    `.husky/<hook>`. Never the workspace itself or a folder above it, which cannot be kept
    read-only, nor a file inside a repository's folder, which is kept already."""
    git = _host_git(str(workspace), os.environ.get("PATH", ""))
    if git is None:
        return []
    repositories = list(repositories)
    seen: dict[str, tuple[int, int, int]] = {}
    user = [_entries(git, [scope], list(_USER_CONFIGS), seen) or _EMPTY for scope in ("--global", "--system")]
    # An absolute global value holds for every repository on the machine, with none in the workspace too.
    answers = [(workspace, entries, True) for entries in user]
    around = _enclosing_repository(workspace)
    for repository in [*repositories, *([around] if around is not None else [])]:
        if (read := _entries_of(git, repository, seen)) is not None:
            answers += [(read[0], entries, False) for entries in [*read[1], *user]]
    kept = {p.resolve() for p in repositories}
    found: dict[Path, str] = {}
    for named, value in _named(answers):
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            if not value:
                _config_file(workspace, named, kept, found)
                continue
            both = [named, named.parent] if named.name == "_" else [named]
            for path in {*both, *(path.resolve() for path in both)}:  # resolved each time: a link made since
                if path_under(path, workspace) and path != workspace:
                    found.setdefault(
                        path,
                        f"inside the git hooks folder '{path.relative_to(workspace).as_posix()}' (core.hooksPath = "
                        f"{value}); git runs the hooks there as code outside the sandbox",
                    )
    return sorted(found.items())


def _config_file(workspace: Path, named: Path, kept: set[Path], found: dict[Path, str]) -> None:
    """Add `named`, a file git reads config from, when it lies in the workspace outside the
    folders kept already (`kept`: git_folders, which lists the file itself once found): what it
    says runs on the host like .git/config (core.fsmonitor)."""
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        path = named.resolve()
        inside = path_under(path, workspace) and path != workspace and ".git" not in path.relative_to(workspace).parts
        if inside and not any(path_under(path, folder) and path != folder for folder in kept):
            found.setdefault(
                path,
                f"the git config file '{path.relative_to(workspace).as_posix()}', which a repository's config "
                "includes; git runs the programs its settings name (core.fsmonitor, core.hooksPath) as code "
                "outside the sandbox",
            )


def hooks_reason(workspace: Path, path: Path, repositories: Iterable[Path]) -> str | None:
    """Which hooks folder or included config file (hooks_folders) holds `path`, in words; None
    when none does. Compared casefolded too: macOS's disk opens .HUSKY/pre-commit as .husky/pre-commit."""
    folded = Path(str(path).casefold())
    for folder, what in hooks_folders(workspace, repositories):
        if path_under(path, folder) or path_under(folded, Path(str(folder).casefold())):
            return what
    return None


# Each workspace's submodule .git paths, with the index they were read from.
_SUBMODULES: dict[Path, tuple[tuple[int, int, int], list[Path]]] = {}


def _repository_above(root: Path) -> tuple[Path, Path] | None:
    """(the work tree, its git folder) of the repository `root` is in or is: its own `.git`
    folder, the folder a `.git` file names (a linked worktree, a submodule's checkout), or
    those of a folder above it (thau started in repo/tools)."""
    for top in (root, *root.parents):
        dot_git = top / ".git"
        if os.path.isdir(dot_git) and not os.path.islink(dot_git):
            return top, dot_git
        if os.path.isfile(dot_git) and not os.path.islink(dot_git):
            named = gitdir_of(dot_git)
            return (top, named) if named is not None else None
    return None


def submodule_gits(workspace: Path) -> list[Path] | None:
    """Where the submodules of the workspace's repository keep their `.git`, inside the
    workspace: git enters each one that has one at `git status`, however deep (the repository
    scan stops at three levels), and runs its config (attacker and diff reviews of 2026-12-08).
    Read from the index by the host git (never one in the workspace; no stdin, 2 s, the
    tools' scrubbed environment, core.fsmonitor off: `ls-files` runs no hook, filter or
    pager), kept while the index is unchanged. [] without a repository; None when its index
    cannot be read."""
    root = workspace.resolve()
    found = _repository_above(root)
    if found is None:
        return []
    top, git_dir = found
    try:
        status = os.stat(git_dir / "index")
    except OSError:
        return []  # no index yet: nothing committed, no submodule
    if not stat.S_ISREG(status.st_mode):  # a FIFO held the host git its whole 2 s, at every command
        return None
    stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
    if root in _SUBMODULES and _SUBMODULES[root][0] == stamp:
        return _SUBMODULES[root][1]
    git = _host_git(str(root), os.environ.get("PATH", ""))
    answer: list[Path] | None = None
    if git is not None:
        from thau_tui.paths import start_folder

        command = [git, "--no-pager", "--git-dir", str(git_dir), "-c", "core.fsmonitor=false", "ls-files", "-sz"]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=GIT_CONFIG_TIMEOUT_S,
                cwd=start_folder(),
                env=scrubbed_environment(),
            )
            if done.returncode == 0:
                answer = []
                for line in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
                    mode, _, path = line.partition("\t")
                    here = top / path
                    if mode.startswith("160000 ") and (here == root or root in here.parents):
                        answer.append(here / ".git")
    if answer is not None:  # an unread index is read again next time: the sandbox keeps what it names
        _SUBMODULES[root] = (stamp, answer)
    return answer
