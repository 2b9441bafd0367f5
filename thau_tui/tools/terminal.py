"""What a terminal's foreground process is doing, read from Linux /proc.

The shell sandbox asks one question when a command has been silent for a
while: is it blocked reading the terminal (a REPL, `read`, `cat` with no
input)? The answer comes from the foreground process group's blocked system
call (read, select or poll) and the file descriptors it waits on, which must
all be the terminal. A quiet `sleep` waits in nanosleep, so it never counts.
"""

from __future__ import annotations

import os
import platform
import struct

_SYSCALLS = {  # name -> number, for the blocking calls that wait on a terminal
    "x86_64": {"read": 0, "readv": 19, "poll": 7, "select": 23, "pselect6": 270, "ppoll": 271},
    "aarch64": {"read": 63, "readv": 65, "pselect6": 72, "ppoll": 73},
}.get(platform.machine(), {})


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def foreground_group(pid: int) -> int | None:
    """The terminal's foreground process group, read from a process that has it as ctty."""
    try:
        return int(_stat_fields(pid)[5])
    except (OSError, IndexError, ValueError):
        return None


def group_members(pgid: int) -> list[int]:
    """Every process id in a process group (a scan of /proc)."""
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(_stat_fields(int(name))[2]) == pgid:
                    members.append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    return members


def _fd_is_terminal(pid: int, fd: int, terminal: int) -> bool:
    try:
        rdev = os.stat(f"/proc/{pid}/fd/{fd}").st_rdev
    except OSError:
        return False
    return rdev == terminal or rdev == os.makedev(5, 0)  # our pty, or /dev/tty


def _read_memory(pid: int, address: int, size: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/mem", "rb") as mem:
            mem.seek(address)
            return mem.read(size)
    except (OSError, ValueError, OverflowError):
        return None


def _waited_fds(pid: int, number: int, args: list[int]) -> list[int]:
    """The file descriptors a blocked read/select/poll call is waiting on."""
    calls = {v: k for k, v in _SYSCALLS.items()}
    name = calls.get(number)
    if name in ("read", "readv"):
        return [args[0]]
    if name in ("select", "pselect6"):
        nfds, address = args[0], args[1]
        if not address or nfds > 1024:
            return []
        raw = _read_memory(pid, address, (nfds + 7) // 8)
        if raw is None:
            return [0] if nfds == 1 else []
        bits = int.from_bytes(raw, "little")
        return [fd for fd in range(nfds) if bits >> fd & 1]
    if name in ("poll", "ppoll"):
        address, count = args[0], args[1]
        if not address or count > 64:
            return []
        raw = _read_memory(pid, address, 8 * count)
        if raw is None or len(raw) < 8 * count:
            return []
        return [struct.unpack_from("iHH", raw, 8 * i)[0] for i in range(count)]
    return []


def _blocked_on_terminal(pid: int, terminal: int) -> bool:
    try:
        with open(f"/proc/{pid}/syscall") as fh:
            parts = fh.read().split()
    except OSError:
        return False
    if len(parts) < 7 or not parts[0].lstrip("-").isdigit():
        return False  # "running", or the kernel does not say
    fds = _waited_fds(pid, int(parts[0]), [int(a, 16) for a in parts[1:7]])
    return bool(fds) and all(_fd_is_terminal(pid, fd, terminal) for fd in fds)


def waiting_for_terminal_input(shell_pid: int, terminal: int) -> bool | None:
    """True when a foreground process of this terminal is blocked reading it.

    None when the platform cannot tell (no /proc or an unknown architecture).
    """
    if not _SYSCALLS or not os.path.isdir("/proc/self"):
        return None
    group = foreground_group(shell_pid)
    if group is None:
        return None
    return any(_blocked_on_terminal(pid, terminal) for pid in group_members(group))
