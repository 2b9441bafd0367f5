"""read_file, write_file, list_directory, search_code: files inside the workspace only."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..visible_text import visible
from .base import Tool, ToolContext, ToolError, ToolResult, object_schema, storable
from .kept import Kept
from .text_form import TextForm, binary_kind, in_its_form, new_line_first, pread_or_nothing, text_form
from .workspace import (
    NO_FOLLOW,
    OTHER_VCS_FOLDERS,
    as_listed,
    dotted_parts,
    link_on_the_way,
    open_folder_in_workspace,
    open_in_workspace,
    relative_name,
    resolve_in_workspace,
    shell_settings,
)

if TYPE_CHECKING:
    from thau_tui.config import Config, FilesConfig

MAX_LIST_ENTRIES = 500
_binary_kind = binary_kind  # file_search's name for it
SAMPLE_READ = 65536  # bytes of a file read that tell its form


def _workspace(ctx: ToolContext) -> Path:
    return Path(ctx.workspace).expanduser().resolve()


def _changed_under_us(name: str, verb: str) -> ToolError:
    return ToolError(
        f"'{name}' or a folder on its way is a link now (it was not when the path was checked); "
        f"{verb} does not follow links there. Run list_directory to see what is there"
    )


def _open_to_read(workspace: Path, path: Path, name: str, tool: str, hint: str, config: Config | None) -> int:
    """`path` opened for reading by `tool` without following links, or a ToolError that says
    what is wrong (`hint` follows "does not exist"). O_NONBLOCK: a FIFO planted at the path
    opens at once, and the caller refuses what is not a plain file or folder. What was opened
    is checked against the hidden folders and files by identity (kept.py)."""
    kept = Kept.here(workspace, config, writing=False)
    try:
        return open_in_workspace(workspace, path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0), kept)
    except FileNotFoundError:
        raise ToolError(f"'{name}' does not exist; {hint}") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _changed_under_us(name, tool) from None
        raise ToolError(f"{tool} cannot open '{name}': {exc.strerror or exc}") from None


def read_file(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The read_file tool: a text file's content, capped. Opened without following links
    (open_in_workspace), so a file swapped for a link after the check is refused."""
    workspace = _workspace(ctx)
    path = resolve_in_workspace(workspace, args["path"], ctx.config)
    name = relative_name(ctx.workspace, path)
    fd = _open_to_read(workspace, path, name, "read_file", "list_directory shows what is there", ctx.config)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ToolError(f"'{name}' is a folder; use list_directory to see what is in it")
        raise ToolError(f"'{name}' is not a regular file; read_file reads plain files only")
    if st.st_nlink > 1:  # another name may lie in a folder kept from the tools (thau's approvals, ~/.ssh)
        os.close(fd)
        raise ToolError(
            f"'{name}' is a hard link ({st.st_nlink} names for one file, and thau cannot tell where the "
            "others are: one may be in a folder kept from the tools); read_file does not read it. "
            "run_shell can show it (cat), after you approve"
        )
    with os.fdopen(fd, "rb") as fh:
        size = st.st_size
        head = fh.read(SAMPLE_READ)  # enough to tell its form (Latin-1 a page in counts)
        form = text_form(head)
        kind = _binary_kind(head, form)
        if kind:
            return ToolResult(
                output=f"'{name}' is a binary file ({kind}, {size} bytes); read_file shows text only",
                data={"path": str(path), "bytes": size, "binary": True},
            )
        limit = shell_settings(ctx.config).output_limit
        form = form or TextForm()
        fh.seek(len(form.bom))  # past its BOM: the codec is the one it names
        reader = io.TextIOWrapper(fh, encoding=form.codec, errors="replace")
        text = reader.read(limit + 1)
        reader.detach()
    truncated = len(text) > limit
    if truncated:
        text = text[:limit]
        text += (
            f"\n[... truncated: showed the first {limit} characters of {size} bytes; "
            "use search_code or run_shell (sed -n, head, tail) for the rest]"
        )
    if form.note():  # Latin-1, UTF-16, CRLF: said, so nobody takes the file for plain UTF-8
        text += f"\n{form.note()}"
    return ToolResult(output=text, data={"path": str(path), "bytes": size, "truncated": truncated})


def files_settings(config: Config | None) -> FilesConfig:
    """config.tools.files, or the defaults when no config was given."""
    from thau_tui.config import Config

    return (config or Config()).tools.files


def _refuse_git_folder(workspace: Path, path: Path, name: str, settings: FilesConfig) -> None:
    """Refuse a resolved path inside any .git folder: git runs its hooks and config outside the sandbox."""
    if settings.allow_git_writes:
        return
    # lower(): a case-insensitive filesystem (macOS) opens .GIT/config as .git/config.
    parts = [part.lower() for part in path.relative_to(workspace).parts]
    other = next((part for part in parts if part in OTHER_VCS_FOLDERS), None)
    if other is not None and ".git" not in parts:
        raise ToolError(
            f"'{name}' is inside a {other} folder; {OTHER_VCS_FOLDERS[other]} runs the hooks and commands its "
            "config names as code outside the sandbox, so write_file does not change it. "
            "Set tools.files.allow_git_writes: true in config.yaml to allow it"
        )
    from .git_hooks import hooks_reason
    from .sandbox import git_folders

    if ".git" not in parts and (hooks := hooks_reason(workspace, path, git_folders(workspace))) is not None:
        raise ToolError(  # core.hooksPath (.husky/_), included config: reviews of 2026-12-07 night
            f"'{name}' is {hooks}, so write_file does not change it. "
            "Set tools.files.allow_git_writes: true in config.yaml to allow it"
        )
    inside = ".git" in parts
    # A repository's folder by another name (`gitdir:` in a .git file, a bare repository),
    # or one this write would complete: git finds those by their HEAD, objects/ and refs/.
    repository = None
    for folder in path.parents if not inside else ():
        if folder != workspace and workspace not in folder.parents:
            break
        if _git_dir_with(folder, path):
            repository = folder
            break
    if inside or repository is not None:
        shown = repository.relative_to(workspace).as_posix() if repository is not None else ""
        where = "a .git folder" if inside else f"a git repository's own folder ('{shown or '.'}')"
        raise ToolError(
            f"'{name}' is inside {where}; git runs hooks and config there (e.g. core.fsmonitor) "
            "as code outside the sandbox, so write_file does not change it. "
            "Set tools.files.allow_git_writes: true in config.yaml to allow it"
        )


def _refuse_own_folder(workspace: Path, path: Path, name: str, config: Config | None) -> None:
    """Refuse a path in a folder whose files run or load inside thau itself, when the
    workspace holds it (a project's .venv thau runs on; thau's own checkout, with its code,
    models and training runs): a .pth file, a module, an adapter or a checkpoint there runs
    inside thau, outside the sandbox. Folders are compared by identity, not by name: on a
    case-insensitive disk (macOS) '.VENV/lib' is the same folder as '.venv/lib'."""
    from .sandbox import own_folders

    stats = []
    for folder, what in own_folders(config):
        try:
            stats.append((folder.stat(), what))
        except OSError:
            continue
    for step in (path, *path.parents):
        if step == workspace or workspace not in step.parents:
            break  # only folders below the workspace (thau's own install is outside it)
        try:
            here = step.lstat()
        except OSError:
            continue  # not made yet
        for known, what in stats:
            if os.path.samestat(here, known):
                raise ToolError(
                    f"'{name}' is inside {what} ({step.relative_to(workspace)}); what is written there "
                    "runs or loads inside thau itself, outside the sandbox, so write_file does not change it"
                )


def _git_dir_with(folder: Path, written: Path) -> bool:
    """Whether `folder` is, or would be once `written` exists, a folder git takes for a
    repository's own: HEAD with objects/ and refs/, or HEAD with a `commondir` file (a
    worktree's layout: git then looks for objects/ and refs/ in the folder it names)."""
    if folder == written:
        return False
    head = (folder / "HEAD").is_file() or written == folder / "HEAD"
    objects = (folder / "objects").is_dir() or folder / "objects" in written.parents
    refs = (folder / "refs").is_dir() or folder / "refs" in written.parents
    common = (folder / "commondir").is_file() or written == folder / "commondir"
    return head and (objects and refs or common)


def _refuse_oversize(name: str, total: int, limit_mb: float) -> None:
    if total > limit_mb * 1024 * 1024:
        raise ToolError(
            f"writing '{name}' would make it {_human(total)}, over the {limit_mb:g} MB cap on written files; "
            "raise tools.files.max_write_mb in config.yaml to allow larger files"
        )


def _write_error(name: str, exc: OSError) -> ToolError:
    """An OSError from writing `name`, as a plain message."""
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return ToolError(
            f"'{name}' or a folder on its way is a link; write_file does not write through links, "
            "give the path of the file itself"
        )
    if exc.errno == errno.EISDIR:
        return ToolError(f"'{name}' is a folder; give a file path such as '{name}/notes.txt'")
    if exc.errno == errno.ENAMETOOLONG:
        return ToolError(f"invalid path '{name[:80]}...': a name in it is too long")
    if exc.errno == errno.ENXIO:  # a FIFO with no reader, or a device
        return ToolError(f"'{name}' is not a regular file; write_file writes plain files only")
    return ToolError(f"cannot write '{name}': {exc.strerror or exc}")


def _open_for_write(folder: int, leaf: str, name: str, append: bool) -> int:
    """A write descriptor on `leaf` in the open `folder` itself (never through a link),
    without truncating it yet.

    It is opened for reading too, to see its form and whether it ends with a newline (a file
    the user may write but not read is still written, write-only, as UTF-8)."""
    flags = os.O_CREAT | NO_FOLLOW | getattr(os, "O_CLOEXEC", 0)
    # O_NONBLOCK: a FIFO planted at the path fails at once instead of hanging the tool.
    flags |= getattr(os, "O_NONBLOCK", 0) | (os.O_APPEND if append else 0)
    try:
        try:  # read too: the file's encoding and line endings are kept (text_form)
            return os.open(leaf, flags | os.O_RDWR, 0o666, dir_fd=folder)
        except PermissionError:
            pass
        return os.open(leaf, flags | os.O_WRONLY, 0o666, dir_fd=folder)
    except OSError as exc:
        raise _write_error(name, exc) from None


def _refuse_unsafe_file(fd: int, workspace: Path, name: str) -> os.stat_result:
    """Check what was opened (not what the path named a moment ago): a plain file, one name, this disk."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise ToolError(f"'{name}' is not a regular file; write_file writes plain files only")
    if st.st_nlink > 1:
        raise ToolError(
            f"'{name}' is a hard link ({st.st_nlink} names for one file, which may lie outside the workspace); "
            "write_file refuses it. Write to a new file, or remove the other names first"
        )
    if st.st_dev != os.stat(workspace).st_dev:
        raise ToolError(
            f"'{name}' is on another filesystem than the workspace (a mount inside it); write_file refuses it"
        )
    return st


def write_file(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The write_file tool: create, overwrite or append; parent folders are created.

    Refuses hard links, links on the way (even inside the workspace), other filesystems, .git folders
    (unless tools.files.allow_git_writes) and files over tools.files.max_write_mb.
    """
    workspace = _workspace(ctx)
    path = resolve_in_workspace(workspace, args["path"], ctx.config)
    name = relative_name(ctx.workspace, path)
    mode = args.get("mode", "overwrite")
    if mode not in ("overwrite", "append"):
        raise ToolError(f"mode must be 'overwrite' or 'append' (got {mode!r})")
    if isinstance(args["path"], str) and args["path"].rstrip().replace(os.sep, "/").rsplit("/", 1)[-1] in (
        "",
        ".",
        "..",
    ):
        raise ToolError(f"'{args['path']}' ends in a folder ('/', '.' or '..'); give a file path such as 'notes.txt'")
    content = args["content"]
    if not isinstance(content, str):
        raise ToolError(f"content must be text (got {type(content).__name__})")
    settings = files_settings(ctx.config)
    _refuse_git_folder(workspace, path, name, settings)
    _refuse_own_folder(workspace, path, name, ctx.config)
    # as resolve_in_workspace read it: `tab␉name.txt`, as list_directory shows it, is `tab\tname.txt`
    # (its refusal said it led "through a link" to itself: attacker review, 2026-12-07 night)
    written = as_listed(workspace, args["path"]) if isinstance(args["path"], str) else args["path"]
    link = link_on_the_way(workspace, written, path)
    if link == "made since the check":
        raise _write_error(name, OSError(errno.ELOOP, "a link"))
    if link is not None:
        raise ToolError(
            f"'{args['path']}' {link} to '{name}'; write to '{name}' itself, "
            "so the approval shows the file that changes"
        )
    if isinstance(written, str) and (dotted := dotted_parts(workspace, written, path)) is not None:
        raise ToolError(dotted)  # after the folder and link checks: their refusals say more
    # "replace": a lone surrogate from a model's JSON becomes '?' instead of crashing the tool.
    data = content.encode("utf-8", errors="replace")
    _refuse_oversize(name, len(data), settings.max_write_mb)
    append = mode == "append"
    # Folders are opened (and made) one by one without following links: one swapped for a
    # link after resolve_in_workspace checked the path cannot lead the write outside.
    # Each folder opened, and the file, is checked by identity too (kept.py): one renamed since
    # the checks above may be a kept one.
    kept = Kept.here(workspace, ctx.config, writing=True, git=not settings.allow_git_writes)
    try:
        folder, leaf = open_folder_in_workspace(workspace, path, make_folders=True, kept=kept)
    except OSError as exc:
        raise _write_error(name, exc) from None
    try:
        return _write_in(workspace, (folder, leaf, kept), path, name, (data, content), append, settings)
    finally:
        os.close(folder)


def _write_in(
    workspace: Path,
    where: tuple[int, str, Kept],
    path: Path,
    name: str,
    text: tuple[bytes, str],
    append: bool,
    settings: FilesConfig,
) -> ToolResult:
    """write_file's part after the checks: `where` is the open folder, the file's name in it
    and the identity check, `text` the bytes to write and the content they came from."""
    (folder, leaf, kept), (data, content) = where, text
    try:
        if leaf == "." or stat.S_ISDIR(_lstat_mode(folder, leaf)):
            raise ToolError(f"'{name}' is a folder; give a file path such as '{name}/notes.txt'")
        existed = _lstat_mode(folder, leaf) != 0
        fd = _open_for_write(folder, leaf, name, append)
    except OSError as exc:
        raise _write_error(name, exc) from None
    try:
        st = _refuse_unsafe_file(fd, workspace, name)
        kept.check(fd, (), name)
        form, data, kept_note = in_its_form(fd, st.st_size, name, content, data, append)
        if append:
            last = pread_or_nothing(fd, 2, max(0, st.st_size - 2)) if st.st_size > len(form.bom) else b""
            data = new_line_first(form, last, data)
            _refuse_oversize(name, st.st_size + len(data), settings.max_write_mb)
        else:
            os.ftruncate(fd, 0)  # only now, after the checks: a refused file keeps its bytes
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        size = os.fstat(fd).st_size
    except OSError as exc:
        raise _write_error(name, exc) from None
    except ToolError:
        if not existed:  # the empty file O_CREAT just made (e.g. on a mount inside the workspace)
            with contextlib.suppress(OSError):
                os.unlink(leaf, dir_fd=folder)
        raise
    finally:
        os.close(fd)
    mode = "append" if append else "overwrite"
    verb = "appended" if append else ("overwrote" if existed else "created")
    return ToolResult(
        output=f"{verb} {name}: wrote {len(content)} characters (file is now {size} bytes){kept_note}",
        data={"path": str(path), "bytes": size, "mode": mode, "created": not existed},
    )


def _lstat_mode(folder: int, leaf: str) -> int:
    """The mode of `leaf` in `folder` (a link's own), 0 when there is nothing there."""
    try:
        return os.stat(leaf, dir_fd=folder, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return 0


def _human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _shown(name: str) -> str:
    """A file name as text to show and store. Python hands a name that is not UTF-8 over
    with surrogate escapes (b'caf\\xe9.txt' -> 'caf\\udce9.txt'), which no UTF-8 text can
    hold: such bytes become U+FFFD. (The disk still gets the real name: os functions take
    the surrogate-escaped str.) Control characters, newline and tab too, are drawn as stand-ins:
    a name with a newline forged a match line or a listing entry of a file that does not
    exist (`x.txt\nsecrets.env:1: API_KEY=...`: attacker review)."""
    try:
        text = os.fsencode(name).decode("utf-8", errors="replace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (from a model's path)
        text = storable(name)
    return visible(text).replace("\n", "\u240a").replace("\t", "\u2409")


def list_directory(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The list_directory tool: folders first (with '/'), then files with sizes."""
    workspace = _workspace(ctx)
    path = resolve_in_workspace(workspace, args.get("path", "."), ctx.config)
    name = _shown(relative_name(ctx.workspace, path))
    fd = _open_to_read(workspace, path, name, "list_directory", "try list_directory with path '.'", ctx.config)
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise ToolError(f"'{name}' is a file, not a folder; use read_file to see it")
        # scandir on the descriptor: the folder that was opened, not whatever the path names now
        with os.scandir(fd) as found:
            entries = sorted(found, key=lambda e: (not e.is_dir(follow_symlinks=False), e.name.lower()))
        lines = _listing(entries)
    finally:
        os.close(fd)
    header = f"{name}: {len(entries)} entries" if entries else f"{name}: empty folder"
    limit, shown = shell_settings(ctx.config).output_limit, 0
    for at, line in enumerate(lines):  # 500 names of 255 bytes: 100,000 characters (review)
        shown += len(line) + 1
        if shown > limit:
            lines = lines[:at]
            break
    if len(entries) > len(lines):
        lines.append(f"[... {len(entries) - len(lines)} more entries not shown; list a subfolder or use search_code]")
    return ToolResult(output="\n".join([header, *lines]), data={"path": str(path), "entries": len(entries)})


def _listing(entries: list[os.DirEntry[str]]) -> list[str]:
    lines = []
    for entry in entries[:MAX_LIST_ENTRIES]:
        # Never through a link: whether ~/.ssh/id_ed25519 exists, and its size, is not the
        # workspace's to tell (read_file refuses the link's target).
        if entry.is_symlink():
            lines.append(f"{_shown(entry.name)}  (link)")
        elif entry.is_dir(follow_symlinks=False):
            lines.append(f"{_shown(entry.name)}/")
        else:
            try:
                size = _human(entry.stat(follow_symlinks=False).st_size)
            except OSError:
                size = "?"
            lines.append(f"{_shown(entry.name)}  ({size})")
    return lines


TOOLS = [
    Tool(
        name="read_file",
        description="Read a text file inside the workspace (long files are cut, and say so).",
        summary="read a text file",
        parameters=object_schema(
            {"path": {"type": "string", "description": "File path, relative to the workspace"}}, ["path"]
        ),
        risk="read",
        function=read_file,
    ),
    Tool(
        name="write_file",
        description="Write text to a file inside the workspace; creates folders as needed. "
        "mode 'overwrite' (default) replaces the file, 'append' adds to its end "
        "(on a new line if the file does not end with one).",
        summary="write or append text to a file",
        parameters=object_schema(
            {
                "path": {"type": "string", "description": "File path, relative to the workspace"},
                "content": {"type": "string", "description": "The text to write"},
                "mode": {
                    "type": "string",
                    "enum": ["overwrite", "append"],
                    "default": "overwrite",
                    "description": "overwrite (default) or append",
                },
            },
            ["path", "content"],
        ),
        risk="write",
        function=write_file,
    ),
    Tool(
        name="list_directory",
        description="List a folder inside the workspace: folders first, then files with sizes.",
        summary="list the files in a folder",
        parameters=object_schema(
            {
                "path": {
                    "type": "string",
                    "default": ".",
                    "description": "Folder, relative to the workspace (default '.')",
                }
            },
            [],
        ),
        risk="read",
        function=list_directory,
    ),
]
