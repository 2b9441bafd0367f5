"""One odd string must not poison anything: a file name that is not UTF-8, lone surrogates,
an error in the middle of a store transaction, a tool or a store that throws."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import (
    ApprovalRequested,
    Decision,
    Error,
    ToolCallProposed,
    ToolFinished,
    TurnDone,
)
from thau_tui.engine.store import Store, StoreError, storable
from thau_tui.tools import Tool, ToolContext, ToolRegistry, build_registry

LATIN1_NAME = b"caf\xe9.txt"  # 'café.txt' in Latin-1: not UTF-8


def call(name: str, **args) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"


@pytest.fixture
def latin1_workspace(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fd = os.open(os.path.join(os.fsencode(workspace), LATIN1_NAME), os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"needle in a latin-1 named file\n")
    os.close(fd)
    (workspace / "plain.txt").write_text("hello\n")
    return workspace


def test_list_directory_and_search_code_show_a_non_utf8_name_as_text(latin1_workspace):
    registry = build_registry()
    context = ToolContext(workspace=latin1_workspace, config=Config())
    listing = registry.get("list_directory").run({"path": "."}, context)
    assert listing.ok, listing.output
    assert "caf\ufffd.txt  (" in listing.output and "plain.txt" in listing.output
    listing.output.encode("utf-8")  # no lone surrogates left
    found = registry.get("search_code").run({"pattern": "needle"}, context)
    assert found.ok and "caf\ufffd.txt:1: needle" in found.output
    found.output.encode("utf-8")


def test_a_tools_output_and_streamed_chunks_are_made_storable(tmp_path):
    chunks = []

    def odd(args, ctx):
        ctx.emit("chunk \udce9\n")
        return "result \ud800 end"

    tool = Tool("odd", "odd text", {"type": "object", "properties": {}}, "read", odd)
    result = tool.run({}, ToolContext(workspace=tmp_path, on_output=chunks.append))
    assert result.output == "result \ufffd end" and chunks == ["chunk \ufffd\n"]


async def test_the_agent_lists_a_non_utf8_name_stores_it_and_feeds_it_back(latin1_workspace, tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    backend = ScriptedBackend([call("list_directory", path="."), "There is a cafe file."])
    agent = Agent(Config(), build_registry(), store=store, backend=backend, workspace=latin1_workspace)
    session = agent.new_session()
    events = [e async for e in agent.run_turn(session, "what is here?")]
    assert not [e for e in events if isinstance(e, Error)]
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "done" and "caf\ufffd.txt" in finished.result.output
    assert isinstance(events[-1], TurnDone)
    [row] = store.tool_calls(session.id)
    assert row["status"] == "done" and "caf\ufffd.txt" in row["result"]
    assert "caf\ufffd.txt" in backend.prompts[-1]
    assert [m["role"] for m in store.messages(session.id)] == ["user", "assistant", "tool", "assistant"]


def test_storable_replaces_lone_surrogates_only():
    assert storable("caf\udce9 \ud800x \U0001f600 é") == "caf\ufffd \ufffdx \U0001f600 é"
    assert storable("plain") == "plain" and storable(None) == "" and storable(3) == "3"


def test_every_text_the_store_takes_is_made_storable(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    sid = store.create_session("title \udce9")
    store.add_message(sid, "user", "question \udce9", {"note": "\ud800"})
    store.record_call(sid, "c1", "list_directory", {"path": "caf\udce9"}, "done", result="caf\udce9.txt")
    store.record_decision(sid, "c1", "deny", reason="why \udce9", arguments={"path": "caf\udce9"})
    [message] = store.messages(sid)
    assert message["content"] == "question \ufffd" and message["meta"] == {"note": "\ufffd"}
    [row] = store.tool_calls(sid)
    assert row["result"] == "caf\ufffd.txt" and json.loads(row["arguments"]) == {"path": "caf\ufffd"}
    assert store.decisions(sid)[0]["reason"] == "why \ufffd"
    assert store.get_session(sid).title == "title \ufffd"


class FailingConnection:
    """A real connection that raises, once armed, on statements starting with `prefix`."""

    def __init__(self, db: sqlite3.Connection, prefix: str, error: Exception, times: int = 1) -> None:
        self._db, self.prefix, self.error, self.times = db, prefix, error, times

    def execute(self, sql: str, args=()):
        if self.times and sql.lstrip().upper().startswith(self.prefix):
            self.times -= 1
            raise self.error
        return self._db.execute(sql, args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_an_error_mid_transaction_rolls_back_and_the_connection_stays_usable(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    sid = store.create_session()
    # add_message: BEGIN, SELECT, INSERT, then this UPDATE fails
    store._db = FailingConnection(store._db, "UPDATE SESSIONS", sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(StoreError, match="disk I/O error"):
        store.add_message(sid, "user", "lost")
    assert not store._db.in_transaction
    assert store.messages(sid) == []  # the INSERT before the failure was rolled back
    store.add_message(sid, "user", "kept")
    store.record_call(sid, "c1", "x", {}, "done")
    assert [m["content"] for m in store.messages(sid)] == ["kept"]
    assert len(store.tool_calls(sid)) == 1


def _echo_registry(function=None) -> ToolRegistry:
    schema = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    }
    return ToolRegistry([Tool("echo", "Echo", schema, "read", function or (lambda a, c: f"ECHO {a['text']}"))])


async def test_a_store_that_throws_on_a_call_still_ends_the_card_and_the_turn(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    backend = ScriptedBackend([call("echo", text="hi"), "done"])
    agent = Agent(Config(), _echo_registry(), store=store, backend=backend, workspace=tmp_path)
    session = agent.new_session()
    # every write of the call's row fails (think: UnicodeEncodeError, a bug, a locked file)
    store._db = FailingConnection(store._db, "INSERT INTO TOOL_CALLS", ValueError("cannot store this"), times=99)
    events = await asyncio.wait_for(_collect(agent, session, "echo hi"), 30)
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert len(finished) == 1 and finished[0].status == "done" and finished[0].result.output == "ECHO hi"
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and all("was not saved" in m and "cannot store this" in m for m in errors)
    assert isinstance(events[-1], TurnDone)
    # the rest of the chat was saved, and the store still works
    assert [m["role"] for m in store.messages(session.id)] == ["user", "assistant", "tool", "assistant"]


async def test_a_tool_that_escapes_tool_run_still_ends_its_card(tmp_path):
    def exits(args, ctx):
        raise SystemExit(3)  # not an Exception: Tool.run lets it through

    backend = ScriptedBackend([call("echo", text="hi"), "it failed"])
    agent = Agent(
        Config(), _echo_registry(exits), store=Store(tmp_path / "db.sqlite3"), backend=backend, workspace=tmp_path
    )
    session = agent.new_session()
    events = await asyncio.wait_for(_collect(agent, session, "echo hi"), 30)
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "failed" and "SystemExit" in finished.result.output
    assert agent.store.tool_calls(session.id)[0]["status"] == "failed"
    assert isinstance(events[-1], TurnDone)


async def test_a_call_with_lone_surrogates_in_its_arguments_is_shown_and_stored_as_text(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    raw = '<tool_call>{"name": "echo", "arguments": {"text": "caf\\udce9"}}</tool_call>'
    backend = ScriptedBackend([raw, "done"])
    agent = Agent(Config(), _echo_registry(), store=store, backend=backend, workspace=tmp_path)
    session = agent.new_session()
    events = await asyncio.wait_for(_collect(agent, session, "echo"), 30)
    proposed = next(e for e in events if isinstance(e, ToolCallProposed))
    assert proposed.call.arguments == {"text": "caf\ufffd"}
    assert next(e for e in events if isinstance(e, ToolFinished)).result.output == "ECHO caf\ufffd"
    assert not [e for e in events if isinstance(e, Error)]
    assert json.loads(store.tool_calls(session.id)[0]["arguments"]) == {"text": "caf\ufffd"}


async def _collect(agent, session, text):
    events = []
    async for event in agent.run_turn(session, text):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
    return events


async def test_an_answer_with_a_lone_surrogate_does_not_stop_the_next_turn(tmp_path):
    """A server streamed "\\ud800": the draft kept it raw in the chat's history, so every
    later prompt failed ("could not render the prompt: 'utf-8' codec can't encode")."""
    store = Store(tmp_path / "db.sqlite3")
    backend = ScriptedBackend(["caf\ud800 ok", "second answer"])
    agent = Agent(Config(), _echo_registry(), store=store, backend=backend, workspace=tmp_path)
    session = agent.new_session()
    await asyncio.wait_for(_collect(agent, session, "first"), 30)
    assert session.messages[-1]["content"] == "caf\ufffd ok"
    events = await asyncio.wait_for(_collect(agent, session, "second"), 30)
    assert not [e for e in events if isinstance(e, Error)], [e for e in events if isinstance(e, Error)]
    assert session.messages[-1]["content"] == "second answer"


@pytest.mark.parametrize(
    "arguments, why",
    [
        ('{"path": ' + "1" * 5001 + "}", "more than 4300 digits"),
        ('{"prompt": "x", "guidance": NaN}', "NaN is not a JSON number"),
        ('{"steps": Infinity}', "Infinity is not a JSON number"),
    ],
)
def test_numbers_json_cannot_hold_are_an_invalid_call_the_model_reads(arguments, why):
    """On the native path a 5,001-digit number raised ValueError out of the turn
    ("generation failed"); NaN passed schema validation (minimum/maximum compare false)."""
    from thau_tui.engine.dialects import get_dialect
    from thau_tui.engine.native_turn import _Call, _finish_call

    parsed, _wire = _finish_call(_Call("read_file", arguments))
    assert parsed.call is None and why in parsed.error
    (dialect_parsed,) = get_dialect("hermes").parse_calls(
        '<tool_call>{"name": "read_file", "arguments": ' + arguments + "}</tool_call>"
    )
    assert dialect_parsed.call is None and why in dialect_parsed.error
    assert "set_int_max_str_digits" not in dialect_parsed.error
