"""kill -9 in the middle of a turn: the store keeps the question, the partial answer and
a running call's output, all marked interrupted, and the database stays sound."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.store import Store

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ROOT = Path(__file__).resolve().parents[2]


def start(mode: str, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), mode, str(db)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def poll(child: subprocess.Popen, db: Path, sql: str, timeout: float = 180.0) -> sqlite3.Row:
    """Wait until `sql` (read from a separate connection, as another process would) finds a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, f"the child ended early: {child.communicate()}"
        if db.exists():
            try:
                with sqlite3.connect(db) as reader:
                    reader.row_factory = sqlite3.Row
                    row = reader.execute(sql).fetchone()
            except sqlite3.OperationalError:  # the child is still creating the tables
                row = None
            if row is not None:
                return row
        time.sleep(0.05)
    child.kill()
    raise AssertionError(f"nothing matched {sql!r} within {timeout} s")


def kill(child: subprocess.Popen) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    child.stdout.close()
    child.stderr.close()


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as check:
        return check.execute("PRAGMA integrity_check").fetchone()[0]


def scripted_agent(db: Path, replies=()) -> Agent:
    from crash_child import tools

    return Agent(Config(), tools(), store=Store(db), backend=ScriptedBackend(list(replies)))


def test_kill_9_mid_answer_keeps_the_partial_answer_marked_interrupted(tmp_path):
    """The real bundled model streams a long answer in a child; SIGKILL once the store shows
    part of it."""
    db = tmp_path / "sessions.sqlite3"
    child = start("answer", db)
    row = poll(child, db, "SELECT * FROM messages WHERE role='assistant' AND length(content) > 0")
    kill(child)
    assert integrity(db) == "ok"
    store = Store(db)
    [info] = store.list_sessions()
    messages = store.messages(info.id)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    from crash_child import LONG_QUESTION

    assert messages[0]["content"] == LONG_QUESTION
    answer = messages[1]
    assert answer["id"] == row["id"] and answer["content"].strip()
    assert answer["meta"] == {"interrupted": True}
    # reopening shows it, marked, and the model's next prompt carries it as said
    session = scripted_agent(db).load_session(info.id)
    assert session.messages[-1]["content"] == answer["content"]
    assert session.messages[-1]["meta"]["interrupted"] is True


def test_kill_9_while_a_tool_runs_keeps_its_output_and_tells_the_model(tmp_path):
    db = tmp_path / "sessions.sqlite3"
    child = start("tool", db)
    poll(child, db, "SELECT * FROM tool_calls WHERE status='running' AND result LIKE '%line 3%'", timeout=60)
    sid = child.stdout.readline().strip()
    # while the child lives its turn is its own: loading the chat elsewhere changes nothing
    live = scripted_agent(db).load_session(sid)
    assert [m["role"] for m in live.messages] == ["user", "assistant"]
    assert Store(db).tool_calls(sid)[0]["status"] == "running"
    kill(child)
    assert integrity(db) == "ok"

    agent = scripted_agent(db, ["It was cut off."])
    session = agent.load_session(sid)
    store = agent.store
    [row] = store.tool_calls(sid)
    assert row["status"] == "interrupted" and "line 0\nline 1\nline 2\nline 3" in row["result"]
    assert [m["role"] for m in session.messages] == ["user", "assistant", "tool"]
    result = session.messages[-1]
    assert result["meta"] == {
        "tool": "drip",
        "ok": False,
        "interrupted": True,
        "call_id": row["id"],
        "dialect": "hermes",
        "was": "running",  # not "proposed": the reopened chat says it ran and was cut short
    }
    assert "did not finish" in result["content"] and "line 3" in result["content"]
    # loading again adds nothing more
    assert len(agent.load_session(sid).messages) == 3

    # the next prompt answers the call before the new question
    async def next_turn():
        return [e async for e in agent.run_turn(session, "what happened?")]

    import asyncio

    asyncio.run(next_turn())
    prompt = agent.backend.prompts[-1]
    assert prompt.index("</tool_call>") < prompt.index("did not finish") < prompt.index("what happened?")


def test_kill_9_during_approval_closes_every_call_of_that_answer(tmp_path):
    db = tmp_path / "sessions.sqlite3"
    child = start("approval", db)
    poll(child, db, "SELECT * FROM tool_calls WHERE status='proposed'", timeout=60)
    sid = child.stdout.readline().strip()
    kill(child)
    agent = scripted_agent(db)
    session = agent.load_session(sid)
    assert [m["role"] for m in session.messages] == ["user", "assistant", "tool", "tool", "tool"]
    first, second, third = (m["content"] for m in session.messages[2:])
    assert "waited for approval, so it did not run" in first
    assert "before this call ran, so it did not run" in second and "before this call ran" in third
    [row] = agent.store.tool_calls(sid)
    assert row["status"] == "interrupted"
    assert json.loads(row["arguments"]) == {"n": 1}
    assert integrity(db) == "ok"
