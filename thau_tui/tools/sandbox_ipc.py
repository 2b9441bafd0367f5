"""The sandbox's System V IPC limits. Shared memory segments, message queues and semaphores
are RAM that no process's memory cap counts: under a 64 MB cap a command held 192 MB of
segments, and the kernel's defaults allow far more in queues and semaphores (sandbox memory
review). The limits belong to an IPC namespace and only its owner may set them, so
`ipc_launcher` runs bubblewrap inside one it made and capped (thau_tui/tools/sandbox.py)."""

from __future__ import annotations

import os
import sys

# Semaphores a set may hold (the kernel's old default; PostgreSQL asks for 17, Oracle 250).
SEMMSL = 250
# Kernel memory, in bytes, of a semaphore, of a set, and of one process's undo record for a
# set (its header and 2 bytes a semaphore), rounded up.
SEMAPHORE_BYTES, SET_BYTES, UNDO_BYTES = 64, 512, 128


def ipc_limits(memory_mb: int, max_processes: int) -> dict[str, str]:
    """The System V IPC limits (kernel.* sysctls) of the sandbox's own IPC namespace: shared
    memory, message queues and semaphores each hold at most `memory_mb` of RAM.

    A semaphore set costs its array once and, for every process that changes it with SEM_UNDO,
    an undo record: 100 processes each touching 4000 sets of 128 held 264 MB under a 64 MB cap
    (IPC attacker review). So sets are bounded by the sandbox's process cap as well: half the
    budget for the undo records of `max_processes` processes on every set, half for the arrays."""
    budget = memory_mb << 20
    half = budget // 2
    sets = max(1, min(32000, half // (max(1, max_processes) * (UNDO_BYTES + 2 * SEMMSL))))
    semaphores = max(1, min(sets * SEMMSL, (half - sets * SET_BYTES) // SEMAPHORE_BYTES))
    return {
        "shmmax": str(budget),  # one segment, bytes
        "shmall": str(budget // (os.sysconf("SC_PAGE_SIZE") or 4096)),  # all segments, pages
        # A queue holds msgmnb bytes, or as many 1-byte messages at 64 bytes of kernel memory each.
        "msgmnb": "16384",
        "msgmni": str(max(1, min(32000, budget // (64 * 16384)))),
        "sem": f"{SEMMSL} {semaphores} 500 {sets}",  # SEMMSL SEMMNS SEMOPM SEMMNI
    }


# Run by thau's own Python, outside the sandbox: a new IPC namespace (and, for a normal user,
# the user namespace that owns it, mapping the user to its root), its limits lowered through
# /proc/sys, then bubblewrap exec'd inside it. Those limits belong to the namespace and only
# its owner may write them: bubblewrap's own --unshare-ipc left the kernel's defaults (a
# segment of 16 EiB; 32000 queues of 1 MB; 64 GB of semaphores) and offers no way to set them.
_LOWER_IPC_LIMITS = """
import ctypes, os, sys
uid, gid, args = os.getuid(), os.getgid(), sys.argv[1:]
try:
    if ctypes.CDLL(None, use_errno=True).unshare(0x08000000 | (0x10000000 if uid else 0)):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), "unshare")
    if uid:
        for name, value in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open("/proc/self/" + name, "w") as file:
                file.write(value)
    end = args.index("--")
    for pair in args[:end]:
        name, value = pair.split("=", 1)
        with open("/proc/sys/kernel/" + name, "w") as file:
            file.write(value)
    os.execv(args[end + 1], args[end + 1 :])
except OSError as exc:
    sys.exit(f"thau: the sandbox's System V IPC limits could not be set: {exc}")
"""


def ipc_launcher(memory_mb: int, max_processes: int) -> list[str]:
    """The argv before bubblewrap's that runs it in an IPC namespace capped at `memory_mb`
    (with at most `max_processes` processes in the sandbox)."""
    pairs = [f"{name}={value}" for name, value in ipc_limits(memory_mb, max_processes).items()]
    return [sys.executable, "-I", "-S", "-c", _LOWER_IPC_LIMITS, *pairs, "--"]
