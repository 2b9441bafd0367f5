"""Starting the shell's bash: sandbox argv, environment, the forked child's setup, caps.

Every shell is forked from one thread that lives as long as thau: bubblewrap's
--die-with-parent follows the thread that forked it, and the agent runs each tool
call in a new thread. The forked child resets its signal state and joins the
process cap's cgroup before exec; the memory and per-user process caps are a bash
line the session runs once the shell is up (thau_tui/tools/limits.py says why).
What the shell does once started is thau_tui/tools/shell.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pexpect

from ..host_programs import host_program
from .base import ToolError
from .limits import ProcessCap, shell_ulimits
from .sandbox import git_folders, git_read_only, sandbox_kind, sandbox_prefix
from .terminal import foreground_group, group_members
from .workspace import scrubbed_environment, shell_settings

if TYPE_CHECKING:
    from thau_tui.config import Config

# Every shell is forked from this one thread, which lives as long as thau: the sandbox's
# --die-with-parent then ends the shell when thau ends, not when a tool thread does.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thau-shell-spawner")

# The shell's terminal: 100 columns, as the model reads them: at 200, pytest's rules were 200
# '=' each (a failure took twice the context through run_shell), ls's columns ran off the card
# (tools review).
SCREEN = (40, 100)


@dataclass(frozen=True)
class ShellLaunch:
    """How one shell's bash is started: argv (inside the sandbox when there is one) and caps."""

    argv: list[str]
    env: dict[str, str]
    workspace: Path
    timeout: float
    sandboxed: bool
    max_processes: int
    memory_mb: int

    @classmethod
    def plan(cls, workspace: Path, config: Config | None) -> ShellLaunch:
        """The launch the config asks for (raises ToolError when a required sandbox is missing)."""
        settings = shell_settings(config)
        prefix = sandbox_prefix(workspace, config)
        # Without a sandbox, bash itself is found as thau's own programs are (host_programs):
        # never a bash planted in the workspace's .venv/bin (attacker re-review).
        bash = (
            "bash"
            if prefix
            else (host_program("bash", workspace, config.tools.workspace if config else None) or "bash")
        )
        argv = [*prefix, bash, "--noprofile", "--norc", "--noediting"]
        env = scrubbed_environment({"TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat", "HISTFILE": ""}, config)
        return cls(
            argv=argv,
            env=env,
            workspace=workspace,
            timeout=settings.timeout,
            sandboxed=sandbox_kind(config)[0] == "bwrap",
            max_processes=settings.max_processes,
            memory_mb=settings.memory_mb,
        )

    @property
    def ulimits(self) -> str:
        """The bash line that caps the shell from inside ("" outside the sandbox)."""
        return shell_ulimits(self.max_processes, self.memory_mb) if self.sandboxed else ""

    def spawn(self) -> tuple[pexpect.spawn[str], ProcessCap | None]:
        """Fork bash from the spawner thread; with it the pids cgroup it runs in (root only)."""
        cap = ProcessCap(self.max_processes) if self.sandboxed and os.geteuid() == 0 else None

        def prepare_child() -> None:
            # In the forked child, before exec: a clean signal state, whatever thau inherited or
            # the forking thread blocks. An ignored or blocked SIGINT is passed on to bash's
            # commands, and Ctrl-C then cannot stop them (a full CI run saw `sleep` killed).
            _default_signals()
            if cap:
                cap.join()

        def spawn() -> pexpect.spawn[str]:
            return pexpect.spawn(
                self.argv[0],
                self.argv[1:],
                cwd=str(self.workspace),
                env=self.env,
                encoding="utf-8",
                codec_errors="replace",
                echo=False,
                dimensions=SCREEN,
                timeout=self.timeout,
                preexec_fn=prepare_child,
            )

        try:
            child = _SPAWNER.submit(spawn).result()
        except (pexpect.ExceptionPexpect, OSError) as exc:
            if cap:
                cap.close()
            raise ToolError(f"could not start bash: {exc}; is bash installed and on PATH?") from exc
        child.delaybeforesend = None  # pexpect's default 50 ms pause per send is for humans' terminals
        return child, cap


def _default_signals() -> None:
    """SIGINT, SIGQUIT and SIGTSTP back to their defaults and no signal blocked."""
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def shell_pid(child: pexpect.spawn[str]) -> int:
    """The process id of a started bash (pexpect has none only before it spawns)."""
    if child.pid is None:
        raise ToolError("the shell has no process")
    return child.pid


def _terminal_modes(child: pexpect.spawn[str]) -> list[Any] | None:
    """The terminal's modes now (termios), or None where they cannot be read."""
    try:
        return termios.tcgetattr(child.child_fd)
    except (termios.error, OSError, ValueError):
        return None


def repository_ids(workspace: Path) -> dict[Path, tuple[int, int]]:
    """Each repository folder (git_folders) with its device and inode: by path alone, a copy
    put where a kept one was (its parent renamed away) passed for the kept one (attacker review)."""
    found = {}
    for path in git_folders(workspace):
        with contextlib.suppress(OSError):
            status = os.lstat(path)
            found[path] = (status.st_dev, status.st_ino)
    return found


def repositories_made(workspace: Path, config: Config | None, kept: dict[Path, tuple[int, int]]) -> str:
    """What to tell the user of repository folders (git_folders) that are not among those a
    running sandbox keeps read-only: made since it started, so its commands can write their
    config and hooks, which run at the user's next git command there (attacker review:
    `git init tools`, then `cp settings.ini tools/.git/config` under an approval of cp). ""
    when there are none."""
    if not git_read_only(workspace, config):
        return ""
    made = [path for path, identity in repository_ids(workspace).items() if kept.get(path) != identity]
    if not made:
        return ""
    named = ", ".join(str(path.relative_to(workspace)) if workspace in path.parents else str(path) for path in made)
    return (
        f"\n[thau: this command made {named}. Its config and hooks run at your next git (or hg) command"
        " there, and this command could write them: look at them before you use git there. The shell was"
        " stopped (its background jobs too); the next command starts a fresh one, in the workspace, that"
        " keeps them read-only.]"
    )


def find_prompt(pid: int) -> tuple[int, int | None, tuple[str, ...] | None]:
    """The shell's pty device, bash's pid, and the read() bash makes at its prompt."""
    if not os.path.isdir("/proc/self"):
        return 0, None, None
    deadline = time.monotonic() + 2.0
    terminal = 0
    while time.monotonic() < deadline:
        group = foreground_group(pid)
        members = group_members(group) if group else []
        for member in members:
            try:
                terminal = terminal or os.stat(f"/proc/{member}/fd/0").st_rdev
                with open(f"/proc/{member}/syscall") as fh:
                    call = tuple(fh.read().split()[:4])
            except OSError:
                continue
            if len(members) == 1 and len(call) == 4 and call[0].isdigit():
                return terminal, member, call
        time.sleep(0.01)
    return terminal, None, None


def hidden_now(candidates: list[Path]) -> dict[str, tuple[int, int]]:
    """Each path the sandbox hides (hidden_paths: credentials, thau's folders), as itself and
    as what it reaches, with its device and inode ((0, 0): not there). bwrap's view is fixed
    when the shell starts: a credential made later (~/.aws/credentials) showed through, and
    one the host replaced by a rename (git's credential store, zsh's history) reappeared, as
    the bind over it went with the old file (attacker review). See `hidden_change`."""
    found = {}
    for path in candidates:  # a link retargeted, or its target replaced (cheaper than resolving)
        for look in (os.lstat, os.stat):
            try:
                status = look(path)
                found[f"{look.__name__}:{path}"] = (status.st_dev, status.st_ino)
            except OSError:
                found[f"{look.__name__}:{path}"] = (0, 0)
    return found


def hidden_change(before: dict[str, tuple[int, int]], now: dict[str, tuple[int, int]], *, made_only: bool) -> str:
    """The hidden path that was made (or, unless `made_only`, replaced) between the two looks,
    for the shell's note; "" when none was."""
    for key, identity in now.items():
        if identity != before.get(key) and (before.get(key) == (0, 0) or not made_only):
            return key.split(":", 1)[1]
    return ""


def folder_by_lsof(pid: int, workspace: Path) -> str:
    """Where process `pid` is (its working folder), by lsof, where there is no /proc (macOS)."""
    lsof = host_program("lsof", workspace)
    if lsof is not None:
        try:
            out = subprocess.run(
                [lsof, "-a", "-p", str(pid), "-d", "cwd", "-Fn"], capture_output=True, text=True, timeout=5
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            if line.startswith("n/"):
                return line[1:]
    return "?where the shell is cannot be told (neither /proc nor lsof says)"
