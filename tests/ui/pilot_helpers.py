"""What the UI tests share: waiting for the app, a few frames at a time."""

from __future__ import annotations

import time


async def wait_until(pilot, condition, timeout: float = 60.0, what: str = "the condition", step: float = 0.05) -> None:
    """Poll the app until `condition()` holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(step)
