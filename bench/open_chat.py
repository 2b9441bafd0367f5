"""Opening a long saved chat: seconds from the app's start (`--resume`) until the chat's last
answer is drawn and the prompt takes keys, for a chat of N exchanges (every fifth with a
run_shell card), drawn whole against drawn from its latest messages (ui/history.py's
SHOWN_AT_OPEN), alternated in one run on the scripted backend (no model: this is the UI).

Printed: the median seconds of each, and their ratio (whole ÷ latest)."""

from __future__ import annotations

import argparse
import asyncio
import json
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
from thau_tui.ui.widgets.chat import AssistantMessage  # noqa: E402


def build(folder: Path, exchanges: int) -> None:
    store = Store(folder / "sessions.sqlite3")
    sid = store.create_session("long")
    for n in range(exchanges):
        store.add_message(sid, "user", f"question {n}: what is in the file number {n}?")
        if n % 5 == 0:
            call = {"name": "run_shell", "arguments": {"command": f"cat notes/{n}.txt"}}
            store.add_message(sid, "assistant", "<tool_call>" + json.dumps(call) + "</tool_call>")
            store.record_call(sid, f"c{n}", "run_shell", call["arguments"], "done", result=f"line {n}\n" * 5)
            store.add_message(sid, "tool", f"line {n}\n" * 5, {"call_id": f"c{n}", "tool": "run_shell"})
        store.add_message(
            sid, "assistant", f"Answer {n}: it holds **five lines**, each saying `line {n}`.\n\n- one\n- two"
        )
    store.close()


async def open_once(folder: Path, exchanges: int) -> float:
    config = Config()
    config.tools.workspace = str(folder)
    app = ThauApp(
        ConfigResult(config, None, []),
        resume=True,
        store=Store(folder / "sessions.sqlite3"),
        backend=ScriptedBackend([]),
        watch=False,
    )
    start = time.perf_counter()
    async with app.run_test(size=(100, 30)) as pilot:
        last = f"Answer {exchanges - 1}:"
        while not any(m.text.startswith(last) for m in app.chat.query_children(AssistantMessage)):
            await pilot.pause(0.02)
        await pilot.pause()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="thau-open-"))
    build(folder, args.exchanges)
    shown = history.SHOWN_AT_OPEN
    times: dict[str, list[float]] = {"whole": [], "latest": []}
    for _ in range(args.rounds):
        for how in ("whole", "latest"):
            history.SHOWN_AT_OPEN = 10**9 if how == "whole" else shown
            times[how].append(asyncio.run(open_once(folder, args.exchanges)))
    whole, latest = _common.median(times["whole"]), _common.median(times["latest"])
    print(f"{args.exchanges} exchanges, {args.rounds} rounds alternated (SHOWN_AT_OPEN {shown} messages)")
    print(f"  drawn whole:  {whole:6.2f} s  {[round(t, 2) for t in times['whole']]}")
    print(f"  latest first: {latest:6.2f} s  {[round(t, 2) for t in times['latest']]}")
    print(f"  ratio whole / latest: {whole / latest:.1f}x")


if __name__ == "__main__":
    main()
