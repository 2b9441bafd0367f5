"""A long live chat in the app: RSS, widgets kept and the time of a turn after N exchanges,
with the oldest messages folded into the earlier line (ui/history.py's FOLD_AT) against every
widget kept, each in its own process, alternated in one run, on the scripted backend (no
model: this is the UI).

Printed per side: RSS growth over the run, widgets in the chat at the end, the median
seconds of the first and last 20 turns; and the ratios kept ÷ folded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

sys.path.insert(0, str(_common.ROOT / "tests"))

from scripted import ScriptedBackend  # noqa: E402  (tests/scripted.py: a backend with no model)

from thau_tui.config import Config, ConfigResult  # noqa: E402
from thau_tui.engine.store import Store  # noqa: E402
from thau_tui.ui import history  # noqa: E402
from thau_tui.ui.app import ThauApp  # noqa: E402

ANSWER = "Here is **an answer** with a list:\n\n- one item\n- another item\n\n```python\nprint('hi')\n```\n"


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def one_side(exchanges: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="thau-live-"))
    (folder / "notes.txt").write_text("the notes\n" * 20)
    call = "<tool_call>" + json.dumps({"name": "read_file", "arguments": {"path": "notes.txt"}}) + "</tool_call>"
    replies = []
    for n in range(exchanges):
        replies += [call, ANSWER] if n % 5 == 0 else [ANSWER]
    config = Config()
    config.tools.workspace = str(folder)
    config.ui.sidebar = False
    app = ThauApp(
        ConfigResult(config, None, []),
        store=Store(folder / "db"),
        backend=ScriptedBackend(replies, chunk=40, delay=0),
        watch=False,
    )
    times = []
    async with app.run_test(size=(100, 30)) as pilot:
        while app.agent.backend is None or app.session is None:
            await pilot.pause(0.05)
        start_rss = rss_mb()
        for n in range(exchanges):
            began = time.perf_counter()
            await app.send(f"question {n}: what is in the notes?").wait()
            await pilot.pause()
            times.append(time.perf_counter() - began)
        widgets = len(app.chat.children)
        end_rss = rss_mb()
    return {
        "rss_growth": end_rss - start_rss,
        "widgets": widgets,
        "first": statistics.median(times[:20]),
        "last": statistics.median(times[-20:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=300)
    parser.add_argument("--side", choices=("folded", "kept"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        if args.side == "kept":
            history.FOLD_AT = 10**9
        print(json.dumps(asyncio.run(one_side(args.exchanges))))
        return
    results: dict[str, list[dict]] = {"folded": [], "kept": []}
    for side in ("kept", "folded", "kept", "folded"):
        out = subprocess.run(
            [sys.executable, __file__, "--exchanges", str(args.exchanges), "--side", side],
            capture_output=True,
            text=True,
            check=True,
        )
        results[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for side, runs in results.items():
        pick = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        results[side] = [pick]
        print(
            f"{side:6}: RSS +{pick['rss_growth']:.0f} MB, {pick['widgets']:.0f} widgets at the end, "
            f"a turn {pick['first'] * 1000:.0f} ms at first, {pick['last'] * 1000:.0f} ms last"
        )
    kept, folded = results["kept"][0], results["folded"][0]
    print(
        f"kept ÷ folded: RSS growth {kept['rss_growth'] / max(folded['rss_growth'], 1):.2f}, "
        f"widgets {kept['widgets'] / folded['widgets']:.2f}, last turns {kept['last'] / folded['last']:.2f}"
    )


if __name__ == "__main__":
    main()
