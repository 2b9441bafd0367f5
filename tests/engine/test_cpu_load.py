"""The model takes fewer threads when other processes hold cores (issue 17, under load)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.cpu_load import CpuSampler, threads_for


def test_threads_follow_the_free_cores():
    assert threads_for(2, 0.0, cores=2) == 2
    assert threads_for(2, 0.9, cores=2) == 1  # one busy process on 2 cores: one thread
    assert threads_for(2, 2.0, cores=2) == 1  # never none
    assert threads_for(4, 1.2, cores=8) == 4  # plenty free: what was configured
    assert threads_for(3, None, cores=2) == 3  # unknown load (not Linux): as configured


def test_the_sampler_counts_other_processes_not_this_one():
    ticks = {"machine": 0, "own": 0, "t": 0.0}
    sampler = CpuSampler(lambda: ticks["machine"], lambda: ticks["own"], lambda: ticks["t"])
    hz = sampler._ticks_per_s
    # One second: the machine was busy for 1.5 cores, 1 of them this process (its own decode).
    ticks.update(machine=int(1.5 * hz), own=hz, t=1.0)
    assert sampler.others_busy() == pytest.approx(0.5, abs=0.02)
    # Too short a window: the previous figure stands.
    ticks.update(machine=int(1.5 * hz) + 50, t=1.05)
    assert sampler.others_busy() == pytest.approx(0.5, abs=0.02)
    # Nothing else ran: no cores busy.
    ticks.update(machine=int(2.5 * hz), own=2 * hz, t=2.0)
    assert sampler.others_busy() == pytest.approx(0.0, abs=0.1)


def test_a_burst_that_ended_before_the_answer_does_not_take_its_threads():
    """Averaged since the last answer, a test run in the shell (10 s on both cores) left the
    next answer on one thread after it had ended. The last second's load counts."""
    ticks = {"machine": 0, "own": 0, "t": 0.0}
    sampler = CpuSampler(lambda: ticks["machine"], lambda: ticks["own"], lambda: ticks["t"])
    hz = sampler._ticks_per_s
    ticks.update(machine=10 * 2 * hz, t=10.0)  # 10 s of two busy cores, not this process's
    sampler.sample()
    for step in range(1, 9):  # then 2 s idle, sampled every 0.25 s
        ticks.update(t=10.0 + 0.25 * step)
        sampler.sample()
    assert sampler.others_busy() == pytest.approx(0.0, abs=0.05)
    assert threads_for(2, sampler.last_busy, cores=2) == 2
    # still busy now: seen over the last second too
    for _ in range(1, 9):
        ticks.update(machine=ticks["machine"] + int(0.25 * 2 * hz), t=ticks["t"] + 0.25)
        sampler.sample()
    assert sampler.others_busy() == pytest.approx(2.0, abs=0.05)
    # without samples (not Linux, or no thread): since the previous reading, as before
    plain = CpuSampler(lambda: ticks["machine"], lambda: ticks["own"], lambda: ticks["t"])
    ticks.update(machine=ticks["machine"] + 2 * hz, t=ticks["t"] + 2.0)
    ticks.update(t=ticks["t"] + 2.0)
    assert plain.others_busy() == pytest.approx(0.5, abs=0.05)


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads /proc (Linux)")
def test_busy_loops_are_seen_and_the_model_decodes_on_one_thread(real_backend):
    cores = os.cpu_count() or 1
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        real_backend._load.others_busy()  # start the window with the loops running
        time.sleep(1.0)
        stats = StreamStats()
        list(real_backend.stream("Hello", SamplingSettings(max_tokens=4, temperature=0.0), stats))
        assert real_backend._load.last_busy >= cores - 1.0
        assert stats.threads == 1 and real_backend.active_threads == 1
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def test_prompts_are_read_on_the_chats_threads_not_every_core(real_backend):
    # llama.cpp's default n_threads_batch is every core: prompt reading spin-waited on a busy
    # machine (a 610-token prompt: 2 s -> 31 s) whatever model.n_threads said.
    assert real_backend.llm.n_threads_batch == real_backend._threads


def test_the_first_reading_waits_out_a_short_window_instead_of_answering_unknown():
    """A generation right after the model loaded (from the page cache, in well under the
    window) must already see a busy machine: the sampler waits the window out once."""
    ticks = {"machine": 0, "own": 0, "t": 0.0}
    slept = []

    def sleep(seconds: float) -> None:  # the machine stays one core busy while we wait
        slept.append(seconds)
        ticks["t"] += seconds
        ticks["machine"] += int(seconds * sampler._ticks_per_s)

    sampler = CpuSampler(lambda: ticks["machine"], lambda: ticks["own"], lambda: ticks["t"], sleep)
    ticks["t"] = 0.01  # the model loaded in 10 ms
    assert sampler.others_busy() == pytest.approx(1.0, abs=0.06)
    assert slept == [pytest.approx(0.19)]
    ticks["t"] += 0.01  # later short windows keep the figure they have, without waiting
    assert sampler.others_busy() == pytest.approx(1.0, abs=0.06) and len(slept) == 1
