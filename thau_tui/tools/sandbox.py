"""The OS sandbox around commands: bubblewrap (Linux) or sandbox-exec (macOS) argv that
keeps the workspace writable and the rest read-only, hides what `workspace.hidden_paths`
names, keeps .git folders and a home folder's startup files read-only, and turns the
network off unless the config allows it. `sandbox_status` says what holds, in one line."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import stat
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from ..host_programs import host_program, workspace_copy
from . import kept
from .base import ToolError
from .git_hooks import hooks_folders, submodule_gits
from .sandbox_ipc import ipc_launcher
from .workspace import (
    OTHER_VCS_FOLDERS,
    gitdir_of,
    hidden_paths,
    home_entry_kept,
    home_in_workspace,
    home_kept_elsewhere,
    path_under,
    shell_settings,
    unusable_workspace,
)

if TYPE_CHECKING:
    from thau_tui.config import Config

log = logging.getLogger(__name__)
_probe_cache: dict[tuple[str, bool], tuple[bool, str]] = {}


def interpreter_folders() -> list[Path]:
    """Where this Python lives (venv and base install): run_python and run_tests need it."""
    folders = {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
        Path(os.path.realpath(sys.executable)).parent.parent,
    }
    return sorted({f.resolve() for f in folders if f.exists()})


def own_folders(config: Config | None = None) -> list[tuple[Path, str]]:
    """Folders whose files run or load inside thau itself, outside any sandbox, with what
    each is: the Python it runs on, its own package, its models folder (the adapter loads
    at every start) and its training runs (a checkpoint loads on resume). A source checkout
    keeps the last three in the checkout, which may be the workspace."""
    from thau_tui import paths

    runs = paths.runs_dir(config.train.runs_dir if config is not None else "train/runs")
    # The whole training folder, not only train/data: shipped recipes train on other folders
    # there (train/data-90min, ...), which a tool could make first (third attacker review).
    data = paths.train_data_dir().parent
    for made_by_thau in (runs, data):
        # Made now if missing: one a tool made first (train/runs is not in a fresh clone) would
        # be the tools' own, and `thau train --resume latest` took a run planted there.
        with contextlib.suppress(OSError):
            made_by_thau.mkdir(parents=True, exist_ok=True)
    found = [(folder, "the Python environment thau runs on") for folder in interpreter_folders()]
    found += [
        (Path(paths.__file__).resolve().parent, "thau's own code"),
        (paths.repo_models_dir(), "thau's models folder"),
        (runs, "thau's training runs"),
        (data, "thau's training data and scripts (the shipped recipes train on what is there)"),
    ]
    return [(folder.resolve(), what) for folder, what in found if folder.exists()]


# Folders the search for repositories below the workspace does not enter, how deep it
# looks (~/projects/app/.git from a home folder), and at most how many folders it reads.
_GIT_SCAN_SKIP = {"node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", "site-packages", ".cache"}
_GIT_SCAN_DEPTH = 3
_GIT_SCAN_FOLDERS = 4000


# The repositories each workspace's scans have found, for as long as thau runs: a later
# scan that runs out of folders (a tool can make thousands) keeps them read-only all the same.
_GIT_FOUND: dict[Path, set[Path]] = {}


def git_folders(workspace: Path) -> list[Path]:
    """The .git folders (or files, for worktrees and submodules) of the workspace and of the
    repositories up to three levels below it, and bare repositories found by their layout,
    read breadth first; links are not followed. Mercurial's and Jujutsu's folders
    (OTHER_VCS_FOLDERS) too: their config runs commands on the host as git's does.
    Every one an earlier scan of this workspace found stays in while it is there."""
    found: list[Path] = []
    root = Path(workspace).resolve()
    budget = _GIT_SCAN_FOLDERS
    pending = deque([(Path(workspace), 0)])
    while pending and budget > 0:
        folder, depth = pending.popleft()
        budget -= 1
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.name == ".git":
                    if not entry.is_symlink():
                        found.append(Path(entry.path))
                        # `gitdir: .repo/app.git`: the repository's own folder, elsewhere in the workspace
                        target = gitdir_of(Path(entry.path)) if entry.is_file(follow_symlinks=False) else None
                        if target is not None and target.is_dir() and root in target.parents:
                            found.append(target)
                elif entry.name in OTHER_VCS_FOLDERS and entry.is_dir(follow_symlinks=False):
                    found.append(Path(entry.path))  # .hg/hgrc's hooks run at the user's next hg command
                elif entry.is_dir(follow_symlinks=False) and _bare_repository(entry.path):
                    found.append(Path(entry.path))  # repos/app.git: git push there runs its hooks
                elif depth < _GIT_SCAN_DEPTH - 1 and entry.is_dir(follow_symlinks=False):
                    if entry.name not in _GIT_SCAN_SKIP:
                        pending.append((Path(entry.path), depth + 1))
            except OSError:
                continue
    if pending:
        log.warning("the search for repositories in %s stopped after %d folders", workspace, _GIT_SCAN_FOLDERS)
    # A hooks folder core.hooksPath moves into the work tree (.husky/_) runs at the user's next
    # commit like .git/hooks (attacker review, 2026-12-07 night): kept the same way once it exists.
    found += [folder for folder, _what in hooks_folders(root, found)]
    found += list(submodule_gits(root) or ())  # a submodule's .git deeper than the scan reads
    known = _GIT_FOUND.setdefault(root, set())
    known.update(found)
    return sorted(p for p in known if os.path.lexists(p) and not os.path.islink(p))


def _bare_repository(folder: str) -> bool:
    """A folder git takes for a repository's own by its layout (HEAD, objects/, refs/): a bare
    repository such as repos/app.git, whose hooks run at the user's next git push to it."""
    has = os.path.join
    return os.path.isfile(has(folder, "HEAD")) and all(os.path.isdir(has(folder, n)) for n in ("objects", "refs"))


def git_read_only(workspace: Path, config: Config | None) -> bool:
    from thau_tui.config import Config

    return not (config or Config()).tools.files.allow_git_writes


# What the sandbox keeps of /run: NixOS's system profile (its programs live there) and,
# with the network on, systemd-resolved's resolv.conf (/etc/resolv.conf often links to it).
RUN_KEPT = ("/run/current-system", "/run/wrappers")  # wrappers: first on NixOS's PATH (diff review)
RUN_KEPT_FOR_NETWORK = ("/run/systemd/resolve",)


# The size of the sandbox's /run and of each hidden folder's empty stand-in, in MB.
SMALL_TMPFS_MB = 16


def tmpfs(path: str, megabytes: int, sized: bool) -> list[str]:
    """bwrap's flags for a tmpfs at `path` of at most `megabytes` (`sized`: this bwrap can
    set one; not before 0.7, nor setuid, where bwrap refuses --size)."""
    return [*(["--size", str(megabytes << 20)] if sized else []), "--tmpfs", path]


@functools.lru_cache(maxsize=4)
def _bwrap_help(exe: str | None) -> str:
    """The --help of the bubblewrap at `exe` (found as every run finds it: never in a workspace;
    asking one planted there for its --help would have run it); "" for a setuid one, whose
    options thau does not use (it refuses --size, and runs as root before --disable-userns)."""
    if exe is None:
        return ""
    try:
        if os.stat(exe).st_mode & stat.S_ISUID:
            return ""
        done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


def _bwrap_sets_sizes(exe: str | None) -> bool:
    """Whether the bubblewrap at `exe` takes --size."""
    return "--size" in _bwrap_help(exe)


def _ipc_cap(exe: str | None, network: bool) -> str:
    """Why the sandbox's System V IPC cannot be capped here ("" when it can), tried once: the
    limits must show inside, and --disable-userns must keep a command from making a fresh IPC
    namespace with the kernel's defaults (`unshare -Ui`)."""
    key = ("ipc", network)
    if key not in _probe_cache:
        if not sys.executable:
            why = "thau's Python is not known"
        elif "--disable-userns" not in _bwrap_help(exe):
            why = "this bubblewrap has no --disable-userns (0.8 or later; not setuid)"
        else:
            flags = _bwrap_flags(Path.cwd().resolve(), network, probe=True, exe=exe, ipc_capped=True)
            argv = [*ipc_launcher(64, 256), str(exe), *flags, "cat", "/proc/sys/kernel/shmmax"]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                shown = done.stdout.strip()
                why = "" if shown == str(64 << 20) else done.stderr.strip() or f"shmmax {shown or 'unread'} inside"
            except (OSError, subprocess.SubprocessError) as exc:
                why = str(exc)
        _probe_cache[key] = (not why, why)
    return _probe_cache[key][1]


def _bwrap_flags(
    workspace: Path,
    network: bool,
    config: Config | None = None,
    *,
    probe: bool = False,
    writable: bool = True,
    chdir: str | None = None,
    exe: str | None = None,
    ipc_capped: bool = False,
) -> list[str]:
    """bubblewrap's flags for `workspace`; `exe` is the bwrap they are for (asked whether it
    sizes a tmpfs), found by the caller as every run finds it: never in a workspace.
    ipc_capped: bubblewrap starts in ipc_launcher's IPC namespace, as its user's root."""
    ws = str(workspace)
    # A tmpfs is RAM that no process's memory cap counts: without a size each took half the
    # host's memory (`cp /dev/zero /dev/shm/x` by a command allowed for the chat; sandbox
    # review). /tmp and /dev/shm hold at most what one process may allocate; /dev itself is
    # read-only (its device nodes still work).
    big = shell_settings(config).memory_mb
    sized = _bwrap_sets_sizes(exe)
    flags = [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        *tmpfs("/dev/shm", big, sized),
        "--remount-ro",
        "/dev",
        "--proc",
        "/proc",
        # bubblewrap leaves /proc/sys writable (its read-only remount is refused there), and real
        # root needs no capability to write most of it: kernel/core_pattern set to a workspace
        # script runs that script as root outside every namespace at the next crash.
        "--ro-bind",
        "/proc/sys",
        "/proc/sys",
        "--ro-bind-try",
        "/proc/sysrq-trigger",
        "/proc/sysrq-trigger",
        *tmpfs("/tmp", big, sized),
    ]
    # /run holds the host's sockets (the session and system buses, docker.sock, agents):
    # connecting to one needs no write access, so the read-only root would still let
    # sandboxed code reach them (systemd-run via the bus runs outside). Hide it, and bind
    # back only what commands need from it: NixOS's programs, and DNS when the network is on.
    run = Path("/run")
    if run.is_dir() and not run.is_symlink():
        flags += tmpfs("/run", SMALL_TMPFS_MB, sized)
        keep = RUN_KEPT + (RUN_KEPT_FOR_NETWORK if network else ())
        for kept in keep:
            if os.path.exists(kept):
                flags += ["--ro-bind", kept, kept]
    # A Python under /tmp or /run (a venv made there) vanished under a tmpfs: bind it back, read-only.
    for folder in interpreter_folders():
        if (path_under(folder, Path("/tmp")) or path_under(folder, run)) and not path_under(folder, workspace):
            flags += ["--ro-bind", str(folder), str(folder)]
    flags += ["--bind" if writable else "--ro-bind", ws, ws]  # after the tmpfs: a workspace under /tmp stays
    # The folders between the workspace and a hidden one, or a kept repository, made mount points,
    # which cannot be renamed: `mv .thau-home .old && mkdir -p .thau-home/config` (THAU_HOME in the
    # workspace) put the tool's tools.policy where thau reads its own, and `mv tools tools.old &&
    # mkdir tools && cp -a tools.old/. tools/` a writable copy of tools/.git in its place (attacker reviews).
    hidden = [] if probe else hidden_paths(workspace, config)
    repositories = git_folders(workspace) if not probe and git_read_only(workspace, config) else []
    above = {a for p in hidden + repositories for a in p.parents if path_under(a, workspace)}
    for folder in sorted(above - {workspace}, key=lambda a: len(a.parts)):
        flags += ["--bind-try" if writable else "--ro-bind-try", str(folder), str(folder)]
    # The Python thau runs on, when the workspace holds it (a project's .venv): read-only, or a
    # .pth file written there would run inside thau itself, outside the sandbox, at its next start.
    for folder, _what in own_folders(config):
        if folder != workspace and path_under(folder, workspace):
            flags += ["--ro-bind", str(folder), str(folder)]
    home = None if probe else home_in_workspace(workspace)
    if home is not None:
        # The home folder itself read-only (no new ~/.zshenv), its startup and settings entries
        # too; its other entries (Documents, projects) writable. A link stays a link: binding
        # its target would make a folder outside the workspace writable.
        flags += ["--ro-bind", str(home), str(home)]
        with contextlib.suppress(OSError):
            for entry in sorted(home.iterdir()):
                if writable and not home_entry_kept(entry.name) and not entry.is_symlink():
                    flags += ["--bind-try", str(entry), str(entry)]  # -try: gone since the listing
        for reached in home_kept_elsewhere(home):
            flags += ["--ro-bind-try", str(reached), str(reached)]
    for path in hidden:
        if path_under(path, Path("/tmp")) and not path_under(path, workspace):
            continue  # already gone under the tmpfs
        flags += tmpfs(str(path), SMALL_TMPFS_MB, sized) if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    # Their hooks and config run code outside, at the user's next git command there: the
    # workspace's own repository and the ones below it (projects in a home folder).
    for dot_git in repositories:
        flags += ["--ro-bind-try", str(dot_git), str(dot_git)]
    # Its own System V IPC too (--unshare-ipc, or the launcher's): shared memory segments no
    # memory cap counts outlived the sandbox on the host (192 MB under a 64 MB cap; attacker re-review).
    flags += ["--chdir", chdir or ws, "--unshare-pid", "--die-with-parent"]
    if ipc_capped:
        # The launcher's namespace, capped (sandbox memory review): inside, /proc/sys is read-only
        # and no new user namespace (so no fresh IPC one) can be made; the user's own ids shown,
        # not the launcher's root, whose capabilities bubblewrap would otherwise keep.
        flags += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        flags += ["--uid", str(os.getuid()), "--gid", str(os.getgid())]
    elif os.geteuid() == 0:
        # Real root keeps every capability in the sandbox unless told: `mount -o remount,rw /`
        # would undo the read-only root and uncover the hidden paths.
        flags += ["--unshare-ipc", "--cap-drop", "ALL"]
    else:
        # The kernel counts RLIMIT_NPROC per user namespace: the shell's process cap then
        # counts the sandbox's processes only, not every process of the user.
        flags += ["--unshare-ipc", "--unshare-user"]
    if not network:
        flags.append("--unshare-net")
    return flags


def _sandbox_program(name: str, config: Config | None, workspace: Path | None = None) -> str | None:
    """bwrap or sandbox-exec, never one found in a folder tools can write (host_programs)."""
    return host_program(name, workspace, config.tools.workspace if config is not None else None)


def _probe_bwrap(network: bool, config: Config | None = None) -> tuple[bool, str]:
    """Does bubblewrap work here with the flags thau uses? Probed once per process."""
    key = ("bwrap", network)
    exe = _sandbox_program("bwrap", config)
    if exe is None:
        planted = workspace_copy("bwrap", config.tools.workspace if config is not None else None)
        if planted is not None:
            return False, f"the only bubblewrap on PATH is {planted}, in the workspace, which tools can write; not run"
        return False, "bubblewrap not found — install it for isolation (apt-get install bubblewrap)"
    if key not in _probe_cache:
        try:
            done = subprocess.run(
                [exe, *_bwrap_flags(Path.cwd().resolve(), network, probe=True, exe=exe), "true"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            ok = done.returncode == 0
            why = "" if ok else (done.stderr.strip() or f"exit status {done.returncode}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, why = False, str(exc)
        _probe_cache[key] = (ok, "" if ok else f"bubblewrap is installed but does not work here: {why}")
    return _probe_cache[key]


def _seatbelt_quote(path: Path | str) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_case(name: str) -> str:
    """`git` as `[gG][iI][tT]`: a POSIX regex that matches the name in any case."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)


def _seatbelt_profile(
    workspace: Path, network: bool, config: Config | None = None, *, writable_workspace: bool = True
) -> str:
    """A sandbox-exec profile: writes only in the workspace and temp folders, credentials
    and thau's own folders unreadable, .git read-only, network off unless allowed."""
    writable = [*([str(workspace)] if writable_workspace else []), "/private/tmp", "/private/var/folders", "/dev"]
    allow = " ".join(f"(subpath {_seatbelt_quote(p)})" for p in writable)
    rules = ["(version 1)", "(allow default)", "(deny file-write*)", f"(allow file-write* {allow})"]
    hidden = hidden_paths(workspace, config)
    if hidden:
        rules.append(
            "(deny file-read* file-write* " + " ".join(f"(subpath {_seatbelt_quote(p)})" for p in hidden) + ")"
        )
    if git_read_only(workspace, config):  # every repository's .git below the workspace, even new ones
        # .hg and .jj too (OTHER_VCS_FOLDERS), in any case: macOS's disk opens .GIT/config as
        # .git/config, and the rule's regex has no case-insensitive flag (review of the diff)
        ws = _posix_regex_escape(str(workspace).rstrip("/"))
        names = "|".join(_any_case(name.lstrip(".")) for name in (".git", *OTHER_VCS_FOLDERS))
        rules.append(f'(deny file-write* (regex #"^{ws}/(.*/)?\\.({names})(/|$)"))')
        hooks = [_seatbelt_quote(path) for path, _ in hooks_folders(workspace, git_folders(workspace))]
        rules += [f"(deny file-write* {' '.join(f'(subpath {h})' for h in hooks)})"] if hooks else []  # made or not
    home = home_in_workspace(workspace)
    if home is not None:  # startup and settings files of the home folder, existing or not
        top = _posix_regex_escape(str(home))
        kept = [*(home / name for name in ("bin", "Library")), *home_kept_elsewhere(home)]
        # dot entries, new files at the top, bin and Library (any case), what links there reach
        rules.append(
            f'(deny file-write* (regex #"^{top}/\\.") (regex #"^{top}/[^/]*$") '
            f'(regex #"^{top}/([bB][iI][nN]|[lL][iI][bB][rR][aA][rR][yY])(/|$)") '
            + " ".join(f"(subpath {_seatbelt_quote(path)})" for path in kept)
            + ")"
        )
    if not network:
        rules.append("(deny network*)")
    return "".join(rules)


def sandbox_kind(config: Config | None) -> tuple[str, str]:
    """Which sandbox commands run in: ("bwrap" | "sandbox-exec" | "none", reason when none)."""
    settings = shell_settings(config)
    wanted = settings.sandbox
    if wanted == "none":
        return "none", "turned off in config (tools.shell.sandbox: none)"
    if wanted in ("auto", "bwrap") and sys.platform.startswith("linux"):
        ok, why = _probe_bwrap(settings.network, config)
        if ok:
            return "bwrap", ""
        if wanted == "bwrap":
            raise ToolError(f"tools.shell.sandbox is 'bwrap' but {why}; install bubblewrap or set sandbox: auto")
        return "none", why
    if wanted in ("auto", "sandbox-exec") and sys.platform == "darwin":
        if _sandbox_program("sandbox-exec", config):
            return "sandbox-exec", ""
        if wanted == "sandbox-exec":
            raise ToolError("tools.shell.sandbox is 'sandbox-exec' but it was not found; set sandbox: auto")
        return "none", "sandbox-exec not found"
    if wanted != "auto":
        raise ToolError(f"tools.shell.sandbox '{wanted}' is not available on {sys.platform}; set sandbox: auto")
    return "none", f"no sandbox available on {sys.platform}"


def _posix_regex_escape(text: str) -> str:
    """`text` matched literally in a POSIX regular expression (seatbelt's dialect; Python's
    re.escape also escapes '-' and ' ', which POSIX leaves undefined)."""
    return "".join("\\" + char if char in ".^$*+?()[]{}|\\" else char for char in text)


def sandbox_prefix(
    workspace: Path,
    config: Config | None,
    *,
    writable: bool = True,
    outside_workspace: bool = False,
    network: bool | None = None,
) -> list[str]:
    """The argv prefix that runs a command inside the sandbox ([] when there is none).
    A workspace of / is refused: binding it writable would undo the whole sandbox.
    writable=False: the workspace read-only too (a tool that runs without approval).
    outside_workspace: the command starts in the sandbox's own empty /tmp, not in the
    workspace (an MCP server: `python -m NAME` would import a NAME.py planted there; with
    sandbox-exec the caller picks the starting folder).
    network: None for tools.shell.network; False keeps it off whatever that says."""
    kind, _ = sandbox_kind(config)
    network = shell_settings(config).network if network is None else network
    workspace = Path(workspace).resolve()
    kept.remember(workspace, config)  # the kept folders' identities, before a tool's process can rename them
    if kind != "none" and (unusable := unusable_workspace(workspace)) is not None:
        raise ToolError(unusable)
    if kind == "bwrap":
        chdir = "/tmp" if outside_workspace else None  # a tmpfs of the sandbox's own
        exe = _sandbox_program("bwrap", config, workspace)
        if exe is None:
            raise ToolError("bubblewrap is no longer found outside the workspace; commands do not run without it")
        capped = not _ipc_cap(exe, network)
        flags = _bwrap_flags(workspace, network, config, writable=writable, chdir=chdir, exe=exe, ipc_capped=capped)
        settings = shell_settings(config)
        launcher = ipc_launcher(settings.memory_mb, settings.max_processes) if capped else []
        return [*launcher, exe, *flags, "--"]
    if kind == "sandbox-exec":
        exe = _sandbox_program("sandbox-exec", config, workspace)
        if exe is None:
            raise ToolError("sandbox-exec is no longer found outside the workspace; commands do not run without it")
        return [exe, "-p", _seatbelt_profile(workspace, network, config, writable_workspace=writable)]
    return []


def sandbox_status(config: Config | None = None) -> str:
    """One line for `thau doctor` and the status bar: which sandbox, what it allows."""
    try:
        kind, why = sandbox_kind(config)
    except ToolError as exc:
        return f"none: {exc}"
    settings = shell_settings(config)
    network = "network on" if settings.network else "network off"
    git = "" if not git_read_only(Path.cwd(), config) else ", .git read-only"
    workspace = Path((config.tools.workspace if config is not None else ".")).expanduser().resolve()
    if kind != "none" and (unusable := unusable_workspace(workspace)) is not None:
        return f"{kind}: commands refused: {unusable}"
    if home_in_workspace(workspace) is not None:
        git += ", your home folder's dot files, bin and top level read-only (the workspace holds it)"
    if kind == "bwrap":
        from .limits import process_cap_mechanism

        # What no process's cap counts, said where it is not capped (sandbox memory review).
        uncapped = _ipc_cap(_sandbox_program("bwrap", config), settings.network)
        ipc = f"System V IPC not capped ({uncapped})" if uncapped else f"System V IPC <= {settings.memory_mb} MB a kind"
        return (
            f"bubblewrap: workspace writable{git}, rest read-only, credentials and /run hidden, {network}; "
            f"{process_cap_mechanism(settings.max_processes)}, {ipc}, memory <= {settings.memory_mb} MB a process"
        )
    if kind == "sandbox-exec":
        return (
            f"sandbox-exec: workspace writable{git}, rest read-only, credentials hidden, {network}; "
            "no process or memory cap on macOS"
        )
    return f"none: {why}"
