"""Caps on what a sandboxed shell may use: processes and memory.

Three mechanisms, because no single one holds everywhere:

* memory: RLIMIT_DATA on the shell (bash's `ulimit -d`): it binds root too, and
  unlike RLIMIT_AS it leaves programs that reserve large address ranges (node,
  Go, the JVM) alone.
* processes, as a normal user: RLIMIT_NPROC set *inside* bubblewrap's user
  namespace, where the kernel counts only the sandbox's own processes.
* processes, as root (CI, containers): RLIMIT_NPROC never binds root, so a pids
  cgroup (v1 or v2) caps the shell where one can be created.

Whatever caps the count, `ProcessCap.count()` tells how many processes the
shell has, so the shell can stop a fork bomb that sits at the cap instead of
letting it spin there.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

_CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
_serial = itertools.count(1)


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path in the v1 `controller` hierarchy (None: the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controller is None and number == "0" and controllers == "":
            return path
        if controller is not None and controller in controllers.split(","):
            return path
    return None


def _stale(folder: Path) -> bool:
    """A thau-<pid>-<n> cgroup left by a thau that is gone."""
    try:
        pid = int(folder.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    return not Path(f"/proc/{pid}").exists()


class ProcessCap:
    """A pids cgroup for one shell, when this machine lets thau make one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.path: Path | None = None
        self.why = ""
        for root, controller in ((_CGROUP_ROOTS[0], "pids"), (_CGROUP_ROOTS[1], None), (_CGROUP_ROOTS[2], None)):
            own = _own_cgroup(controller)
            if own is None or not root.is_dir():
                continue
            parent = root / own.lstrip("/")
            if not (parent / "cgroup.procs").exists():
                continue
            self._sweep(parent)
            folder = parent / f"thau-{os.getpid()}-{next(_serial)}"
            try:
                folder.mkdir()
            except OSError as exc:
                self.why = f"cannot create a cgroup under {parent} ({exc.strerror})"
                continue
            try:
                (folder / "pids.max").write_text(str(limit))
            except OSError as exc:
                self.why = f"no pids controller in {parent} ({getattr(exc, 'strerror', exc)})"
                _rmdir(folder)
                continue
            self.path = folder
            return
        if not self.why:
            self.why = "no writable pids cgroup"

    @staticmethod
    def _sweep(parent: Path) -> None:
        try:
            for folder in parent.glob("thau-*"):
                if _stale(folder):
                    _rmdir(folder)
        except OSError:
            pass

    def join(self) -> None:
        """Move the calling process into the cgroup (run in the child before exec)."""
        if self.path is not None:
            try:
                (self.path / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def pids(self) -> list[int]:
        if self.path is None:
            return []
        try:
            return [int(line) for line in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def count(self) -> int | None:
        if self.path is None:
            return None
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return len(self.pids())

    def close(self) -> None:
        """Kill what is left in the cgroup and remove it."""
        if self.path is None:
            return
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        _rmdir(self.path)
        self.path = None


def _rmdir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def namespace_count(pid: int) -> int | None:
    """How many processes share `pid`'s pid namespace (None when /proc cannot tell)."""
    try:
        target = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/ns/pid") == target:
                    count += 1
            except OSError:
                continue
    return count


def shell_ulimits(max_processes: int, memory_mb: int) -> str:
    """The bash line that caps the shell from inside (hard limits: no command can raise them)."""
    # -u binds a normal user (per user namespace inside bubblewrap); root is exempt by the
    # kernel's rule, which is why ProcessCap exists. -d binds everyone.
    return f"ulimit -HSu {max_processes} 2>/dev/null; ulimit -HSd {memory_mb * 1024} 2>/dev/null"


def process_cap_mechanism(limit: int) -> str:
    """How the shell's process cap is enforced on this machine, in words (for `thau doctor`)."""
    if os.geteuid() != 0:
        return f"processes <= {limit} (RLIMIT_NPROC in the sandbox's user namespace)"
    cap = ProcessCap(limit)
    try:
        if cap.path is not None:
            return f"processes <= {limit} (pids cgroup)"
        return f"processes <= {limit} only by thau's watch: running as root and {cap.why}"
    finally:
        cap.close()
