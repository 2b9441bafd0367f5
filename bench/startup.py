"""Startup: process start to first frame, and to model ready (headless, real app).

Each sample is a fresh Python process; the interpreter's own start-up (python -c pass)
is measured in the same run for reference.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import time
t0 = time.perf_counter()
import asyncio, json, os, sys, tempfile
sys.path.insert(0, %r)
os.environ.setdefault("THAU_HOME", tempfile.mkdtemp())
from thau_tui.config import Config, ConfigResult
from thau_tui.ui.app import ThauApp

async def main():
    app = ThauApp(ConfigResult(Config(), None), watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.first_frame_s is None:
            await pilot.pause(0.005)
        first = time.perf_counter() - t0
        while app.model_ready_s is None:
            await pilot.pause(0.01)
        ready = time.perf_counter() - t0
    print(json.dumps({"first_frame": first, "model_ready": ready}))

asyncio.run(main())
"""


def run(code: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - started, out


def main(samples: int = 3) -> None:
    base, firsts, readies = [], [], []
    for _ in range(samples):
        base.append(run("pass")[0])
        _, out = run(CHILD % str(ROOT))
        data = json.loads(out.strip().splitlines()[-1])
        firsts.append(data["first_frame"])
        readies.append(data["model_ready"])
    print(f"python -c pass:          {statistics.median(base) * 1000:.0f} ms")
    print(f"thau first frame:        {statistics.median(firsts) * 1000:.0f} ms after the interpreter started")
    print(f"thau model ready:        {statistics.median(readies) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
