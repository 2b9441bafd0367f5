"""A thau turn in a child process, for the kill -9 tests: `python crash_child.py MODE DB`.

MODE "answer": the real bundled model writes a long answer (no tools).
MODE "tool": a scripted model calls `drip` (prints a line every 0.1 s for a minute).
MODE "approval": a scripted model makes three calls; the first waits for an approval
that never comes.
Prints the session id, then runs the turn until the parent kills it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: scripted.py

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import ApprovalRequested, Decision
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, ToolRegistry

LONG_QUESTION = "Write a very long story about a lighthouse keeper and the sea. Make it as long as you can."


def drip(args, ctx):
    for i in range(600):
        ctx.emit(f"line {i}\n")
        time.sleep(0.1)
        if ctx.cancelled:
            break
    return "dripped"


def tools() -> ToolRegistry:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    return ToolRegistry([Tool("drip", "Print lines slowly", schema, "exec", drip, summary="print lines")])


def call(name: str, **args) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"


def main(mode: str, db: str) -> None:
    config = Config()
    store = Store(db)
    book = ApprovalBook(Path(db).with_suffix(".approvals.json"), {})
    if mode == "answer":
        from thau_tui.engine.backend import LlamaBackend
        from thau_tui.paths import bundled_model

        config.generation.max_tokens = 3000
        config.generation.temperature = 0.7
        backend = LlamaBackend(bundled_model(), n_ctx=4096, seed=1)
        agent = Agent(config, ToolRegistry(), approvals=book, store=store, backend=backend)
        question = LONG_QUESTION
    else:
        from scripted import ScriptedBackend

        replies = {
            "tool": ["Dripping. " + call("drip", n=1)],
            "approval": ["Three. " + call("drip", n=1) + call("drip", n=2) + call("drip", n=3)],
        }[mode]
        agent = Agent(config, tools(), approvals=book, store=store, backend=ScriptedBackend(replies))
        question = "drip please"
    session = agent.new_session()
    print(session.id, flush=True)

    async def turn() -> None:
        async for event in agent.run_turn(session, question):
            if isinstance(event, ApprovalRequested) and mode == "tool":
                event.future.set_result(Decision("once"))

    asyncio.run(turn())
    print("turn ended", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
