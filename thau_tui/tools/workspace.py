"""What tools may touch: paths inside the workspace, and the OS sandbox around commands.

Two seams every tool that reads, writes or runs something shares:

* `resolve_in_workspace` turns a path the model wrote into a real path inside
  the workspace, refusing `..`, absolute paths elsewhere and symlinks that leave.
* `sandbox_prefix` wraps a command line in bubblewrap (Linux) or sandbox-exec
  (macOS) so the workspace is writable and the rest of the system read-only,
  with the network off unless the config allows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .base import ToolError

# Environment names that look like credentials never reach a tool's process.
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def resolve_in_workspace(workspace: Path | str, path: str | os.PathLike[str]) -> Path:
    """The real path of `path` (relative to the workspace) when it stays inside it.

    Raises ToolError with a plain message for `..` escapes, absolute paths
    elsewhere and symlinks whose target lies outside the workspace.
    """
    root = Path(workspace).expanduser().resolve()
    text = os.fspath(path)
    if not text.strip():
        raise ToolError("the path is empty; give a file or folder inside the workspace, e.g. 'notes.txt'")
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()  # follows every symlink on the way
    if resolved == root or root in resolved.parents:
        return resolved
    # Say *why* it is outside: a link is less obvious than '..'.
    lexical = Path(os.path.normpath(candidate))
    if lexical == root or root in lexical.parents:
        raise ToolError(
            f"path '{text}' is a link to {resolved}, outside the workspace {root}; "
            "use a path inside it"
        )
    raise ToolError(f"path '{text}' is outside the workspace {root}; use a path inside it")


def relative_name(workspace: Path | str, path: Path) -> str:
    """How to show `path` to the model: relative to the workspace when possible."""
    root = Path(workspace).expanduser().resolve()
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    return str(rel) if str(rel) != "." else "."


def scrubbed_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ without names containing KEY, TOKEN, SECRET or PASSWORD."""
    env = {k: v for k, v in os.environ.items() if not any(w in k.upper() for w in _SECRET_WORDS)}
    env.update(extra or {})
    return env


def shell_settings(config: Any) -> Any:
    """config.tools.shell, or the defaults when no config was given."""
    from thau_tui.config import Config

    return (config or Config()).tools.shell


_probe_cache: dict[tuple[str, bool], tuple[bool, str]] = {}


def _bwrap_flags(workspace: Path, network: bool) -> list[str]:
    ws = str(workspace)
    flags = [
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--bind", ws, ws,  # after the tmpfs, so a workspace under /tmp stays visible
        "--chdir", ws,
        "--unshare-pid",
        "--die-with-parent",
    ]
    if not network:
        flags.append("--unshare-net")
    return flags


def _probe_bwrap(network: bool) -> tuple[bool, str]:
    """Does bubblewrap work here with the flags thau uses? Probed once per process."""
    key = ("bwrap", network)
    if key not in _probe_cache:
        exe = shutil.which("bwrap")
        if exe is None:
            _probe_cache[key] = (False, "bubblewrap not found — install it for isolation (apt-get install bubblewrap)")
        else:
            try:
                done = subprocess.run(
                    [exe, *_bwrap_flags(Path.cwd().resolve(), network), "true"],
                    capture_output=True, text=True, timeout=10,
                )
                ok = done.returncode == 0
                why = "" if ok else (done.stderr.strip() or f"exit status {done.returncode}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, why = False, str(exc)
            _probe_cache[key] = (ok, "" if ok else f"bubblewrap is installed but does not work here: {why}")
    return _probe_cache[key]


def _seatbelt_profile(workspace: Path, network: bool) -> str:
    """A sandbox-exec profile: everything allowed except writes outside the workspace/tmp."""
    writable = [str(workspace), "/private/tmp", "/private/var/folders", "/dev"]
    allow = " ".join(f'(subpath "{p}")' for p in writable)
    rules = ["(version 1)", "(allow default)", "(deny file-write*)", f"(allow file-write* {allow})"]
    if not network:
        rules.append("(deny network*)")
    return "".join(rules)


def sandbox_kind(config: Any) -> tuple[str, str]:
    """Which sandbox commands run in: ("bwrap" | "sandbox-exec" | "none", reason when none)."""
    settings = shell_settings(config)
    wanted = settings.sandbox
    if wanted == "none":
        return "none", "turned off in config (tools.shell.sandbox: none)"
    if wanted in ("auto", "bwrap") and sys.platform.startswith("linux"):
        ok, why = _probe_bwrap(settings.network)
        if ok:
            return "bwrap", ""
        if wanted == "bwrap":
            raise ToolError(
                f"tools.shell.sandbox is 'bwrap' but {why}; install bubblewrap or set sandbox: auto"
            )
        return "none", why
    if wanted in ("auto", "sandbox-exec") and sys.platform == "darwin":
        if shutil.which("sandbox-exec"):
            return "sandbox-exec", ""
        if wanted == "sandbox-exec":
            raise ToolError("tools.shell.sandbox is 'sandbox-exec' but it was not found; set sandbox: auto")
        return "none", "sandbox-exec not found"
    if wanted != "auto":
        raise ToolError(f"tools.shell.sandbox '{wanted}' is not available on {sys.platform}; set sandbox: auto")
    return "none", f"no sandbox available on {sys.platform}"


def sandbox_prefix(workspace: Path, config: Any) -> list[str]:
    """The argv prefix that runs a command inside the sandbox ([] when there is none)."""
    kind, _ = sandbox_kind(config)
    network = shell_settings(config).network
    workspace = Path(workspace).resolve()
    if kind == "bwrap":
        return [shutil.which("bwrap") or "bwrap", *_bwrap_flags(workspace, network), "--"]
    if kind == "sandbox-exec":
        return ["sandbox-exec", "-p", _seatbelt_profile(workspace, network)]
    return []


def sandbox_status(config: Any = None) -> str:
    """One line for `thau doctor` and the status bar: which sandbox, what it allows."""
    try:
        kind, why = sandbox_kind(config)
    except ToolError as exc:
        return f"none: {exc}"
    network = "network on" if shell_settings(config).network else "network off"
    if kind == "bwrap":
        return f"bubblewrap: workspace writable, rest read-only, {network}"
    if kind == "sandbox-exec":
        return f"sandbox-exec: workspace writable, rest read-only, {network}"
    return f"none: {why}"
