"""A chat whose first question met a full disk is named once the disk has room again."""

from __future__ import annotations

from scripted import ScriptedBackend
from test_unwritable_and_full import FullDisk

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.session import NEW_CHAT
from thau_tui.engine.store import Store
from thau_tui.tools import ToolRegistry


def _agent(tmp_path, answers: list[str]) -> tuple[Agent, Store, FullDisk]:
    store = Store(tmp_path / "db.sqlite3")
    disk = FullDisk(store._db)
    store._db = disk
    agent = Agent(Config(), ToolRegistry(), store=store, backend=ScriptedBackend(answers), workspace=tmp_path)
    return agent, store, disk


async def test_the_title_is_saved_with_the_question_that_failed_once_space_is_freed(tmp_path, monkeypatch):
    """The title was set in memory and its rename failed quietly; never tried again, since the
    chat no longer read "New chat", so the list showed "New chat" forever (reliability review)."""
    from thau_tui.engine import saving

    monkeypatch.setattr(saving, "RETRY_S", 0.0)  # the next turn tries again at once
    agent, store, disk = _agent(tmp_path, ["First answer.", "Second answer."])
    session = agent.new_session()
    disk.full = True
    [_ async for _ in agent.run_turn(session, "Plan a trip to Lisbon")]
    assert store.get_session(session.id).title == NEW_CHAT  # the disk was full: nothing saved yet
    disk.full = False  # space freed
    [_ async for _ in agent.run_turn(session, "and what to eat there")]
    assert store.get_session(session.id).title == "Plan a trip to Lisbon"
    saved = [m["content"] for m in store.messages(session.id) if m["role"] == "user"]
    assert saved == ["Plan a trip to Lisbon", "and what to eat there"]


async def test_a_name_the_user_gave_meanwhile_is_kept(tmp_path, monkeypatch):
    """The title tried again must not write over a name the user gave the chat after the failure."""
    from thau_tui.engine import saving

    monkeypatch.setattr(saving, "RETRY_S", 0.0)
    agent, store, disk = _agent(tmp_path, ["First answer.", "Second answer."])
    session = agent.new_session()
    disk.full = True
    [_ async for _ in agent.run_turn(session, "Plan a trip to Lisbon")]
    disk.full = False
    store.rename_session(session.id, "Lisbon (mine)")  # the user renames it from the chats panel
    [_ async for _ in agent.run_turn(session, "and what to eat there")]
    assert store.get_session(session.id).title == "Lisbon (mine)"
