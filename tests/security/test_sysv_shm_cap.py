"""System V IPC inside the real sandbox is capped at tools.shell.memory_mb (sandbox memory review).

Shared memory segments, message queues and semaphores are RAM that no process's cap counts:
under a 64 MB cap a command held 192 MB of segments, created and detached one by one. Each
test allocates for real, past the cap, in real bash or Python inside real bubblewrap.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from thau_tui.config import Config
from thau_tui.tools.base import ToolContext
from thau_tui.tools.python import run_python
from thau_tui.tools.sandbox import sandbox_kind, sandbox_status
from thau_tui.tools.shell import ShellSandbox

CAP_MB = 64

# Segments of 32 MB, each filled (so the RAM is really taken) and detached, as the attack did:
# attached one at a time, no process's address space ever holds more than one.
HOLD_SEGMENTS = textwrap.dedent(
    """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    held = 0
    for _ in range(6):
        segment = libc.shmget(0, 32 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
        if segment < 0:
            print("refused errno", ctypes.get_errno())
            break
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, 32 << 20)
        libc.shmdt(ctypes.c_void_p(address))
        held += 32
    print("held", held, "MB")
    """
)


@pytest.fixture(autouse=True)
def _bubblewrap(canary):
    kind, why = sandbox_kind(None)
    assert kind == "bwrap", f"these tests need bubblewrap (apt-get install bubblewrap): {why}"


@pytest.fixture
def capped():
    config = Config()
    config.tools.shell.memory_mb = CAP_MB
    return config


def _held_mb(output: str) -> int:
    return int(output.split("held ")[1].split()[0])


def _run_in_shell(workspace: Path, config: Config, script: str) -> str:
    (workspace / "attack.py").write_text(script)
    shell = ShellSandbox(workspace, config)
    try:
        return shell.run(f"{sys.executable} attack.py").output
    finally:
        shell.close()


def test_shared_memory_past_the_cap_is_refused_in_the_shell(workspace, capped):
    output = _run_in_shell(workspace, capped, HOLD_SEGMENTS)
    assert "refused errno 28" in output, output  # ENOSPC: kernel.shmall of the sandbox's namespace
    assert _held_mb(output) <= CAP_MB, output
    assert f"System V IPC <= {CAP_MB} MB a kind" in sandbox_status(capped)  # thau doctor says so


def test_shared_memory_past_the_cap_is_refused_in_run_python(workspace, capped):
    output = run_python({"code": HOLD_SEGMENTS}, ToolContext(workspace, capped)).output
    assert "refused errno 28" in output, output
    assert _held_mb(output) <= CAP_MB, output


def test_a_command_cannot_lift_the_cap(workspace, capped):
    """The limits are the namespace's: raising them back through /proc/sys, or making a fresh
    IPC namespace with the kernel's defaults (`unshare -Ui`, through a new user namespace)
    and holding 96 MB there, are both refused."""
    script = textwrap.dedent(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            with open("/proc/sys/kernel/shmall", "w") as file:
                file.write("18446744073692774399")
            print("raised")
        except OSError as exc:
            print("write refused", exc.errno)
        if libc.unshare(0x10000000 | 0x08000000):  # CLONE_NEWUSER | CLONE_NEWIPC
            print("unshare refused", ctypes.get_errno())
        else:
            print("fresh segment", libc.shmget(0, 96 << 20, 0o1600))
        """
    )
    output = _run_in_shell(workspace, capped, script)
    assert "write refused" in output and "raised" not in output, output
    assert "unshare refused" in output and "fresh segment" not in output, output


def test_message_queues_and_semaphores_are_capped_too(workspace, capped):
    """A queue holds up to 1 MB of kernel memory (16384 one-byte messages at 64 bytes each), a
    semaphore 64 bytes: the kernel's defaults allowed 32000 queues and a billion semaphores."""
    script = textwrap.dedent(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        queues = 0
        while queues < 100 and libc.msgget(0, 0o1600) >= 0:
            queues += 1
        sets = 0
        while sets < 8000 and libc.semget(0, 250, 0o1600) >= 0:  # 8000 sets of 250: 122 MB of semaphores
            sets += 1
        print("queues", queues, "semaphore MB", sets * 250 * 64 >> 20)
        """
    )
    output = _run_in_shell(workspace, capped, script)
    words = output.split()
    queues, semaphore_mb = int(words[words.index("queues") + 1]), int(words[words.index("MB") + 1])
    assert 0 < queues <= CAP_MB, output  # 1 MB a queue at most
    assert 0 < semaphore_mb <= CAP_MB, output


def test_semaphore_undo_records_are_bounded_by_the_process_cap_too(workspace, capped):
    """Every process that changes a set with SEM_UNDO gets an undo record for it, which no cap
    counts: 100 processes touching 4000 sets of 128 held 264 MB of kernel memory under a 64 MB
    cap (IPC attacker review). The sandbox's limits, read inside it, keep the undo records of
    max_processes processes on every set, and the arrays, within the cap."""
    output = _run_in_shell(workspace, capped, 'print("sem", open("/proc/sys/kernel/sem").read())')
    per_set, semaphores, _ops, sets = (int(word) for word in output.split("sem", 1)[1].split()[:4])
    processes = capped.tools.shell.max_processes
    undo = processes * sets * (128 + 2 * per_set)  # a record's header and 2 bytes a semaphore
    arrays = semaphores * 64 + sets * 512
    assert undo + arrays <= CAP_MB << 20, (output, undo >> 20, arrays >> 20)
    assert per_set >= 17 and sets >= 8, output  # PostgreSQL's sets still fit
