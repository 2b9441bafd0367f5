"""The sandbox's System V IPC limits. Shared memory segments, message queues and semaphores
are RAM that no process's memory cap counts: under a 64 MB cap a command held 192 MB of
segments, and the kernel's defaults allow far more in queues and semaphores (sandbox memory
review). The limits belong to an IPC namespace and only its owner may set them, so
`ipc_launcher` runs bubblewrap inside one it made and capped (thau_tui/tools/sandbox.py)."""

from __future__ import annotations

import os
import sys


def ipc_limits(memory_mb: int) -> dict[str, str]:
    """The System V IPC limits (kernel.* sysctls) of the sandbox's own IPC namespace: shared
    memory, message queues and semaphores each hold at most `memory_mb` of RAM."""
    budget = memory_mb << 20
    return {
        "shmmax": str(budget),  # one segment, bytes
        "shmall": str(budget // (os.sysconf("SC_PAGE_SIZE") or 4096)),  # all segments, pages
        # A queue holds msgmnb bytes, or as many 1-byte messages at 64 bytes of kernel memory each.
        "msgmnb": "16384",
        "msgmni": str(max(1, min(32000, budget // (64 * 16384)))),
        # SEMMSL SEMMNS SEMOPM SEMMNI: a semaphore is 64 bytes, a set about 512; half the budget each.
        "sem": f"32000 {max(1, min(1_024_000_000, budget // 128))} 500 {max(1, min(32000, budget // 1024))}",
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


def ipc_launcher(memory_mb: int) -> list[str]:
    """The argv before bubblewrap's that runs it in an IPC namespace capped at `memory_mb`."""
    pairs = [f"{name}={value}" for name, value in ipc_limits(memory_mb).items()]
    return [sys.executable, "-I", "-S", "-c", _LOWER_IPC_LIMITS, *pairs, "--"]
