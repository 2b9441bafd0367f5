"""What tools may touch: paths inside the workspace, and what they must keep off.

* `resolve_in_workspace` turns a path the model wrote into a real path inside
  the workspace, refusing `..`, absolute paths elsewhere and symlinks that leave.
  `open_folder_in_workspace` then opens that path's folder without following any
  link on the way, so a folder swapped for a link after the check (by a process the
  shell left running) cannot lead the open outside.
* `hidden_reason` says what hides a path from the tools (credentials, thau's own
  folders, a home folder's startup files when the workspace holds it); the sandbox
  around commands (`sandbox.py`) hides and keeps read-only the same.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .base import ToolError

if TYPE_CHECKING:
    from thau_tui.config import Config, ShellConfig

    from .kept import Kept

# The only environment variables a tool's process gets (plus tools.shell.env_passthrough):
# an allow-list, so DATABASE_URL, SSHPASS, GH_PAT and friends never reach it.
ENV_ALLOWED = (
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "TERM",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    "VIRTUAL_ENV",
    "TZ",
    "COLUMNS",
    "LINES",
)
ENV_ALLOWED_PREFIXES = ("LC_",)
_MAX_PATH_CHARS = 4096


ROOT_WORKSPACE = (
    "the workspace is / (the whole file system): the sandbox would leave everything writable "
    "and the host's /proc, /dev and /run in reach. Start thau in a project folder "
    "(cd ~/project && thau) or set tools.workspace"
)


def unusable_workspace(root: Path) -> str | None:
    """Why the tools cannot work in the (resolved) workspace `root`, or None: the whole file
    system, or a folder inside thau's own config or data folder, where the approvals,
    config.yaml, plugins and chats the tools must never rewrite live."""
    from thau_tui.paths import config_dir, data_dir

    if root == Path(root.anchor):
        return ROOT_WORKSPACE
    for folder, what in ((config_dir(), "config"), (data_dir(), "data")):
        with contextlib.suppress(OSError, RuntimeError):
            real = folder.resolve()
            if root == real or real in root.parents:
                return (
                    f"the workspace {root} is inside thau's own {what} folder ({real}), which holds its "
                    "approvals, config.yaml, plugins and chats. Start thau in a project folder "
                    "(cd ~/project && thau) or set tools.workspace"
                )
    return None


def resolve_in_workspace(workspace: Path | str, path: str | os.PathLike[str], config: Config | None = None) -> Path:
    """The real path of `path` (relative to the workspace) when it stays inside it.

    Raises ToolError with a plain message for `..` escapes, absolute paths
    elsewhere, symlinks whose target lies outside the workspace, and paths the
    sandbox hides (`hidden_reason`: credentials, thau's own folders) when the
    workspace holds them (a workspace that is the home folder).
    """
    root = Path(workspace).expanduser().resolve()
    if (unusable := unusable_workspace(root)) is not None:
        raise ToolError(unusable[0].upper() + unusable[1:] + "; the file tools are refused until then.")
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise ToolError("invalid path: give the path as text, e.g. 'notes.txt'")
    if not text.strip():
        raise ToolError("the path is empty; give a file or folder inside the workspace, e.g. 'notes.txt'")
    if "\0" in text:
        raise ToolError("invalid path: it contains a NUL byte; give a plain file name such as 'notes.txt'")
    text = as_listed(root, text)
    try:
        longest = max((len(part.encode("utf-8", "surrogateescape")) for part in Path(text).parts), default=0)
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte (\ud800)
        raise ToolError("invalid path: it holds a character that is not text (a lone surrogate)") from None
    if len(text) > _MAX_PATH_CHARS or longest > 255:
        raise ToolError(
            f"invalid path: it is too long (at most {_MAX_PATH_CHARS} characters, "
            "255 bytes per name); give a shorter path"
        )
    try:
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = root / candidate
        resolved = candidate.resolve()  # follows every symlink on the way
    except (OSError, ValueError, RuntimeError) as exc:  # a link loop, an odd name
        raise ToolError(f"invalid path '{text[:200]}': {exc}") from exc
    if resolved == root or root in resolved.parents:
        # As written too: ~/.config/nvim may link to a dotfiles folder outside .config.
        hidden = hidden_reason(resolved, config, root) or _home_entry_reason(Path(os.path.normpath(candidate)), root)
        if hidden is not None:
            raise ToolError(f"path '{text}' is {hidden}; the tools neither read nor write there")
        return resolved
    # Say *why* it is outside: a link is less obvious than '..'.
    lexical = Path(os.path.normpath(candidate))
    if lexical == root or root in lexical.parents:
        raise ToolError(f"path '{text}' is a link to {resolved}, outside the workspace {root}; use a path inside it")
    raise ToolError(f"path '{text}' is outside the workspace {root}; use a path inside it")


# The stand-ins the tools show for control characters in names (visible_text: ␉ for a tab).
_STAND_IN = re.compile("[\u2401-\u241f\u2421]")


def as_listed(root: Path, text: str) -> str:
    """A path as list_directory and search_code show it (`tab␉name.txt`), read back as the
    name it stands for when only that one exists: the model took the shown name and got
    "does not exist" (diff review of the stand-ins)."""
    if not _STAND_IN.search(text) or os.path.lexists(root / text):
        return text
    real = _STAND_IN.sub(lambda m: "\x7f" if m.group() == "\u2421" else chr(ord(m.group()) - 0x2400), text)
    return real if os.path.lexists(root / real) else text


_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_folder_in_workspace(
    workspace: Path, path: Path, *, make_folders: bool = False, kept: Kept | None = None
) -> tuple[int, str]:
    """A descriptor on the folder holding `path` and the name to open in it (with dir_fd).

    `path` is what resolve_in_workspace returned. Each folder below the workspace is
    opened from the one before with O_NOFOLLOW: a folder that became a link since the
    check fails with ELOOP instead of leading outside. `make_folders` creates missing
    ones on the way. `kept` checks each folder opened (kept.py: one renamed since the
    check may be a kept one; ToolError). The name is "." for the workspace itself. Close
    the descriptor."""
    root = Path(workspace)
    parts = path.relative_to(root).parts
    shown = "/".join(parts) or "."
    fd = os.open(root, _FOLDER_FLAGS)
    try:
        if kept is not None:
            kept.check(fd, parts, shown, below=False)
        for at, part in enumerate(parts[:-1], 1):
            try:
                child = _open_folder(fd, part)
            except FileNotFoundError:
                if not make_folders:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
                child = _open_folder(fd, part)
            os.close(fd)
            fd = child
            if kept is not None:
                kept.check(fd, parts[at:], shown)
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1] if parts else "."


def _open_folder(parent: int, name: str) -> int:
    """`name` in `parent`, opened as a folder; a link there raises ELOOP (Linux says ENOTDIR
    for a link opened with O_DIRECTORY | O_NOFOLLOW, the same as for a plain file)."""
    try:
        return os.open(name, _FOLDER_FLAGS | NO_FOLLOW, dir_fd=parent)
    except NotADirectoryError:
        if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), name) from None
        raise


def open_in_workspace(workspace: Path, path: Path, flags: int = os.O_RDONLY, kept: Kept | None = None) -> int:
    """`path` (from resolve_in_workspace) opened with `flags`, no link followed on the way or
    at the end (O_NOFOLLOW; the workspace itself opens as a folder). Raises OSError, and
    ToolError where `kept` refuses a folder on the way or what was opened (kept.py)."""
    folder, name = open_folder_in_workspace(workspace, path, kept=kept)
    try:
        extra = NO_FOLLOW if name != "." else 0
        fd = os.open(name, flags | extra | getattr(os, "O_CLOEXEC", 0), dir_fd=folder)
    finally:
        os.close(folder)
    try:
        if kept is not None and name != ".":
            kept.check(fd, (), str(path.relative_to(workspace)))
    except BaseException:
        os.close(fd)
        raise
    return fd


def relative_name(workspace: Path | str, path: Path) -> str:
    """How to show `path` to the model: relative to the workspace when possible."""
    root = Path(workspace).expanduser().resolve()
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    return str(rel) if str(rel) != "." else "."


# Set for every tool's process: git there uses no bare repository it finds by itself (HEAD,
# objects/ and refs/ in a folder a tool wrote), whose config would run as code (core.fsmonitor).
# Version-control folders other than git's whose config runs commands on the host at the
# user's next command there: Mercurial's .hg/hgrc ([hooks], [extensions]) and Jujutsu's
# .jj/repo/config.toml (ui.pager, ui.editor), and Sapling's .sl, whose config takes Mercurial's
# [hooks] (attacker review, 2026-12-07 night). Kept like .git: write_file refuses them and
# the sandbox binds them read-only (attacker review: `hg status` ran a planted hook).
OTHER_VCS_FOLDERS = {".hg": "Mercurial", ".jj": "Jujutsu", ".sl": "Sapling"}
GIT_SAFETY = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.bareRepository", "GIT_CONFIG_VALUE_0": "explicit"}


def small_file(path: Path, limit: int = 4096) -> str | None:
    """The start of a small regular file a tool may have made (a `.git` file, a `commondir`);
    None for anything else. A tool may swap it for a FIFO or a link since it was listed: never
    block, never follow."""
    try:
        fd = os.open(path, os.O_RDONLY | NO_FOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return os.read(fd, limit).decode("utf-8", "replace") if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def gitdir_of(dot_git: Path) -> Path | None:
    """Where a `.git` file (a worktree's, a submodule's, `git init --separate-git-dir`'s) says
    the repository is, resolved; None for a folder or anything unreadable."""
    text = (small_file(dot_git) or "").strip()
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[len("gitdir:") :].strip())
    try:
        return (target if target.is_absolute() else dot_git.parent / target).resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def scrubbed_environment(extra: dict[str, str] | None = None, config: Config | None = None) -> dict[str, str]:
    """The environment a tool's process gets: only allow-listed names from os.environ.

    PATH, HOME, LANG, LC_*, TERM, USER, SHELL, TMPDIR, VIRTUAL_ENV and a few more,
    plus the names in tools.shell.env_passthrough; then `extra` on top.
    """
    passthrough = set(shell_settings(config).env_passthrough)
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ENV_ALLOWED or k in passthrough or k.startswith(ENV_ALLOWED_PREFIXES)
    }
    env.update(GIT_SAFETY)
    env.update(extra or {})
    return env


def shell_settings(config: Config | None) -> ShellConfig:
    """config.tools.shell, or the defaults when no config was given."""
    from thau_tui.config import Config

    return (config or Config()).tools.shell


def path_under(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies below it (both absolute and resolved). By parts, not
    `folder in path.parents`, which built every parent anew: 8.7 of a 10 s search over 10,000
    files went there (tools review)."""
    inner, outer = path.parts, folder.parts
    return len(inner) >= len(outer) and inner[: len(outer)] == outer


# A workspace that holds the home folder (thau started in ~, or in /) would let tools write
# what programs outside the sandbox run or read: ~/.bashrc, ~/.profile, ~/.config/autostart,
# ~/.local/bin, ~/bin (on PATH in many distributions' .profile), ~/Library/LaunchAgents (macOS).
# Those entries stay read-only in the sandbox and out of the file tools' reach.
HOME_KEPT_NAMES = ("bin", "library")  # compared casefolded: macOS names ignore case
# How deep below the home folder's kept entries links are followed (stow-style dotfiles:
# ~/.bashrc -> dotfiles/bashrc, ~/.config/nvim -> ~/dotfiles/nvim), and at most how many
# entries are looked at.
_HOME_LINK_DEPTH = 2
_HOME_LINK_SCAN = 5000


def home_in_workspace(workspace: Path) -> Path | None:
    """The home folder (resolved) when the workspace is it or a folder above it."""
    try:
        home = Path.home().resolve()
        workspace = Path(workspace).resolve()
    except (OSError, RuntimeError, KeyError):
        return None
    if (home == workspace or workspace in home.parents) and home.is_dir():
        return home
    return None


def home_entry_kept(name: str) -> bool:
    """A top-level entry of the home folder that holds startup or settings files."""
    return name.startswith(".") or name.casefold() in HOME_KEPT_NAMES


def home_kept_elsewhere(home: Path) -> list[Path]:
    """Folders and files elsewhere in the home folder that its startup files reach, kept
    read-only too: the targets of links in its kept entries (a dotfiles folder managed
    with stow), and the folders on PATH below it (~/miniconda3/bin, ~/go/bin), whose
    programs the next terminal runs."""
    found: list[Path] = []
    budget = [_HOME_LINK_SCAN]

    def visit(path: Path, depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if path.is_symlink():
            with contextlib.suppress(OSError, RuntimeError):
                target = path.resolve()
                if path_under(target, home) and target != home and not _kept_in_home(target, home):
                    found.append(target)
            return
        if depth < _HOME_LINK_DEPTH and path.is_dir():
            with contextlib.suppress(OSError):
                for child in sorted(path.iterdir()):
                    visit(child, depth + 1)

    with contextlib.suppress(OSError):
        for entry in sorted(home.iterdir()):
            if home_entry_kept(entry.name):
                visit(entry, 0)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            real = Path(folder).expanduser().resolve() if folder else None
            if real is not None and real != home and path_under(real, home) and not _kept_in_home(real, home):
                found.append(real)
    return list(dict.fromkeys(found))


def _kept_in_home(path: Path, home: Path) -> bool:
    return home in path.parents and home_entry_kept(path.relative_to(home).parts[0])


def _home_entry_reason(path: Path, workspace: Path) -> str | None:
    home = home_in_workspace(workspace)
    if home is None or home not in path.parents:
        return None
    first = path.relative_to(home).parts[0]
    return _home_entry_words(first) if home_entry_kept(first) else None


def _home_entry_words(name: str) -> str:
    return (
        f"in your home folder's {name} (startup and settings files that programs outside the "
        "sandbox run or read; the workspace is your home folder)"
    )


def hidden_candidates(config: Config | None) -> list[Path]:
    """What the sandbox hides where it exists, as configured (not resolved): the credentials of
    tools.shell.hidden_paths and thau's own config, data and cache folders."""
    from thau_tui.paths import cache_dir, config_dir, data_dir

    wanted = [Path(p).expanduser() for p in shell_settings(config).hidden_paths]
    return wanted + [config_dir(), data_dir(), cache_dir()]  # the cache: base-model weights the trainer loads


def hidden_paths(workspace: Path, config: Config | None) -> list[Path]:
    """Existing paths the sandbox hides: credentials (tools.shell.hidden_paths) and thau's
    own config, data and cache folders (approvals, chat history, converted base models).
    Never the workspace or above it."""
    found = []
    for path in hidden_candidates(config):
        try:
            if not (path.exists() or path.is_symlink()):
                continue
            real = path.resolve()
        except (OSError, RuntimeError):
            continue
        if path_under(workspace, real):
            continue  # hiding it would hide the workspace itself
        found.append(real)
    return list(dict.fromkeys(found))


def hidden_folders(config: Config | None = None, workspace: Path | None = None) -> list[tuple[Path, str]]:
    """The folders the file tools keep out of, resolved, each with what it is in words: the
    credential folders of tools.shell.hidden_paths and thau's own config and data folders
    (remembered approvals, chat history, config.yaml, plugins), whether or not they exist
    yet. Like the sandbox (hidden_paths), never a folder the workspace itself is in."""
    from thau_tui.paths import cache_dir, config_dir, data_dir

    named = [(Path(p).expanduser(), "in a hidden credentials path") for p in shell_settings(config).hidden_paths]
    named += [(config_dir(), "in thau's own config folder"), (data_dir(), "in thau's own data folder")]
    named += [(cache_dir(), "in thau's own cache folder")]
    found = []
    for folder, why in named:
        try:
            real = folder.resolve()
        except (OSError, RuntimeError):
            continue
        if not (workspace is not None and path_under(workspace, real)):
            found.append((real, f"{why} ({folder})"))
    home = home_in_workspace(workspace) if workspace is not None else None
    if home is not None:  # the startup and settings files of a home folder the workspace holds
        with contextlib.suppress(OSError):
            for entry in home.iterdir():
                if home_entry_kept(entry.name):
                    with contextlib.suppress(OSError, RuntimeError):
                        found.append((entry.resolve(), _home_entry_words(entry.name)))
        for reached in home_kept_elsewhere(home):
            found.append((reached, _home_entry_words(str(reached.relative_to(home))) + ", reached from there"))
    return found


def hidden_reason(
    path: Path,
    config: Config | None = None,
    workspace: Path | None = None,
    folders: list[tuple[Path, str]] | None = None,
) -> str | None:
    """What hides `path` (a real path) from the tools, in words (hidden_folders, or the
    `folders` it gave once for many paths); None when nothing does."""
    for real, why in hidden_folders(config, workspace) if folders is None else folders:
        if path_under(path, real):
            return why
    if workspace is not None:  # also a startup file that does not exist yet (~/.zshenv)
        return _home_entry_reason(path, workspace)
    return None


def link_on_the_way(workspace: Path, written: str, path: Path) -> str | None:
    """Why `written` (the path as the model wrote it, which the card shows) does not name
    `path` (where it resolves, inside `workspace`) directly; None when it does. A link in
    the workspace on the way (notes.txt -> .vscode/tasks.json, docs -> .vscode, docs -> .)
    wrote another file than the one the user approved (attacker reviews). The workspace
    itself may be named through a link above it (/tmp/alias/ws, macOS's /var): below the
    first part of the path that resolves to it, no part may be a link, and no `..` may
    climb out of it. "made since the check": the path as written is `path`, with a link in
    it now (one swapped in after resolve_in_workspace looked)."""
    candidate = Path(written).expanduser()
    parts = (candidate if candidate.is_absolute() else workspace / candidate).parts
    for cut in range(1, len(parts) + 1):  # the shortest prefix: `docs -> .` resolves there too
        with contextlib.suppress(OSError, RuntimeError):
            if Path(*parts[:cut]).resolve() == workspace:
                break
    else:
        cut = len(parts) + 1  # as written, no part of it is the workspace
    below: list[str] = []
    for part in parts[cut:]:  # each earlier part is a real folder, so `..` goes back one
        if part == "..":
            if not below:
                break
            below.pop()
        elif part not in ("", "."):
            below.append(part)
            if workspace.joinpath(*below).is_symlink():
                break
    else:
        if cut <= len(parts) and workspace.joinpath(*below) == path:
            return None
    if cut <= len(parts) and Path(os.path.normpath(workspace.joinpath(*parts[cut:]))) == path:
        return "made since the check"
    return "leads through a link (or out and back in)"


def dotted_parts(workspace: Path, written: str, path: Path) -> str | None:
    """The refusal for a path to write with `..` or `.` parts (other than a leading `./`) or
    repeated slashes; None for a plain one. `docs/<long name>/../../../././Makefile`
    showed on the card cut in the middle, and the approved write overwrote the root Makefile
    (attacker review, 2026-12-07 night). The message gives the plain form, `path` (where the
    written one resolves), so the model can write it again."""
    parts = written.split("/")
    parts = parts[1:] if parts[0] in (".", "") else parts  # ./notes.txt, or an absolute path
    if all(part not in ("", ".", "..") for part in parts[:-1]) and parts[-1] not in (".", ".."):
        return None
    return f"the path has '..' or '.' parts or repeated slashes: write it as '{relative_name(workspace, path)}'"
