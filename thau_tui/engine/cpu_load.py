"""How many cores other processes keep busy, so the model never fights them for a core.

llama.cpp's threads wait for each other at every step; with one of them on a core that
another process holds, the whole decode stalls (measured on 2 cores beside one busy
process: answers paused for seconds mid-stream, and a 610-token prompt took 31 s to read
instead of 2 s). `CpuSampler.others_busy()` reads the machine's busy time (/proc/stat)
minus this process's own (/proc/self/stat) over the last second (a sampling thread keeps
readings; without one, since the previous reading): the cores the rest of the machine
uses. Linux only; elsewhere it answers None and thau keeps
the configured threads.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

MIN_WINDOW_S = 0.2  # a shorter window says more about scheduling noise than about load
# The load that counts is the last second's: averaged since the last answer, a test run in
# the shell (its own processes) left the next answer on one thread after it had ended, and
# so did another program's finished burst (bench/stream_overhead.py's sides taking turns).
RECENT_S = 1.0
SAMPLE_EVERY_S = 0.25  # a daemon thread's readings, so a recent window is always at hand


def _machine_busy_ticks() -> int | None:
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait
    values = [int(v) for v in fields[1:9]]
    return sum(values) - values[3] - values[4]


def _own_ticks() -> int | None:
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime of every thread of this process


class CpuSampler:
    """Cores busy with other processes since the last call (None: unknown)."""

    def __init__(
        self,
        machine: Callable[[], int | None] = _machine_busy_ticks,
        own: Callable[[], int | None] = _own_ticks,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._machine, self._own, self._clock, self._sleep = machine, own, clock, sleep
        self._ticks_per_s = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.last_busy: float | None = None
        self._last = self.reading()
        self._recent: deque[tuple[float, int, int]] = deque(maxlen=int(RECENT_S / SAMPLE_EVERY_S) + 2)

    def sample(self) -> None:
        """Keep a reading for a later recent window (the sampling thread calls this)."""
        if (now := self.reading()) is not None:
            self._recent.append(now)

    def start_sampling(self) -> None:
        """Take a reading every SAMPLE_EVERY_S on a daemon thread, for as long as this
        sampler is in use (the thread ends once it is dropped)."""
        if self._last is None:  # no /proc here: nothing to sample
            return
        ref = weakref.ref(self)

        def run() -> None:
            while (sampler := ref()) is not None:
                sampler.sample()
                del sampler
                time.sleep(SAMPLE_EVERY_S)

        threading.Thread(target=run, name="thau-cpu-load", daemon=True).start()

    def reading(self) -> tuple[float, int, int] | None:
        machine, own = self._machine(), self._own()
        if machine is None or own is None:
            return None
        return self._clock(), machine, own

    def others_busy(self) -> float | None:
        now = self.reading()
        if now is None:
            return None
        if self._last is None:
            self._last = now
            return self.last_busy
        if now[0] - self._last[0] > RECENT_S:  # the oldest sample of the last second, if any
            recent = [r for r in list(self._recent) if MIN_WINDOW_S <= now[0] - r[0] <= RECENT_S]
            if recent:
                self._last = recent[0]
        if now[0] - self._last[0] < MIN_WINDOW_S:
            if self.last_busy is not None:
                return self.last_busy
            # No figure yet: a generation right after the model loaded (from the page cache
            # that can take less than the window). Wait the window out once, or it would
            # take every core beside a busy one (an eval's first case stalled 300 s so).
            self._sleep(MIN_WINDOW_S - (now[0] - self._last[0]))
            now = self.reading()
            if now is None:
                return None
        seconds = now[0] - self._last[0]
        others = (now[1] - self._last[1]) - (now[2] - self._last[2])
        self._last = now
        self.last_busy = max(0.0, others / self._ticks_per_s / seconds)
        return self.last_busy


def threads_for(wanted: int, others_busy: float | None, cores: int | None = None) -> int:
    """`wanted` threads, fewer when other processes hold cores (at least one)."""
    if others_busy is None:
        return wanted
    cores = cores or os.cpu_count() or 1
    free = int(cores - others_busy + 0.5)
    return max(1, min(wanted, free))
