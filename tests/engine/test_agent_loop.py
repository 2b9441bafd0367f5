"""The agent loop on a scripted token stream: parsing, validation, approval, feedback."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine import tool_steps
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import (
    ApprovalRequested,
    Decision,
    Error,
    TextDelta,
    ToolCallInvalid,
    ToolCallProposed,
    ToolDenied,
    ToolFinished,
    ToolOutput,
    ToolStarted,
    TurnDone,
)
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, ToolRegistry


def _echo(args, ctx):
    ctx.emit(f"echo:{args['text']}\n")
    return f"ECHO {args['text']}"


def _make_registry() -> ToolRegistry:
    return ToolRegistry(
        [
            Tool(
                "echo",
                "Echo text back",
                {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                    "additionalProperties": False,
                },
                "exec",
                _echo,
                summary="echo text",
            ),
            Tool(
                "peek",
                "Read something",
                {
                    "type": "object",
                    "properties": {"what": {"type": "string"}},
                    "required": ["what"],
                    "additionalProperties": False,
                },
                "read",
                lambda a, c: f"peeked {a['what']}",
                summary="read",
            ),
        ]
    )


def call(name: str, **args) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"


def make_agent(replies, tmp_path, policy=None, **cfg):
    config = Config()
    for key, value in cfg.items():
        setattr(config.generation, key, value)
    store = Store(tmp_path / "db.sqlite3")
    book = ApprovalBook(tmp_path / "approvals.json", policy or {})
    backend = ScriptedBackend(replies)
    agent = Agent(config, _make_registry(), approvals=book, store=store, backend=backend, workspace=tmp_path)
    return agent, backend, store


async def run(agent, session, text, decide=None):
    events = []
    async for event in agent.run_turn(session, text):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            event.future.set_result(decide(event) if decide else Decision("once"))
    return events


async def test_plain_answer_streams_and_is_stored(tmp_path):
    agent, _, store = make_agent(["Hello there, friend."], tmp_path)
    session = agent.new_session()
    events = await run(agent, session, "hi")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Hello there, friend."
    assert sum(isinstance(e, TextDelta) for e in events) > 1
    assert isinstance(events[-1], TurnDone)
    roles = [m["role"] for m in store.messages(session.id)]
    assert roles == ["user", "assistant"]


async def test_call_approved_runs_and_result_feeds_back(tmp_path):
    agent, backend, store = make_agent(["Let me check. " + call("echo", text="hi"), "It said hi."], tmp_path)
    session = agent.new_session()
    events = await run(agent, session, "echo hi")
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ToolCallProposed") < kinds.index("ApprovalRequested") < kinds.index("ToolStarted")
    assert any(isinstance(e, ToolOutput) and "echo:hi" in e.chunk for e in events)
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "done" and finished.result.output == "ECHO hi"
    # the visible text stops before the call, and the result reached the next prompt
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "<tool_call>" not in shown and shown.startswith("Let me check.")
    assert "<tool_response>\nECHO hi\n</tool_response>" in backend.prompts[-1]
    assert [m["role"] for m in store.messages(session.id)] == ["user", "assistant", "tool", "assistant"]
    calls = store.tool_calls(session.id)
    assert calls[0]["status"] == "done" and json.loads(calls[0]["arguments"]) == {"text": "hi"}
    assert store.decisions(session.id)[0]["kind"] == "once"


async def test_read_tool_runs_without_asking(tmp_path):
    agent, _, _ = make_agent([call("peek", what="x"), "done"], tmp_path)
    events = await run(agent, agent.new_session(), "peek")
    assert not any(isinstance(e, ApprovalRequested) for e in events)
    assert next(e for e in events if isinstance(e, ToolFinished)).result.output == "peeked x"


async def test_missing_argument_is_explained_and_not_run(tmp_path):
    agent, backend, _ = make_agent([call("echo"), "sorry"], tmp_path)
    events = await run(agent, agent.new_session(), "echo")
    invalid = next(e for e in events if isinstance(e, ToolCallInvalid))
    assert invalid.errors == ["echo: missing required argument 'text'"]
    assert not any(isinstance(e, ToolStarted) for e in events)
    assert "missing required argument 'text'" in backend.prompts[-1]


async def test_unknown_tool_and_malformed_json(tmp_path):
    agent, backend, _ = make_agent([call("launch_rockets", n=1) + "\n<tool_call>{not json</tool_call>", "ok"], tmp_path)
    events = await run(agent, agent.new_session(), "go")
    invalid = [e for e in events if isinstance(e, ToolCallInvalid)]
    assert len(invalid) == 2
    assert "unknown tool 'launch_rockets'" in invalid[0].errors[0] and "echo" in invalid[0].errors[0]
    assert "malformed JSON" in invalid[1].errors[0]
    assert isinstance(events[-1], TurnDone)


async def test_several_calls_in_one_answer_run_in_order(tmp_path):
    reply = call("echo", text="one") + "\n" + call("echo", text="two")
    agent, backend, _ = make_agent([reply, "both done"], tmp_path)
    events = await run(agent, agent.new_session(), "twice")
    outputs = [e.result.output for e in events if isinstance(e, ToolFinished)]
    assert outputs == ["ECHO one", "ECHO two"]
    prompt = backend.prompts[-1]
    assert prompt.index("ECHO one") < prompt.index("ECHO two")


async def test_deny_with_reason_reaches_the_model(tmp_path):
    agent, backend, store = make_agent([call("echo", text="x"), "fine"], tmp_path)
    session = agent.new_session()
    events = await run(agent, session, "x", decide=lambda e: Decision("deny", reason="not now"))
    denied = next(e for e in events if isinstance(e, ToolDenied))
    assert denied.reason == "not now"
    assert not any(isinstance(e, ToolStarted) for e in events)
    assert "the user denied this call (not now)" in backend.prompts[-1]
    assert store.decisions(session.id)[0]["reason"] == "not now"


async def test_edited_arguments_run_instead(tmp_path):
    agent, backend, store = make_agent([call("echo", text="rm"), "ok"], tmp_path)
    session = agent.new_session()
    events = await run(agent, session, "x", decide=lambda e: Decision("once", arguments={"text": "safe"}))
    assert next(e for e in events if isinstance(e, ToolFinished)).result.output == "ECHO safe"
    assert json.loads(store.decisions(session.id)[0]["arguments"]) == {"text": "safe"}
    # The model read its own call (text "rm") and the edited one's output as if "rm" had
    # run, and the chat's record kept "rm" too (UX walkthrough): both say what ran now.
    assert 'the user edited this call before it ran; it ran as {"text": "safe"}' in backend.prompts[-1]
    assert json.loads(store.tool_calls(session.id)[0]["arguments"]) == {"text": "safe"}


async def test_an_answer_stopped_with_esc_is_saved_as_stopped(tmp_path):
    """Reopened, a stopped answer read as if it were the whole answer (UX walkthrough)."""
    agent, backend, store = make_agent(["The answer goes on and on " * 20], tmp_path)
    backend.delay = 0.01
    session = agent.new_session()

    async def stop_soon() -> None:
        await asyncio.sleep(0.2)
        agent.cancel()

    stopper = asyncio.create_task(stop_soon())
    await run(agent, session, "x")
    await stopper
    saved = [m for m in store.messages(session.id) if m["role"] == "assistant"]
    assert saved and saved[-1]["meta"].get("stopped") is True


async def test_session_approval_is_remembered(tmp_path):
    agent, _, _ = make_agent([call("echo", text="a"), "ok", call("echo", text="b"), "ok"], tmp_path)
    session = agent.new_session()
    first = await run(agent, session, "1", decide=lambda e: Decision("session"))
    second = await run(agent, session, "2")
    assert any(isinstance(e, ApprovalRequested) for e in first)
    assert not any(isinstance(e, ApprovalRequested) for e in second)


async def test_policy_deny_never_asks(tmp_path):
    agent, backend, _ = make_agent([call("echo", text="a"), "ok"], tmp_path, policy={"echo": "deny"})
    events = await run(agent, agent.new_session(), "1")
    assert not any(isinstance(e, ApprovalRequested) for e in events)
    assert "configuration denies" in next(e for e in events if isinstance(e, ToolDenied)).reason
    # nobody pressed a key: the model is not told the user denied it (keyboard review)
    assert "this call was not run (the configuration denies this tool (tools.policy: " in backend.prompts[-1]
    assert "the user denied" not in backend.prompts[-1]


async def test_a_deny_from_every_tools_entry_names_that_entry(tmp_path):
    """With `"*": deny` the refusal said "tools.policy: echo: deny", an entry the file did not
    have (docs review): it names "*"."""
    for policy, named in (({"*": "deny"}, 'tools.policy: "*": deny'), ({"echo": "deny"}, "tools.policy: echo: deny")):
        agent, _, _ = make_agent([call("echo", text="a"), "ok"], tmp_path, policy=policy)
        events = await run(agent, agent.new_session(), "1")
        assert named in next(e for e in events if isinstance(e, ToolDenied)).reason


async def test_repeated_failing_call_ends_the_turn(tmp_path):
    agent, _, _ = make_agent([call("echo")] * 10, tmp_path, max_tool_rounds=20)
    events = await run(agent, agent.new_session(), "loop")
    errors = [e for e in events if isinstance(e, Error)]
    assert errors and "repeating the same failing tool call" in errors[0].message
    assert sum(isinstance(e, ToolCallInvalid) for e in events) == 3


async def test_max_tool_rounds(tmp_path):
    replies = [call("peek", what=str(i)) for i in range(5)]
    agent, _, _ = make_agent(replies, tmp_path, max_tool_rounds=2)
    events = await run(agent, agent.new_session(), "loop")
    assert sum(isinstance(e, ToolFinished) for e in events) == 2
    assert "max_tool_rounds" in next(e for e in events if isinstance(e, Error)).message


async def test_escape_during_approval_cancels_the_turn(tmp_path):
    agent, _, store = make_agent([call("echo", text="a"), "never"], tmp_path)
    session = agent.new_session()
    events = []
    async for event in agent.run_turn(session, "x"):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            agent.cancel()
    assert events[-1].stats.cancelled
    assert not any(isinstance(e, ToolStarted) for e in events)
    assert store.tool_calls(session.id)[0]["status"] == "cancelled"


async def test_approval_timeout_is_a_denial(tmp_path):
    agent, _, _ = make_agent([call("echo", text="a"), "ok"], tmp_path)
    agent.config.tools.approval_timeout = 0.05
    events = [e async for e in agent.run_turn(agent.new_session(), "x")]
    assert "timeout" in next(e for e in events if isinstance(e, ToolDenied)).reason


@pytest.mark.parametrize("dialect", ["thau", "stage3", "functiongemma"])
async def test_other_dialects_drive_the_loop(tmp_path, dialect):
    from thau_tui.engine.dialects import get_dialect
    from thau_tui.tools import ToolCall

    text = get_dialect(dialect).format_call(ToolCall("peek", {"what": "ok"}))
    agent, backend, _ = make_agent([text, "done"], tmp_path)
    agent.config.model.dialect = dialect
    events = await run(agent, agent.new_session(), "x")
    assert next(e for e in events if isinstance(e, ToolFinished)).result.output == "peeked ok"
    assert get_dialect(dialect).render_result("peek", "peeked ok") in backend.prompts[-1]


async def test_text_is_handed_over_in_batches_when_asked(tmp_path):
    reply = "word " * 60  # 100 pieces of 3 characters, 4 ms apart
    agent, backend, _ = make_agent([reply, reply, reply], tmp_path)
    backend.delay = 0.004
    per_piece = [e for e in await run(agent, agent.new_session(), "hi") if isinstance(e, TextDelta)]
    agent.text_batch_s = 0.05
    batched = [e for e in await run(agent, agent.new_session(), "hi") if isinstance(e, TextDelta)]
    assert "".join(e.text for e in batched) == "".join(e.text for e in per_piece) == reply
    # ~0.4 s of text in 50 ms batches: about 8 hand-overs instead of about 100
    assert len(batched) <= 15 < len(per_piece)
    # The first piece is not held back for a batch: it is the first text the user sees.
    # With batches an hour long, only the end of the generation can bring the rest.
    agent.text_batch_s = 3600.0
    turn = run(agent, agent.new_session(), "hi")
    events = await asyncio.wait_for(turn, 60)  # a guard that ends a hang, not a measure of speed
    first, rest = [e for e in events if isinstance(e, TextDelta)]
    assert len(first.text) < len(reply) // 4 and first.text + rest.text == reply


async def test_the_same_call_right_after_its_result_is_not_run_again(tmp_path):
    """The bundled model, after `cd /tmp` printed nothing, asked for `cd /tmp` again and again
    (six approvals in one turn). A call identical to the one that just ran and succeeded is
    not run: the model reads that it already has the result, and the turn ends."""
    replies = [call("echo", text="a"), call("echo", text="a"), call("echo", text="a"), "done"]
    agent, backend, store = make_agent(replies, tmp_path, max_tool_rounds=20)
    session = agent.new_session()
    events = await run(agent, session, "echo a")
    assert sum(isinstance(e, ApprovalRequested) for e in events) == 1
    assert sum(isinstance(e, ToolFinished) for e in events) == 1
    assert "ran it once" in next(e for e in events if isinstance(e, Error)).message
    roles = [m["role"] for m in store.messages(session.id)]
    assert roles == ["user", "assistant", "tool", "assistant", "tool"]  # every call has its result
    assert "not run: it is the call you just ran" in store.messages(session.id)[-1]["content"]
    # the next turn starts clean: the same call in a new turn runs (with its approval)
    backend.replies = [call("echo", text="a"), "ok"]
    again = await run(agent, session, "once more")
    assert sum(isinstance(e, ToolFinished) for e in again) == 1


async def test_the_same_call_right_after_a_denial_is_not_called_just_run(tmp_path):
    """After a denial the repeat rule told the model 'this is the call you just ran, and its
    result is above' and the user 'thau ran it once': nothing had run (read-through review)."""
    agent, backend, store = make_agent([call("echo", text="1"), call("echo", text="1"), "never"], tmp_path)
    session = agent.new_session()
    events = await run(agent, session, "go", decide=lambda e: Decision("deny"))
    assert sum(isinstance(e, ApprovalRequested) for e in events) == 1  # the user is not asked twice
    error = next(e for e in events if isinstance(e, Error)).message
    assert "you had just denied" in error and "ran it once" not in error
    last = store.messages(session.id)[-1]["content"]
    assert "the user denied this same call just before" in last and "just ran" not in last


async def test_a_round_that_ran_one_call_and_had_one_denied_asked_again_says_which(tmp_path):
    """A ran and B was denied; asked for both again, both were 'the call you just ran', and the
    user read that thau ran them (re-review)."""
    both = call("echo", text="A") + call("echo", text="B")
    agent, _, store = make_agent([both, both, "end"], tmp_path)
    session = agent.new_session()
    events = await run(
        agent, session, "go", decide=lambda e: Decision("deny" if e.call.arguments["text"] == "B" else "once")
    )
    error = next(e for e in events if isinstance(e, Error)).message
    assert "run or denied by you" in error
    again = [m["content"] for m in store.messages(session.id)[-2:]]
    assert "it is the call you just ran" in again[0] and "the user denied this same call" in again[1]


async def test_the_same_call_twice_in_a_round_one_run_one_denied_is_told_apart(tmp_path):
    """echo x twice in one round, the first allowed and the second denied, then the same pair
    again: both were told 'denied' and the user read that thau did not ask again, though the
    first had run (the denials were a set of calls, not a place each: attacker review)."""
    pair = call("echo", text="x") + call("echo", text="x")
    agent, _, store = make_agent([pair, pair, "end"], tmp_path)
    session = agent.new_session()
    answers = iter([Decision("once"), Decision("deny")])
    events = await run(agent, session, "go", decide=lambda e: next(answers))
    error = next(e for e in events if isinstance(e, Error)).message
    assert "run or denied by you" in error, error
    again = [m["content"] for m in store.messages(session.id)[-2:]]
    assert "it is the call you just ran" in again[0] and "the user denied this same call" in again[1], again


async def test_the_models_call_asked_again_after_the_user_edited_it_asks_again(tmp_path):
    """The user changed A to B; the model asking for A again was refused as 'the call you just
    ran': A never ran. It comes to the user again."""
    agent, _, _ = make_agent([call("echo", text="A"), call("echo", text="A"), "end"], tmp_path)
    answers = iter([Decision("once", arguments={"text": "B"}), Decision("deny")])
    events = await run(agent, agent.new_session(), "go", decide=lambda e: next(answers))
    assert sum(isinstance(e, ApprovalRequested) for e in events) == 2
    assert not any(isinstance(e, Error) for e in events)


async def test_a_different_call_after_a_result_still_runs(tmp_path):
    replies = [call("echo", text="a"), call("echo", text="b"), call("echo", text="a"), "done"]
    agent, _, _ = make_agent(replies, tmp_path, max_tool_rounds=20)
    events = await run(agent, agent.new_session(), "go")
    assert [e.result.output for e in events if isinstance(e, ToolFinished)] == ["ECHO a", "ECHO b", "ECHO a"]
    assert not any(isinstance(e, Error) for e in events)


async def test_an_always_approval_that_cannot_be_saved_still_runs_the_call(tmp_path):
    """The approvals file's folder blocked (or a full disk): saving raised out of the step,
    so the call the user had just allowed failed instead of running."""
    from thau_tui.engine.events import Error, ToolFinished

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the config folder should be")
    agent, _, _ = make_agent([call("echo", text="hi"), "done"], tmp_path)
    agent.approvals = ApprovalBook(blocked / "approvals.json", {})
    session = agent.new_session()
    events = await run(agent, session, "echo hi", decide=lambda _event: Decision("always"))
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.result.ok and finished.result.output == "ECHO hi"
    assert any("could not be saved" in e.message for e in events if isinstance(e, Error))


async def test_esc_ends_the_turn_when_a_tool_ignores_the_cancel(tmp_path, monkeypatch):
    """A plugin's function that never looks at ctx.cancelled held the turn (and the chat's
    input) until it returned, however often the user pressed Esc."""
    monkeypatch.setattr(tool_steps, "CANCEL_GRACE_S", 1.0)  # 8 s in the app
    release = threading.Event()

    def stubborn(args, ctx):
        release.wait(60)  # ignores ctx.cancelled
        return "finally"

    agent, _, store = make_agent([call("stubborn"), "never read"], tmp_path)
    agent.registry.register(
        Tool("stubborn", "Wait", {"type": "object", "properties": {}}, "exec", stubborn, summary="wait")
    )
    session = agent.new_session()
    events = []
    started = time.monotonic()
    try:
        async for event in agent.run_turn(session, "wait"):
            events.append(event)
            if isinstance(event, ApprovalRequested):
                event.future.set_result(Decision("once"))
            if isinstance(event, ToolStarted):
                asyncio.get_running_loop().call_later(0.2, agent.cancel)
        took = time.monotonic() - started
    finally:
        release.set()
    assert took < 1.0 + 0.2 + 5  # the grace, the Esc's delay, and room for a loaded machine; not 60 s
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "cancelled" and "stopped waiting" in finished.result.output
    assert isinstance(events[-1], TurnDone) and events[-1].stats.cancelled
    assert store.tool_calls(session.id)[0]["status"] == "cancelled"


@pytest.mark.parametrize("tool", ["echo", "peek"], ids=["asks", "runs unasked"])
async def test_escape_just_before_the_approval_step_stops_the_call(tmp_path, tool):
    """From the engine review: Esc pressed while the card was being drawn (after the call
    was read, before its approval future existed) was missed: a call that asks waited for
    an answer until the approval timeout, and a call that runs unasked ran."""
    agent, _, store = make_agent(
        [call(tool, **({"text": "a"} if tool == "echo" else {"what": "a"})), "after"], tmp_path
    )
    agent.config.tools.approval_timeout = 3.0  # before: echo waited for it (600 s by default)
    session = agent.new_session()
    seen = []
    started = time.monotonic()
    async for event in agent.run_turn(session, "x"):
        seen.append(type(event).__name__)
        if isinstance(event, ToolCallProposed):
            agent.cancel()
    assert time.monotonic() - started < 2.5
    assert "ToolStarted" not in seen and "ToolDenied" in seen, seen  # before: peek ran
    assert [row["status"] for row in store.tool_calls(session.id)] == ["cancelled"]


async def test_the_speed_shown_leaves_out_the_time_a_card_waited(tmp_path):
    # The status bar showed 2.5 tok/s after a user took a few seconds to press y: the whole
    # turn's time was divided into the tokens, the card's wait and the tool's run included.
    agent, backend, _ = make_agent([call("echo", text="hi"), "It said hi, as asked."], tmp_path)
    backend.delay = 0.01  # per token of the script
    session = agent.new_session()
    events = []
    async for event in agent.run_turn(session, "echo hi"):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            await asyncio.sleep(1.5)  # the user reads the card
            event.future.set_result(Decision("once"))
    stats = events[-1].stats
    assert stats.seconds > 1.5
    writing = stats.tokens * backend.delay
    assert stats.tokens_per_s > 0.5 * stats.tokens / writing  # near the script's pace, not diluted by the wait


def test_on_the_native_path_the_tools_schemas_count_as_thaus_own_prompt(tmp_path):
    """A server sent 300 MCP tools' schemas in its `tools` field; they were left out of the
    count, and a context filled by them was blamed on the user's "echo it" (servers review).
    A server gone when it is asked gives no count, not a second error."""
    from thau_tui.engine.native_turn import tool_schemas

    agent, backend, _ = make_agent([], tmp_path)
    dialect_count = agent._system_tokens()
    backend.native_tools = True
    schemas = json.dumps(tool_schemas(agent.registry.tools()), ensure_ascii=False)
    native_count = agent._system_tokens()
    alone = backend.count_tokens(agent.config.generation.system_prompt)
    assert native_count == alone + backend.count_tokens(schemas) and dialect_count is not None

    def gone(text):
        raise ConnectionError("no server")

    backend.count_tokens = gone
    assert agent._system_tokens() is None
