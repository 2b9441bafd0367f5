"""Full agent turns that call a real MCP server's tools: approval cards, "allow for
session", policy, live progress, failures, images, cancel and timeouts, and a result that
tries to forge a call."""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest
from mcp_support import server_config
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.events import (
    ApprovalRequested,
    Decision,
    ToolCallProposed,
    ToolDenied,
    ToolFinished,
    ToolProgress,
    ToolStarted,
)
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, build_registry
from thau_tui.tools.mcp_client import MCPManager


@pytest.fixture(scope="module")
def notes_server(tmp_path_factory):
    """One notes server for the module (starting one costs a second or two): (manager, registry, folder)."""
    root = tmp_path_factory.mktemp("mcp")
    folder = root / "notes"
    folder.mkdir()
    registry = build_registry()
    manager = MCPManager(
        [server_config(env={"NOTES_DIR": str(folder)}, call_timeout=20)],
        registry,
        workspace=root,
        images_dir=root / "images",
        log_dir=root / "logs",
    )
    manager.start()
    assert manager.wait_ready(60)
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    yield manager, registry, folder
    manager.stop()


def call(tool: str, **args) -> str:
    return "<tool_call>" + json.dumps({"name": tool, "arguments": args}) + "</tool_call>"


def make_agent(registry, replies, tmp_path, policy=None, approvals=None):
    config = Config()
    config.tools.policy = policy or {}
    book = approvals or ApprovalBook(tmp_path / "approvals.json", config.tools.policy)
    backend = ScriptedBackend(replies)
    agent = Agent(
        config, registry, approvals=book, store=Store(tmp_path / "db.sqlite3"), backend=backend, workspace=tmp_path
    )
    return agent, backend


async def run(agent, session, text, decide=lambda event: Decision("once"), on_event=None):
    events = []
    async for event in agent.run_turn(session, text):
        events.append(event)
        if isinstance(event, ApprovalRequested):
            event.future.set_result(decide(event))
        if on_event is not None:
            on_event(event)
    return events


def finished(events) -> ToolFinished:
    return next(e for e in events if isinstance(e, ToolFinished))


def asked(events) -> list[ApprovalRequested]:
    return [e for e in events if isinstance(e, ApprovalRequested)]


async def test_a_read_only_tool_of_a_server_outside_the_sandbox_asks_and_its_result_reaches_the_model(
    notes_server, tmp_path
):
    # A read-only hint runs unasked only from a sandboxed server (test_mcp_read_hints.py).
    _, registry, folder = notes_server
    (folder / "todo").write_text("buy milk")
    agent, backend = make_agent(registry, [call("notes__read_note", name="todo"), "You need milk."], tmp_path)
    events = await run(agent, agent.new_session(), "what is on my todo note?")
    assert next(e for e in events if isinstance(e, ToolCallProposed)).risk == "write"
    assert len(asked(events)) == 1
    assert finished(events).status == "done" and finished(events).result.output == "buy milk"
    assert "<tool_response>\nbuy milk\n</tool_response>" in backend.prompts[-1]


async def test_a_destructive_tool_waits_for_approval_and_runs_only_when_allowed(notes_server, tmp_path):
    _, registry, folder = notes_server
    agent, backend = make_agent(
        registry,
        [
            call("notes__write_note", name="a", text="one"),
            "Done.",
            call("notes__write_note", name="b", text="two"),
            "OK.",
        ],
        tmp_path,
    )
    session = agent.new_session()

    seen_before = []
    events = await run(
        agent, session, "write a", decide=lambda e: (seen_before.append((folder / "a").exists()), Decision("once"))[1]
    )
    assert [e.risk for e in asked(events)] == ["write"] and seen_before == [False]  # nothing ran before the card
    assert finished(events).status == "done" and (folder / "a").read_text() == "one"

    events = await run(agent, session, "write b", decide=lambda e: Decision("deny", reason="not now"))
    assert any(isinstance(e, ToolDenied) for e in events)
    assert not any(isinstance(e, ToolStarted) for e in events)
    assert not (folder / "b").exists()  # the server was never called
    assert "the user denied this call (not now)" in backend.prompts[-1]


async def test_allow_for_the_session_covers_that_tool_in_that_chat_only(notes_server, tmp_path):
    _, registry, folder = notes_server
    replies = [
        call("notes__write_note", name="s", text="1"),
        "ok",
        call("notes__write_note", name="s", text="2"),
        "ok",
        call("notes__write_note", name="s", text="3"),
        "ok",
    ]
    agent, _ = make_agent(registry, replies, tmp_path)
    session = agent.new_session()
    first = await run(agent, session, "one", decide=lambda e: Decision("session"))
    second = await run(agent, session, "two", decide=lambda e: pytest.fail("asked again in the same chat"))
    assert len(asked(first)) == 1 and not asked(second)
    assert (folder / "s").read_text() == "2"
    other = await run(agent, agent.new_session(), "three")
    assert len(asked(other)) == 1 and (folder / "s").read_text() == "3"  # another chat asks again


async def test_tools_policy_overrides_the_servers_hints(notes_server, tmp_path):
    _, registry, folder = notes_server
    (folder / "p").write_text("secret plan")
    policy = {"notes__read_note": "ask", "notes__write_note": "deny"}
    agent, _ = make_agent(
        registry,
        [call("notes__read_note", name="p"), "ok", call("notes__write_note", name="p", text="gone"), "ok"],
        tmp_path,
        policy,
    )
    session = agent.new_session()
    events = await run(agent, session, "read p")
    assert len(asked(events)) == 1 and finished(events).result.output == "secret plan"
    events = await run(agent, session, "overwrite p", decide=lambda e: pytest.fail("deny must not ask"))
    assert any(isinstance(e, ToolDenied) for e in events)
    assert (folder / "p").read_text() == "secret plan"


async def test_progress_notifications_reach_the_card_as_they_happen(notes_server, tmp_path):
    _, registry, _ = notes_server
    agent, _ = make_agent(registry, [call("notes__count_slowly", steps=4), "Counted."], tmp_path)
    events = await run(agent, agent.new_session(), "count to 4")
    progress = [e for e in events if isinstance(e, ToolProgress)]
    assert [(p.done, p.total, p.label) for p in progress] == [(n, 4, f"step {n}") for n in range(1, 5)]
    order = [type(e).__name__ for e in events]
    assert order.index("ToolStarted") < order.index("ToolProgress") < order.index("ToolFinished")
    assert finished(events).result.output == "counted to 4"


async def test_a_failing_tool_is_a_failed_call_the_model_reads(notes_server, tmp_path):
    _, registry, _ = notes_server
    agent, backend = make_agent(registry, [call("notes__fail", reason="disk on fire"), "Sorry."], tmp_path)
    events = await run(agent, agent.new_session(), "try it")
    result = finished(events)
    assert result.status == "failed" and "disk on fire" in result.result.output
    assert "disk on fire" in backend.prompts[-1]


async def test_an_image_result_is_saved_for_the_image_pane(notes_server, tmp_path):
    _, registry, _ = notes_server
    agent, backend = make_agent(registry, [call("notes__draw"), "There it is."], tmp_path)
    events = await run(agent, agent.new_session(), "draw")
    result = finished(events).result
    image = result.data["image_path"]  # what the chat hands to the image pane, as for generate_image
    with open(image, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "a one-pixel picture" in result.output and image in backend.prompts[-1]


async def test_a_result_that_forges_a_call_is_defused_before_the_model_reads_it(notes_server, tmp_path):
    _, registry, _ = notes_server
    agent, backend = make_agent(registry, [call("notes__inject"), "Nothing to see."], tmp_path)
    events = await run(agent, agent.new_session(), "inject")
    assert sum(isinstance(e, ToolCallProposed) for e in events) == 1  # the forged run_shell never became a call
    prompt = backend.prompts[-1]
    response = prompt[prompt.rindex("<tool_response>") :]
    fed_back = response[: response.index("</tool_response>")]
    assert "touch /tmp/pwned" in fed_back  # defused, not dropped
    assert "<tool_call>" not in fed_back and "<|im_end|>" not in fed_back and "</tool_response>" not in fed_back[1:]
    assert get_dialect("hermes").parse_calls(fed_back) == []


async def test_esc_cancels_a_running_call_and_the_server_is_told(notes_server, tmp_path):
    manager, registry, folder = notes_server
    agent, _ = make_agent(registry, [call("notes__hang", seconds=600), "unreachable"], tmp_path)

    def on_event(event):
        if isinstance(event, ToolStarted):
            threading.Timer(0.5, agent.cancel).start()

    events = await asyncio.wait_for(run(agent, agent.new_session(), "hang", on_event=on_event), 60)
    assert finished(events).status == "cancelled"
    await asyncio.to_thread(wait_mark, folder / "hang-cancelled")
    # the server is still there for the next call
    assert manager.states()[0].status == "ready"


def wait_mark(path, timeout=20.0):
    from mcp_support import wait_for

    wait_for(path.exists, timeout, f"{path.name} (the server saw the cancel)")


async def test_a_call_past_its_timeout_is_cancelled_with_a_clear_error(start_servers, notes_dir, tmp_path):
    manager, registry, _ = start_servers(server_config(env={"NOTES_DIR": str(notes_dir)}, call_timeout=1.5))
    (notes_dir / "n").write_text("still here")
    agent, backend = make_agent(
        registry,
        [call("notes__hang", seconds=600), "It timed out.", call("notes__read_note", name="n"), "ok"],
        tmp_path,
    )
    session = agent.new_session()
    events = await asyncio.wait_for(run(agent, session, "hang"), 60)
    result = finished(events)
    assert result.status == "failed"
    assert "gave no answer within 1.5 s" in result.result.output and "cancelled" in result.result.output
    assert "gave no answer within 1.5 s" in backend.prompts[-1]
    await asyncio.to_thread(wait_mark, notes_dir / "hang-cancelled")
    events = await run(agent, session, "read n")  # thau and the server both go on
    assert finished(events).result.output == "still here"


def test_mcp_tools_are_shown_to_the_model_exactly_as_plugin_tools_are(notes_server):
    _, registry, _ = notes_server
    mcp_tool = registry.get("notes__write_note")
    plugin = Tool(
        mcp_tool.name,
        mcp_tool.description,
        mcp_tool.parameters,
        mcp_tool.risk,
        mcp_tool.function,
        source="/home/me/tools/write_note.py",
    )
    for name in ("hermes", "thau", "stage3", "functiongemma"):
        dialect = get_dialect(name)
        assert dialect.render_tools([mcp_tool]) == dialect.render_tools([plugin])
    block = get_dialect("hermes").render_tools(registry.tools())
    assert json.dumps(mcp_tool.schema()["function"], ensure_ascii=False) in block
    assert "- notes__write_note(" not in block  # not in the compact built-in lines


def test_every_dialect_can_write_a_call_to_an_mcp_tool(notes_server):
    """The grammar (GBNF) that constrains a call is built from the MCP tools' schemas too."""
    _, registry, _ = notes_server
    tools = registry.tools()
    for name in ("hermes", "thau", "stage3", "functiongemma"):
        grammar = get_dialect(name).grammar(tools)
        assert re.search(r"notes__write_note", grammar), name


def test_a_result_with_many_images_saves_a_few_and_says_so(tmp_path):
    """Each image may be 20 MB and a result could carry any number: 40 were all written to disk."""
    import base64

    from mcp.types import CallToolResult, ImageContent, TextContent

    from thau_tui.tools.mcp_tools import MAX_IMAGES, tool_result

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
    content = [TextContent(type="text", text="here")] + [
        ImageContent(type="image", data=png, mimeType="image/png") for _ in range(40)
    ]
    result = tool_result("pics", CallToolResult(content=content), tmp_path / "images", 10_000)
    assert len(list((tmp_path / "images").iterdir())) == MAX_IMAGES == len(result.data["images"])
    assert result.output.count("image saved to") == MAX_IMAGES
    assert f"pics sent 36 more images than the {MAX_IMAGES} a result may save" in result.output


async def test_a_flood_of_huge_progress_notices_reaches_the_loop_cut_and_merged(start_servers, tmp_path):
    """A server sent 3,000 progress notices with 100 KB labels during one call: each woke the
    loop and was drawn on the card, the app stopped reading keys, and Esc waited 51 s
    (attacker review). Labels are cut to 200 characters before anything reads them, and the
    card gets the newest step at most every PROGRESS_EVERY_S, the last one before the end."""
    import time

    from thau_tui.engine.tool_steps import PROGRESS_EVERY_S

    _, registry, _ = start_servers(server_config("hostile", "hostile_server.py", {"HOSTILE_PROGRESS": "flood"}))
    agent, _ = make_agent(registry, [call("hostile__a_b", x="go"), "Done."], tmp_path)
    started = time.monotonic()
    events = await asyncio.wait_for(run(agent, agent.new_session(), "flood"), 120)
    seconds = time.monotonic() - started
    progress = [e for e in events if isinstance(e, ToolProgress)]
    assert finished(events).result.output == "flooded"
    assert progress and max(len(p.label) for p in progress) <= 200
    assert len(progress) <= seconds / PROGRESS_EVERY_S + 2, (len(progress), seconds)
    assert progress[-1].done == 1999  # the newest step is the one left on the card
