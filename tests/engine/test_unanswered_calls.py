"""Every call of an answer gets a result before the turn ends, as a reopened chat's would:
a turn that ended before a call ran (Esc, the round limit, the backend failing) left the
call without one, so reopening added "thau stopped while it waited for your approval" (false:
nothing had asked) and the model's next prompt differed live and reopened (read-through review)."""

from __future__ import annotations

import asyncio

from test_agent_loop import call, make_agent, run

from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.events import ApprovalRequested, Decision
from thau_tui.engine.recovery import unanswered_calls


def _same_reopened(agent, session) -> None:
    live = agent.render_prompt(session)
    reopened = agent.load_session(session.id)
    assert agent.render_prompt(reopened) == live
    assert not unanswered_calls(reopened.messages, agent.dialect)


async def test_the_round_limit_answers_the_call_it_did_not_run(tmp_path):
    agent, backend, store = make_agent([call("peek", what="1"), call("peek", what="2"), "never"], tmp_path)
    agent.config.generation.max_tool_rounds = 1
    session = agent.new_session()
    await run(agent, session, "go")
    last = session.messages[-1]
    assert last["role"] == "tool" and "not run: the turn stopped after 1 tool rounds" in last["content"]
    assert last["meta"]["not_run"].startswith("the turn stopped") and last["meta"]["arguments"] == {"what": "2"}
    _same_reopened(agent, session)
    stored = store.messages(session.id)[-1]
    assert stored["meta"].get("not_run") and not stored["meta"].get("interrupted")


async def test_esc_at_the_first_of_two_cards_answers_both(tmp_path):
    agent, backend, _ = make_agent([call("echo", text="1") + call("echo", text="2"), "never"], tmp_path)
    session = agent.new_session()
    async for event in agent.run_turn(session, "go"):
        if isinstance(event, ApprovalRequested):
            agent.cancel()
    results = [m for m in session.messages if m["role"] == "tool"]
    assert len(results) == 2
    assert "not run: the user stopped the turn before this call ran" in results[1]["content"]
    _same_reopened(agent, session)
    # the next turn's prompt carries both results, so the model never sees a call left open
    backend.replies.append("fine")
    await run(agent, session, "and now?", decide=lambda e: Decision("once"))
    assert backend.prompts[-1].count("<tool_response>") == 2


async def test_esc_inside_a_call_block_closes_the_half_written_call(tmp_path):
    agent, backend, _ = make_agent(["Sure. " + call("echo", text="x" * 400), "never"], tmp_path)
    backend.delay = 0.01
    session = agent.new_session()

    async def stop() -> None:
        await asyncio.sleep(0.3)  # ~90 of the answer's 430 characters: inside the call's JSON
        agent.cancel()

    stopper = asyncio.create_task(stop())
    await run(agent, session, "go")
    await stopper
    answer = next(m for m in session.messages if m["role"] == "assistant")
    assert "<tool_call>" in answer["content"] and "</tool_call>" not in answer["content"], "cancel came elsewhere"
    assert session.messages[-1]["meta"]["tool"] == "echo"  # the note names it: "unknown" said nothing
    assert session.messages[-1]["role"] == "tool" and "not run" in session.messages[-1]["content"]
    _same_reopened(agent, session)


def test_a_native_answers_calls_are_found_by_the_servers_ids():
    wire = [{"id": "a1", "name": "peek", "arguments": "{}"}, {"id": "b2", "name": "echo", "arguments": "{}"}]
    messages = [
        {"role": "user", "content": "x", "meta": {}},
        {"role": "assistant", "content": "", "meta": {"tool_calls": wire}},
        {"role": "tool", "content": "peeked", "meta": {"tool_call_id": "a1"}},
    ]
    assert unanswered_calls(messages, get_dialect("hermes")) == [{"name": "echo", "tool_call_id": "b2"}]


def test_a_cut_call_is_named_by_its_own_name_key_not_one_in_its_arguments():
    """Cut inside its arguments, {"arguments": {"name": "peek", ...}, "name": "echo"} was put
    down as a peek call, in the reopened note and the model's next prompt (attacker review)."""
    hermes = get_dialect("hermes")

    def cut(text: str) -> list[dict]:
        messages = [{"role": "user", "content": "x", "meta": {}}, {"role": "assistant", "content": text, "meta": {}}]
        return unanswered_calls(messages, hermes)

    assert cut('<tool_call>{"arguments": {"name": "peek", "text": "yyy') == [{"name": "unknown"}]
    assert cut('<tool_call>{"name": "echo", "arguments": {"name": "peek", "te') == [{"name": "echo"}]
    assert cut('<tool_call>{"arguments": {"text": "a\\"}\\"", "name": "peek"}, "name": "echo", "x') == [
        {"name": "echo"}
    ]


def test_the_reopened_chat_says_which_call_was_not_run_and_why():
    from thau_tui.ui.history import interrupted_call_note

    meta = {"tool": "echo", "not_run": "the user stopped the turn before this call ran", "arguments": {"text": "2"}}
    note = interrupted_call_note(meta, None)
    assert note == "echo (text: 2): not run; the user stopped the turn before this call ran"
    assert "waited for your approval" not in note


async def test_esc_while_a_tool_runs_gives_the_model_what_it_printed(tmp_path):
    """The card showed 'error: build failed at step 3'; the model read only 'cancelled by the
    user', while after a crash it gets the output's end (read-through review)."""
    from scripted import ScriptedBackend

    from thau_tui.config import Config
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.approvals import ApprovalBook
    from thau_tui.engine.events import ToolOutput
    from thau_tui.tools import Tool, ToolRegistry
    from thau_tui.tools.base import ToolResult

    def build(args, ctx):
        ctx.emit("error: build failed at step 3\n")
        ctx.cancel_event.wait(10)
        return ToolResult("error: build failed at step 3\n", ok=False)

    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    registry = ToolRegistry([Tool("build", "Build it", schema, "read", build, summary="build")])
    backend = ScriptedBackend([call("build"), "never"])
    agent = Agent(Config(), registry, approvals=ApprovalBook(None, {}), backend=backend, workspace=tmp_path)
    session = agent.new_session()
    async for event in agent.run_turn(session, "build it"):
        if isinstance(event, ToolOutput):
            agent.cancel()
    result = session.messages[-1]["content"]
    assert "cancelled by the user" in result and "build failed at step 3" in result
