"""read_file, write_file, list_directory, search_code: files inside the workspace only."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from .base import Tool, ToolContext, ToolError, ToolResult, object_schema
from .workspace import relative_name, resolve_in_workspace, shell_settings

MAX_LIST_ENTRIES = 500
MAX_MATCHES = 100
MAX_SEARCH_FILE_BYTES = 2_000_000
SEARCH_SECONDS = 10.0
# Folders that are never the code being asked about: VCS data, environments, caches, dependencies.
SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages", ".thau",
}
_MAGIC = {b"\x89PNG": "PNG image", b"\xff\xd8\xff": "JPEG image", b"GIF8": "GIF image", b"%PDF": "PDF",
          b"PK\x03\x04": "zip archive", b"\x7fELF": "executable", b"GGUF": "GGUF model", b"SQLite": "SQLite database"}


def _workspace(ctx: ToolContext) -> Path:
    return Path(ctx.workspace).expanduser().resolve()


def _binary_kind(head: bytes) -> str | None:
    """What a binary file looks like, or None when it reads as text."""
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if b"\0" in head:
        return "binary data"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multibyte character cut at the end is fine
            return "binary data (not UTF-8 text)"
    return None


def read_file(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The read_file tool: a text file's content, capped."""
    path = resolve_in_workspace(_workspace(ctx), args["path"])
    name = relative_name(ctx.workspace, path)
    if not path.exists():
        raise ToolError(f"'{name}' does not exist; list_directory shows what is there")
    if path.is_dir():
        raise ToolError(f"'{name}' is a folder; use list_directory to see what is in it")
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8192)
    kind = _binary_kind(head)
    if kind:
        return ToolResult(output=f"'{name}' is a binary file ({kind}, {size} bytes); read_file shows text only",
                          data={"path": str(path), "bytes": size, "binary": True})
    limit = shell_settings(ctx.config).output_limit
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        text = fh.read(limit + 1)
    truncated = len(text) > limit
    if truncated:
        text = text[:limit]
        text += f"\n[... truncated: showed the first {limit} characters of {size} bytes; " \
                "use search_code or run_shell (sed -n, head, tail) for the rest]"
    return ToolResult(output=text, data={"path": str(path), "bytes": size, "truncated": truncated})


def write_file(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The write_file tool: create, overwrite or append; parent folders are created."""
    path = resolve_in_workspace(_workspace(ctx), args["path"])
    name = relative_name(ctx.workspace, path)
    mode = args.get("mode", "overwrite")
    if mode not in ("overwrite", "append"):
        raise ToolError(f"mode must be 'overwrite' or 'append' (got {mode!r})")
    if path.is_dir():
        raise ToolError(f"'{name}' is a folder; give a file path such as '{name}/notes.txt'")
    content = args["content"]
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if mode == "append" else "w", encoding="utf-8") as fh:
        fh.write(content)
    size = path.stat().st_size
    verb = "appended" if mode == "append" else ("overwrote" if existed else "created")
    return ToolResult(
        output=f"{verb} {name}: wrote {len(content)} characters (file is now {size} bytes)",
        data={"path": str(path), "bytes": size, "mode": mode, "created": not existed},
    )


def _human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def list_directory(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The list_directory tool: folders first (with '/'), then files with sizes."""
    path = resolve_in_workspace(_workspace(ctx), args.get("path", "."))
    name = relative_name(ctx.workspace, path)
    if not path.exists():
        raise ToolError(f"'{name}' does not exist; try list_directory with path '.'")
    if not path.is_dir():
        raise ToolError(f"'{name}' is a file, not a folder; use read_file to see it")
    entries = sorted(os.scandir(path), key=lambda e: (not e.is_dir(), e.name.lower()))
    lines = []
    for entry in entries[:MAX_LIST_ENTRIES]:
        if entry.is_dir():
            lines.append(f"{entry.name}/")
        else:
            try:
                size = _human(entry.stat().st_size)
            except OSError:
                size = "?"
            lines.append(f"{entry.name}  ({size})" + ("  -> link" if entry.is_symlink() else ""))
    header = f"{name}: {len(entries)} entries" if entries else f"{name}: empty folder"
    if len(entries) > MAX_LIST_ENTRIES:
        lines.append(f"[... {len(entries) - MAX_LIST_ENTRIES} more entries not shown]")
    return ToolResult(output="\n".join([header, *lines]),
                      data={"path": str(path), "entries": len(entries)})


def _is_environment(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def _text_files(root: Path, ctx: ToolContext):
    """Every searchable file under root, skipping VCS folders, environments and big files."""
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not _is_environment(Path(folder) / d))
        for file in sorted(files):
            if ctx.cancelled:
                return
            yield Path(folder) / file


def search_code(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The search_code tool: regex (or literal) search, `file:line: text` per match."""
    workspace = _workspace(ctx)
    root = resolve_in_workspace(workspace, args.get("path", "."))
    if not root.exists():
        raise ToolError(f"'{relative_name(workspace, root)}' does not exist; try path '.'")
    pattern = args["pattern"]
    if not pattern:
        raise ToolError("the pattern is empty; give a word or a regular expression to look for")
    note = ""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        regex = re.compile(re.escape(pattern))
        note = f"[the pattern is not a valid regular expression ({exc}); searched for it as plain text]"
    matches: list[str] = []
    files_hit = files_seen = 0
    start = time.monotonic()
    stopped = ""
    for file in _text_files(root, ctx):
        if time.monotonic() - start > SEARCH_SECONDS:
            stopped = f"[stopped after {SEARCH_SECONDS:g} s; narrow the path for a complete search]"
            break
        try:
            if file.is_symlink() or file.stat().st_size > MAX_SEARCH_FILE_BYTES:
                continue
            data = file.read_bytes()
        except OSError:
            continue
        if _binary_kind(data[:8192]):
            continue
        files_seen += 1
        hit = False
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if regex.search(line):
                hit = True
                text = line.strip()
                if len(text) > 200:
                    text = text[:200] + "..."
                matches.append(f"{relative_name(workspace, file)}:{number}: {text}")
                if len(matches) > MAX_MATCHES:
                    break
        files_hit += hit
        if len(matches) > MAX_MATCHES:
            matches = matches[:MAX_MATCHES]
            stopped = f"[showing the first {MAX_MATCHES} matches; use a narrower pattern or path]"
            break
    if matches:
        summary = f"{len(matches)} match(es) in {files_hit} file(s)"
    else:
        summary = f"no matches for {pattern!r} in {files_seen} text file(s)"
    lines = [line for line in (note, summary, *matches, stopped) if line]
    return ToolResult(output="\n".join(lines),
                      data={"matches": len(matches), "files": files_hit, "literal": bool(note)})


TOOLS = [
    Tool(
        name="read_file",
        description="Read a text file inside the workspace (long files are cut, and say so).",
        summary="read a text file",
        parameters=object_schema({"path": {"type": "string", "description": "File path, relative to the workspace"}},
                           ["path"]),
        risk="read",
        function=read_file,
    ),
    Tool(
        name="write_file",
        description="Write text to a file inside the workspace; creates folders as needed. "
                    "mode 'overwrite' (default) replaces the file, 'append' adds to its end.",
        summary="write or append text to a file",
        parameters=object_schema({
            "path": {"type": "string", "description": "File path, relative to the workspace"},
            "content": {"type": "string", "description": "The text to write"},
            "mode": {"type": "string", "enum": ["overwrite", "append"], "default": "overwrite",
                     "description": "overwrite (default) or append"},
        }, ["path", "content"]),
        risk="write",
        function=write_file,
    ),
    Tool(
        name="list_directory",
        description="List a folder inside the workspace: folders first, then files with sizes.",
        summary="list the files in a folder",
        parameters=object_schema({"path": {"type": "string", "default": ".",
                                     "description": "Folder, relative to the workspace (default '.')"}}, []),
        risk="read",
        function=list_directory,
    ),
    Tool(
        name="search_code",
        description="Search text files in the workspace for a regular expression (plain text works too); "
                    "returns 'file:line: text' for each match. Skips .git, virtualenvs and node_modules.",
        summary="search files for a pattern",
        parameters=object_schema({
            "pattern": {"type": "string", "description": "Regular expression or plain text to find"},
            "path": {"type": "string", "default": ".",
                     "description": "File or folder to search, relative to the workspace (default '.')"},
        }, ["pattern"]),
        risk="read",
        function=search_code,
    ),
]
