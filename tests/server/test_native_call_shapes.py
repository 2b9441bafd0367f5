"""Native tool calls in the shapes servers really send them (native calls review): a call
to a named tool whose arguments are not JSON keeps the tool's name on its card, live and
reopened, with the reason; calls that repeat one `id` and carry no `index` stay apart, and
a fragment with neither continues the last call. Each against a server on 127.0.0.1."""

from __future__ import annotations

import json
import threading

from scripted import ScriptedBackend
from server_fakes import MODELS, send_json
from textual.widgets import Static
from waiting import wait_until
from weather_tool import weather_registry

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import ApprovalRequested, Decision, ToolCallInvalid, ToolCallProposed
from thau_tui.engine.native_turn import chat_messages
from thau_tui.engine.openai_backend import OpenAiBackend
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.tool_card import ToolCard

BROKEN = '{"city": "Par'  # arguments cut in the middle of a string: not JSON


def _sse(conn, chunks: list[dict]) -> None:
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + body)
    conn.close()


def _calls(*entries, finish=None) -> dict:
    return {"choices": [{"index": 0, "delta": {"tool_calls": list(entries)}, "finish_reason": finish}]}


def _entry(name: str | None = None, arguments: str = "", **keys) -> dict:
    function = {"arguments": arguments} | ({"name": name} if name is not None else {})
    return {**keys, "function": function}


SAID_DONE = [{"choices": [{"index": 0, "delta": {"content": "Done."}, "finish_reason": "stop"}]}]


def _serving(*answers):
    """A server whose /v1/chat/completions answers each request with the next of `answers`
    (a list of chunks to stream, or a whole JSON answer as a dict), then says "Done."."""
    left = list(answers)
    lock = threading.Lock()

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/v1/chat/completions":
            with lock:
                answer = left.pop(0) if left else SAID_DONE
            if isinstance(answer, dict):
                send_json(conn, json.dumps(answer).encode())
            else:
                _sse(conn, answer)
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    return respond


async def _turn(fake_server, tmp_path, *answers):
    """One turn on the native path (forced: no probe), every approval denied: (agent, session, events, calls run)."""
    backend = OpenAiBackend(fake_server(_serving(*answers)).url, timeout=10, tool_calls="native")
    ran: list = []
    config = Config()
    config.generation.max_tokens = 60
    config.generation.max_tool_rounds = 1
    agent = Agent(config, weather_registry(ran), store=Store(tmp_path / "db"), backend=backend, workspace=tmp_path)
    try:
        assert agent.native
        session = agent.new_session()
        events = []
        async for event in agent.run_turn(session, "Weather?"):
            events.append(event)
            if isinstance(event, ApprovalRequested):
                event.future.set_result(Decision("deny", reason="test"))
    finally:
        backend.close()
    return agent, session, events, ran


# --- 1. a named call whose arguments are not JSON ---------------------------------------
async def test_a_named_call_with_unreadable_arguments_keeps_its_name(fake_server, tmp_path):
    agent, session, events, ran = await _turn(
        fake_server, tmp_path, [_calls(_entry("get_weather", BROKEN, index=0, id="a"), finish="tool_calls")]
    )
    invalid = [e for e in events if isinstance(e, ToolCallInvalid)]
    assert len(invalid) == 1 and ran == []  # never run, never asked
    assert not [e for e in events if isinstance(e, ApprovalRequested)]
    call = invalid[0].call
    assert call is not None and call.name == "get_weather"  # was None: the card said "(unreadable call)"
    assert call.arguments == {"arguments": BROKEN}  # what the server sent, shown as one value
    why = invalid[0].errors[0]
    assert why.startswith("could not read the call to get_weather: its arguments are not valid JSON")
    # its row keeps the name, the text and the reason for the chat reopened
    row = {r["id"]: r for r in agent.store.tool_calls(session.id)}[call.id]
    assert (row["name"], row["status"], row["result"]) == ("get_weather", "invalid", why)
    # the model reads the same error as before, answering the id thau gave the call
    sent = chat_messages("s", session.messages)
    at = next(i for i, m in enumerate(sent) if m.get("tool_calls"))
    assert sent[at]["tool_calls"][0]["id"] == call.id
    assert sent[at]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "{}"}
    assert sent[at + 1] == {
        "role": "tool",
        "tool_call_id": call.id,
        "content": f"error: {why}. Write the call again as valid JSON.",
    }


def _app(tmp_path, base_url: str, resume: bool = False) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    config.model.backend = "openai"
    config.model.base_url = base_url
    config.model.tool_calls = "native"
    config.model.n_ctx = 2048
    config.generation.max_tokens = 60
    config.generation.max_tool_rounds = 1
    return ThauApp(ConfigResult(config, None), resume=resume, store=Store(tmp_path / "db"), watch=False)


def _cards(app) -> list[tuple[str, str, str, str]]:
    """(tool, state, arguments shown, notes) of each card, in order."""
    return [
        (
            card.call.name,
            card.state,
            str(card.query_one(".arguments", Static).render()),
            str(card.query_one(".notes", Static).render()),
        )
        for card in app.query(ToolCard)
    ]


async def test_the_card_names_the_tool_and_says_why_live_and_reopened(fake_server, tmp_path):
    """The read_file call with broken arguments, and one missing its path (the schema's
    error): each card shows the tool and its own reason, live and in the chat reopened."""
    answer = [
        _calls(
            _entry("read_file", '{"path": "notes.t', index=0, id="a"),
            _entry("read_file", "{}", index=1, id="b"),
            finish="tool_calls",
        )
    ]
    server = fake_server(_serving(answer))
    async with _app(tmp_path, server.url).run_test(size=(120, 50)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.agent.backend is not None, 30)
        await pilot.press(*"read my notes", "enter")
        await wait_until(pilot, lambda: len(app.query(ToolCard)) == 2 and not app.turn_running, 30)
        live = _cards(app)
        sid = app.session.id
    async with _app(tmp_path, server.url, resume=True).run_test(size=(120, 50)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(ToolCard))
        reopened = _cards(app)
    assert [(name, state) for name, state, _, _ in live] == [("read_file", "invalid"), ("read_file", "invalid")]
    assert '{"path": "notes.t' in live[0][2]  # what was sent, not "(no arguments)"
    assert "could not read the call to read_file: its arguments are not valid JSON" in live[0][3]
    assert "path" in live[1][3] and "could not read" not in live[1][3]
    # reopened, each says what it said live: was "(unreadable call)" / "the model's call could
    # not be read", and "its arguments did not match the tool's schema" for any invalid call
    assert [(name, state, notes) for name, state, _, notes in reopened] == [
        (name, state, notes) for name, state, _, notes in live
    ]
    assert reopened[0][2] == live[0][2]


async def test_a_reopened_call_without_a_name_says_why(tmp_path):
    """A call with no readable name has no row: reopened, its card said only "the model's
    call could not be read"; the reason is in the result the model was sent."""
    store = Store(tmp_path / "db")
    sid = store.create_session("unnamed call")
    store.add_message(sid, "user", "go")
    wire = [{"id": "t1", "name": "unknown", "arguments": "{}"}]
    store.add_message(sid, "assistant", "", {"tool_calls": wire})
    why = "could not read the call to unknown: the server sent a tool call without a name"
    said = f"error: {why}. Write the call again as valid JSON."
    store.add_message(sid, "tool", said, {"tool": "unknown", "ok": False, "call_id": None, "tool_call_id": "t1"})
    store.close()
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "db")
    app = ThauApp(ConfigResult(config, None), resume=True, store=store, backend=ScriptedBackend([]), watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.session is not None and app.session.id == sid and app.query(ToolCard))
        (name, state, _, notes) = _cards(app)[0]
    assert (name, state) == ("(unreadable call)", "invalid")
    assert why in notes and "Write the call again" not in notes


# --- 2. calls that repeat one id and carry no index -------------------------------------
def _proposed(events) -> list[tuple[str, dict]]:
    return [(e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCallProposed)]


async def test_calls_that_repeat_one_id_without_an_index_stay_two_calls(fake_server, tmp_path):
    chunks = [
        _calls(_entry("get_weather", '{"city": "Paris"}', id="call_1", type="function")),
        _calls(_entry("get_weather", '{"city": "Rome"}', id="call_1", type="function"), finish="tool_calls"),
    ]
    _, session, events, _ = await _turn(fake_server, tmp_path, chunks)
    # were one call with '{"city": "Paris"}{"city": "Rome"}': invalid JSON
    assert _proposed(events) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert not [e for e in events if isinstance(e, ToolCallInvalid)]
    sent = chat_messages("s", session.messages)
    wire = next(m for m in sent if m.get("tool_calls"))["tool_calls"]
    assert len(wire) == 2 and wire[0]["id"] != wire[1]["id"]  # each answered by an id of its own


async def test_a_fragment_without_id_or_index_continues_the_last_call(fake_server, tmp_path):
    """OpenAI's shape without the index: the id and name once, then the arguments in
    fragments that carry neither (or repeat the call's id, with no name)."""
    chunks = [
        _calls(_entry("get_weather", "", id="call_9")),
        _calls(_entry(None, '{"ci')),
        _calls(_entry(None, 'ty": "Li', id="call_9")),
        _calls(_entry(None, 'ma"}'), finish="tool_calls"),
    ]
    _, _, events, _ = await _turn(fake_server, tmp_path, chunks)
    assert _proposed(events) == [("get_weather", {"city": "Lima"})]


async def test_a_whole_answer_with_one_id_twice_is_two_calls(fake_server, tmp_path):
    """A server that answers the stream request with one JSON body: each entry of its
    message is a call, whatever its id (no index here either)."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            _entry("get_weather", '{"city": "Oslo"}', id="same", type="function"),
            _entry("get_weather", '{"city": "Kyiv"}', id="same", type="function"),
        ],
    }
    answer = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    _, _, events, _ = await _turn(fake_server, tmp_path, answer)
    assert _proposed(events) == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Kyiv"})]
