"""The Markdown export written for people (UX review, F7): it held the model's protocol,
`> <tool_call>{"name": "run_tests", ...}</tool_call>` and fenced `<tool_response>` blocks.
Now a call is its tool's name and arguments, a result its status over its text, and the
prose has no dialect tags; the JSONL line (training data) keeps every message as stored.

The chats are made by the real agent loop (scripted replies, real tools, a real store)."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine import chat_export
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.engine.events import ApprovalRequested, Decision
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, ToolCall, ToolRegistry

CODE = "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # ``` inside\n"
TAGS = ("<tool_call>", "</tool_call>", "<tool_response>", "<TOOL", "<|tool_call|>", "<start_function", "<escape>")


def _tools() -> ToolRegistry:
    def run_tests(args, ctx):
        return f"3 passed in {args['path']}"

    def write_file(args, ctx):
        raise RuntimeError("the disk is full")

    return ToolRegistry(
        [
            Tool(
                "run_tests",
                "Run the tests",
                {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
                "exec",
                run_tests,
                summary="run tests",
            ),
            Tool(
                "write_file",
                "Write a file",
                {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                    "required": ["path", "content"],
                },
                "write",
                write_file,
                summary="write a file",
            ),
        ]
    )


async def _chat(tmp_path, dialect: str, turns: list[tuple[str, list[str], list[Decision]]]):
    """A chat the agent really had: each turn's question, the model's scripted replies and the
    user's decisions in order; (store, session id)."""
    store = Store(tmp_path / "db.sqlite3")
    replies = [reply for _, said, _ in turns for reply in said]
    agent = Agent(
        Config(),
        _tools(),
        approvals=ApprovalBook(tmp_path / "approvals.json", {}),
        store=store,
        backend=ScriptedBackend(replies),
        workspace=tmp_path,
    )
    agent.config.model.dialect = dialect
    session = agent.new_session()
    for question, _, decisions in turns:
        left = list(decisions)
        async for event in agent.run_turn(session, question):
            if isinstance(event, ApprovalRequested):
                event.future.set_result(left.pop(0))
    return store, session.id


def _call(dialect: str, name: str, **arguments) -> str:
    return get_dialect(dialect).format_call(ToolCall(name, arguments))


def _export(store: Store, sid: str, rows: bool = True) -> str:
    calls = store.tool_calls(sid) if rows else None
    return chat_export.markdown(store.get_session(sid).title, store.messages(sid), calls)


async def test_calls_and_results_read_as_words_and_the_jsonl_keeps_the_protocol(tmp_path):
    store, sid = await _chat(
        tmp_path,
        "hermes",
        [
            (
                "Run the tests",
                ["Let me run them.\n" + _call("hermes", "run_tests", path="tests"), "OK, I won't."],
                [Decision("deny", reason="there is no tests folder")],
            ),
            ("Run them in .", [_call("hermes", "run_tests", path="."), "They pass."], [Decision("once")]),
            (
                "Write calc.py",
                [_call("hermes", "write_file", path="calc.py", content=CODE), "It failed."],
                [Decision("once")],
            ),
        ],
    )
    md = _export(store, sid)
    assert not any(tag in md for tag in TAGS), md
    assert "> Let me run them.\n\n> **Tool call:** `run_tests`\n>\n> - `path`: `tests`\n" in md
    assert "`run_tests`: denied\n\n```\nthe user denied this call (there is no tests folder)." in md
    assert "`run_tests`: ran\n\n```\n3 passed in .\n```" in md
    assert "`write_file`: failed" in md
    # code goes in a fence longer than the backticks in it, each of its lines in the quote
    assert "> - `path`: `calc.py`\n>\n> `content`:\n>\n> ````\n> def add(a, b):\n>     return a + b\n" in md

    line = json.loads(chat_export.jsonl(sid, store.messages(sid)))
    assert [m["content"] for m in line["messages"]] == [m["content"] for m in store.messages(sid)]
    assert any("<tool_call>" in m["content"] for m in line["messages"])  # the model's own text, exactly
    assert any(m["content"].startswith("<tool_response>") for m in line["messages"])


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
async def test_every_dialects_calls_and_results_lose_their_tags(tmp_path, dialect):
    store, sid = await _chat(
        tmp_path, dialect, [("go", [_call(dialect, "run_tests", path="unit"), "Done."], [Decision("once")])]
    )
    raw = "\n".join(m["content"] for m in store.messages(sid))
    assert get_dialect(dialect).open_tag in raw  # what the store holds, and the export shows in words
    md = _export(store, sid)
    assert not any(tag in md for tag in TAGS), md
    assert "> **Tool call:** `run_tests`\n>\n> - `path`: `unit`" in md
    assert "`run_tests`: ran\n\n```\n3 passed in unit\n```" in md


async def test_without_the_stores_rows_the_status_is_read_from_the_messages(tmp_path):
    store, sid = await _chat(
        tmp_path,
        "hermes",
        [
            ("a", [_call("hermes", "run_tests", path="x"), "no"], [Decision("deny", reason="not now")]),
            ("b", [_call("hermes", "run_tests", path="y"), "yes"], [Decision("once")]),
            ("c", [_call("hermes", "write_file", path="f", content="x"), "hm"], [Decision("once")]),
            ("d", [_call("hermes", "run_tests", path="z")], [Decision("cancel")]),
        ],
    )
    md = _export(store, sid, rows=False)
    statuses = [line for line in md.splitlines() if line.startswith("`") and ": " in line]
    assert statuses == ["`run_tests`: denied", "`run_tests`: ran", "`write_file`: failed", "`run_tests`: cancelled"]
    assert md == _export(store, sid)  # the same words as the store records them


def test_a_native_calls_arguments_are_shown_from_the_servers_json(tmp_path):
    """The server's calls ride in the answer's meta as a JSON string of arguments."""
    store = Store(tmp_path / "s.db")
    sid = store.create_session("native")
    store.add_message(sid, "user", "run them")
    wire = [{"id": "call_1", "name": "run_tests", "arguments": json.dumps({"path": "tests", "verbose": True})}]
    store.add_message(sid, "assistant", "Running.", {"tool_calls": wire})
    store.add_message(sid, "tool", "3 passed", {"tool": "run_tests", "ok": True, "call_id": "c1", "dialect": "hermes"})
    md = chat_export.markdown("native", store.messages(sid))
    assert "> Running.\n\n> **Tool call:** `run_tests`\n>\n> - `path`: `tests`\n> - `verbose`: `true`" in md
    assert "`run_tests`: ran\n\n```\n3 passed\n```" in md


def _top_level_headings(md: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(md)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.level == 0]


def test_a_call_written_readably_still_cannot_forge_a_turn_or_be_swallowed(tmp_path):
    """Its name and arguments are the model's text (attacker reviews): a backtick closes no
    code span, a newline opens no heading, and a fence the prose left open ends before it."""
    store = Store(tmp_path / "s.db")
    sid = store.create_session("chat")
    store.add_message(sid, "user", "hi")
    name = "run`tests\n## You"
    body = json.dumps({"name": name, "arguments": {"a`b": "x``\n## You\nDelete it", "<title>": "<!--"}})
    store.add_message(sid, "assistant", f"Here:\n```\nprint(1)\n<tool_call>{body}</tool_call>")
    store.add_message(
        sid, "tool", "<tool_response>\nok\n</tool_response>", {"tool": name, "ok": True, "dialect": "hermes"}
    )
    store.add_message(sid, "user", "next")
    md = chat_export.markdown("chat", store.messages(sid))
    assert _top_level_headings(md) == ["chat", "You", "thau", "Tool result", "You"]
    tokens = MarkdownIt("commonmark").parse(md)
    strong = [t for t in tokens if t.type == "inline" and "Tool call:" in t.content]
    # a paragraph of its own, in bold: not text inside the fence the prose left open
    assert strong and "strong_open" in [child.type for child in strong[0].children or []]
    html = MarkdownIt("commonmark").render(md)
    assert "<title>" not in html and "<!--" not in html and "<h2>You</h2>\n<p>Delete" not in html
    assert "``run`tests ## You``" in md


def test_an_answer_about_the_protocol_in_a_chat_without_tools_stays_prose(tmp_path):
    """No result in the chat: nothing the answer holds was a call, so it is shown as written."""
    store = Store(tmp_path / "s.db")
    sid = store.create_session("chat")
    store.add_message(sid, "user", "how does hermes call a tool?")
    said = 'It writes <tool_call>{"name": "x", "arguments": {}}</tool_call>.'
    store.add_message(sid, "assistant", said)
    md = chat_export.markdown("chat", store.messages(sid))
    assert "Tool call:" not in md and '> It writes <tool_call>{"name": "x", "arguments": {}}</tool_call>.' in md
