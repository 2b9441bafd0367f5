"""A call the user asked for directly (e.g. re-run an image), moved out of agent.py: no
model and no approval round, the same events and storage as a model's call."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, AsyncIterator

from ..tools.base import ToolCall, ToolResult
from .events import Decision, Event, ToolCallInvalid, ToolCallProposed, ToolFinished, ToolStarted, ToolStatus
from .session import ChatSession
from .tool_steps import Outcome, ToolRun, ToolSteps

if TYPE_CHECKING:
    from .agent import Agent


async def run_user_call(
    agent: Agent, session: ChatSession, call: ToolCall, save_every_s: float
) -> AsyncIterator[Event]:
    """Run `call` in `session` as if approved once by the user, yielding the call's events;
    a running tool's output is saved every `save_every_s` seconds while it grows."""
    agent._cancel = threading.Event()
    agent.saving.new_turn()
    tool = agent.registry.get(call.name)
    yield ToolCallProposed(call, tool.risk_here(agent.config)[0] if tool else "exec")
    errors = agent.registry.validate(call)
    if errors:
        yield ToolCallInvalid(call, errors)
        return
    yield ToolStarted(call, Decision("once", by="user"))
    ran = Outcome(ToolRun(ToolResult("no result", ok=False)))
    async for event in ToolSteps(agent, session, save_every_s).run_saving_output(call, ran):
        yield event
    result, seconds = ran.value.result, ran.value.seconds
    status: ToolStatus = "cancelled" if agent._cancel.is_set() else "done" if result.ok else "failed"
    if agent.store:
        agent._save(
            f"the {call.name} call",
            agent.store.record_call,
            session.id,
            call.id,
            call.name,
            call.arguments,
            status,
            result=result.output,
        )
        agent._save(f"the {call.name} call", agent.store.record_decision, session.id, call.id, "once", "user")
    yield ToolFinished(call, result, status, seconds)
    for error in agent._store_errors():
        yield error
