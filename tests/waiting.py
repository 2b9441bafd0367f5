"""Waiting in tests for something to happen: look at a condition until it holds, and fail
with what was awaited after a generous guard. The guard only ends a wait that would hang;
it is never a measure of speed (that is bench/'s job)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(
    pilot, condition: Callable[[], object], timeout: float = 60.0, what: str = "the condition", step: float = 0.05
) -> None:
    """Look at `condition()` until it holds, letting the app run between looks
    (`pilot.pause`; with no pilot, the event loop: `asyncio.sleep`)."""
    pause = asyncio.sleep if pilot is None else pilot.pause
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pause(step)


def wait_until_sync(
    condition: Callable[[], object], timeout: float = 60.0, what: str = "the condition", step: float = 0.05
) -> None:
    """`wait_until` for a test with no event loop: this thread sleeps between looks."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
