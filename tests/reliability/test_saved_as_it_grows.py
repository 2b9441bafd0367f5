"""The answer and a running tool's output are saved while they grow (same row, about once a
second), marked interrupted until they complete."""

from __future__ import annotations

import json

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine import agent as agent_module
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import (
    ApprovalRequested,
    Decision,
    TextDelta,
    ToolFinished,
    ToolOutput,
    TurnDone,
)
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, ToolRegistry

SAVE_EVERY_S = 0.25


@pytest.fixture(autouse=True)
def quick_saves(monkeypatch):
    """thau saves a growing answer or output about once a second; here, four times a second,
    so that a stream of about a second shows the same: a few writes, not one per piece."""
    monkeypatch.setattr(agent_module, "SAVE_EVERY_S", SAVE_EVERY_S)


class CountingStore(Store):
    """A real store that counts how often the growing answer is written."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.updates = 0

    def update_message(self, message_id, content, meta=None) -> None:
        self.updates += 1
        super().update_message(message_id, content, meta)


async def test_the_answer_is_saved_while_it_streams_in_one_row(tmp_path):
    words = "".join(f"word{i} " for i in range(100))  # ~230 chunks of 3 chars, 5 ms each: over a second
    store = CountingStore(tmp_path / "db.sqlite3")
    agent = Agent(
        Config(), ToolRegistry(), store=store, backend=ScriptedBackend([words], delay=0.005), workspace=tmp_path
    )
    session = agent.new_session()
    seen_while_streaming = []
    async for event in agent.run_turn(session, "count"):
        if isinstance(event, TextDelta):
            stored = [m for m in store.messages(session.id) if m["role"] == "assistant"]
            seen_while_streaming.append(stored[0] if stored else None)
        if isinstance(event, TurnDone):
            seconds = event.stats.seconds
    # saved from the first words on (each piece is shown, then saved), marked interrupted,
    # growing in place
    assert seen_while_streaming[0] is None
    first = seen_while_streaming[1]
    assert first is not None and first["content"] and first["meta"] == {"interrupted": True}
    assert {m["id"] for m in seen_while_streaming[1:]} == {first["id"]}
    lengths = [len(m["content"]) for m in seen_while_streaming[1:]]
    assert lengths == sorted(lengths) and lengths[-1] > lengths[0]
    # at most about once every SAVE_EVERY_S (plus the final write), not once per chunk
    assert seconds > 2 * SAVE_EVERY_S and 2 <= store.updates <= seconds / SAVE_EVERY_S + 2
    # complete: one row, the whole answer, no longer interrupted
    [answer] = [m for m in store.messages(session.id) if m["role"] == "assistant"]
    assert answer["id"] == first["id"] and answer["content"] == words and answer["meta"] == {}


async def test_a_running_tools_output_is_saved_in_its_row(tmp_path):
    import time

    def drip(args, ctx):
        for i in range(10):
            ctx.emit(f"line {i}\n")
            time.sleep(0.1)
        return "dripped"

    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    registry = ToolRegistry([Tool("drip", "Print lines slowly", schema, "exec", drip)])
    call = "<tool_call>" + json.dumps({"name": "drip", "arguments": {}}) + "</tool_call>"
    store = Store(tmp_path / "db.sqlite3")
    agent = Agent(Config(), registry, store=store, backend=ScriptedBackend([call, "done"]), workspace=tmp_path)
    session = agent.new_session()
    rows_while_running = []
    async for event in agent.run_turn(session, "drip"):
        if isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
        if isinstance(event, ToolOutput):
            rows_while_running.append(store.tool_calls(session.id)[0])
        if isinstance(event, ToolFinished):
            assert event.status == "done"
    assert {r["status"] for r in rows_while_running} == {"running"}
    captured = [r["result"] for r in rows_while_running if r["result"]]
    assert captured and captured[-1].startswith("line 0\nline 1\n")
    [row] = store.tool_calls(session.id)
    assert row["status"] == "done" and row["result"] == "dripped"


async def test_output_before_a_silence_is_saved_while_the_tool_still_runs(tmp_path):
    """A command that printed at once and then hung (`echo started; sleep 60`) lost its output
    to a kill -9: only a later chunk saved what came before it (reliability review). The first
    output is saved at once, and what follows it before a silence a moment later."""
    import sqlite3
    import time

    path = tmp_path / "db.sqlite3"
    seen_during_silence: list[str | None] = []

    def hang(args, ctx):
        ctx.emit("started\n")
        time.sleep(0.05)
        ctx.emit("partial-out\n")
        time.sleep(4 * SAVE_EVERY_S)  # silent, as a hung command is; thau could be killed now
        with sqlite3.connect(path) as db:  # what a restart after a kill -9 would read
            seen_during_silence.append(db.execute("SELECT result FROM tool_calls").fetchone()[0])
        return "finished"

    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    registry = ToolRegistry([Tool("hang", "Print, then wait", schema, "exec", hang)])
    call = "<tool_call>" + json.dumps({"name": "hang", "arguments": {}}) + "</tool_call>"
    store = Store(path)
    agent = Agent(Config(), registry, store=store, backend=ScriptedBackend([call, "done"]), workspace=tmp_path)
    session = agent.new_session()
    async for event in agent.run_turn(session, "hang"):
        if isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
    assert seen_during_silence == ["started\npartial-out\n"], seen_during_silence
    assert store.tool_calls(session.id)[0]["result"] == "finished"
