"""A hostile or broken server, from an attacker review of the server backend: each case held
the chat or the model's loading open, grew thau's memory, or crashed a turn. Against a bare
socket server on 127.0.0.1 (server_fakes.FakeServer)."""

from __future__ import annotations

import json
import time

import pytest
from server_fakes import MODELS, send_json, turn_events

from thau_tui.engine.backend import ModelLoadError
from thau_tui.engine.openai_backend import OpenAiBackend
from thau_tui.engine.openai_chat import ServerError

STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"


def _drip(conn, head: bytes, piece: bytes, every: float = 0.3, seconds: float = 20) -> None:
    conn.sendall(head)
    try:
        for _ in range(int(seconds / every)):
            conn.sendall(piece)
            time.sleep(every)
    except OSError:
        pass  # thau stopped reading
    conn.close()


def test_a_token_count_sent_a_space_at_a_time_ends_at_model_timeout(fake_server):
    """/tokenize answered once, then a JSON head and a space every 0.3 s: httpx's timeout is
    per read, so the count never ended, and neither did the turn (Esc waits on it)."""
    calls = []

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/extras/tokenize":
            calls.append(path)
            if len(calls) == 1:
                send_json(conn, b'{"tokens": [1, 2]}')
            else:
                _drip(conn, JSON_HEAD + b'{"tokens": [', b" ")
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    backend = OpenAiBackend(fake_server(respond).url, timeout=1, tool_calls="dialect")
    try:
        started = time.monotonic()
        with pytest.raises(ServerError, match=r"took more than 1 s to send one answer"):
            backend.count_tokens("How many tokens is this?")
        assert time.monotonic() - started < 8  # before: the server's whole 20 s, or forever
    finally:
        backend.close()


@pytest.mark.parametrize("piece", [b": ping\n\n", b"data: " + b"x" * 65536], ids=["keep-alives", "endless-line"])
def test_the_tools_probe_at_connect_neither_hangs_nor_grows(fake_server, piece):
    """The probe of the tools field read lines with httpx's iter_lines: no line cap (600 MiB
    with no newline took 600 MB) and no deadline (`: ping` forever kept the model from loading)."""

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/v1/chat/completions":
            _drip(conn, STREAM_HEAD, piece, every=0.01 if piece.startswith(b"data") else 0.3)
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    started = time.monotonic()
    backend = OpenAiBackend(fake_server(respond).url, timeout=1)
    try:
        assert time.monotonic() - started < 10
        assert backend.tool_path.mode == "dialect" and "probe failed" in backend.tool_path.why
    finally:
        backend.close()


def test_a_probe_answer_nested_too_deep_falls_back_to_the_dialect(fake_server):
    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/v1/chat/completions":
            conn.sendall(STREAM_HEAD + b"data: " + b"[" * 100_000 + b"\n\n")
            conn.close()
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    backend = OpenAiBackend(fake_server(respond).url, timeout=5)  # before: RecursionError, no model
    try:
        assert backend.tool_path.mode == "dialect"
    finally:
        backend.close()


_turn = turn_events


async def test_reasoning_chunks_alone_do_not_go_on_past_max_tokens(fake_server, tmp_path):
    """Chunks with only reasoning (or a key thau does not read) reset the silence clock and
    were not counted: asked for 40 tokens, the stream went on for as long as the server did."""
    thinking = b'data: {"choices": [{"index": 0, "delta": {"reasoning_content": "x"}}]}\n\n'
    started = time.monotonic()
    shown, errors = await _turn(fake_server, tmp_path, lambda conn: _drip(conn, STREAM_HEAD, thinking, every=0.005))
    assert time.monotonic() - started < 10
    assert len(errors) == 1 and "went on past the 40 tokens" in errors[0]


async def test_a_whole_json_answer_far_past_max_tokens_is_not_shown(fake_server, tmp_path):
    """A server answering application/json skipped the overrun cap: 15 MiB of text for a
    40-token answer went to the screen, the draft and the next request's history."""
    body = json.dumps({"choices": [{"text": "y" * 2_000_000, "index": 0, "finish_reason": "stop"}]}).encode()

    def completions(conn):
        conn.sendall(JSON_HEAD.replace(b"\r\n\r\n", b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"))
        conn.sendall(body)
        conn.close()

    shown, errors = await _turn(fake_server, tmp_path, completions)
    assert shown == "" and len(errors) == 1 and "far more than the 40 tokens" in errors[0]


@pytest.mark.parametrize(
    ("chunk", "said"),
    [
        ({"choices": [{"text": "Hi", "index": 0}], "usage": {"completion_tokens": 10**400}}, None),
        ({"choices": [{"text": "Hi", "index": 0}], "usage": {"completion_tokens": -463}}, None),
        ({"choices": [{"text": 5, "index": 0}]}, "a text that is not a string"),
        ({"choices": ["Hi"]}, "a choice that is not a JSON object"),
    ],
    ids=["huge-usage", "negative-usage", "text-number", "choice-string"],
)
async def test_odd_values_in_a_chunk_are_said_or_ignored(fake_server, tmp_path, chunk, said):
    """usage of 10**400 raised OverflowError out of the turn's speed; a text that was a number
    failed an assert ("generation failed: AssertionError: ")."""
    data = b"data: " + json.dumps(chunk).encode() + b"\n\n" + b"data: [DONE]\n\n"
    shown, errors = await _turn(fake_server, tmp_path, lambda conn: (conn.sendall(STREAM_HEAD + data), conn.close()))
    if said is None:
        assert shown == "Hi" and errors == []
    else:
        assert len(errors) == 1 and said in errors[0]


def test_a_key_never_goes_over_plain_http_to_a_public_host(monkeypatch):
    monkeypatch.setenv("THAU_TEST_KEY", "sk-secret")
    with pytest.raises(ModelLoadError, match=r"unencrypted to api\.example\.com.*https://"):
        OpenAiBackend("http://api.example.com/v1", api_key_env="THAU_TEST_KEY", timeout=1)
    with pytest.raises(ModelLoadError, match=r"user:password would go unencrypted"):
        OpenAiBackend("http://bob:pw@api.example.com/v1", timeout=1)  # a Basic header is a secret too
    with pytest.raises(ModelLoadError, match=r"unencrypted to 134744072"):  # glibc reads it as 8.8.8.8
        OpenAiBackend("http://134744072:8080/v1", api_key_env="THAU_TEST_KEY", timeout=1)


def test_a_key_goes_to_a_server_on_this_machine_and_credentials_stay_off_the_screen(fake_server, monkeypatch):
    """user:password in model.base_url was in every error message (self.root)."""
    seen: list[str] = []

    def respond(path, conn):
        send_json(conn, MODELS if path == "/v1/models" else b'{"detail": "Not Found"}')

    server = fake_server(respond)
    original = server._handle

    def handle(conn):  # keep the Authorization header each request carried
        peek = conn.recv(65536, 2)  # MSG_PEEK: the fake still reads the request itself
        seen.extend(line for line in peek.decode().split("\r\n") if line.lower().startswith("authorization"))
        original(conn)

    server._handle = handle
    url = server.url.replace("http://", "http://bob:s3cret@")
    backend = OpenAiBackend(url, timeout=5, tool_calls="dialect")
    try:
        assert "s3cret" not in backend.root and "bob" not in backend.root
        assert seen and all(line.split(": ", 1)[1].startswith("Basic ") for line in seen)
    finally:
        backend.close()
    monkeypatch.setenv("THAU_TEST_KEY", "sk-local")
    backend = OpenAiBackend(server.url, api_key_env="THAU_TEST_KEY", timeout=5, tool_calls="dialect")
    backend.close()
    assert any(line.endswith("Bearer sk-local") for line in seen)


def test_an_mcp_servers_token_never_goes_over_plain_http_to_a_public_host(monkeypatch):
    from thau_tui.config import MCPServerConfig
    from thau_tui.tools.mcp_connection import MCPConfigError, request_headers

    monkeypatch.setenv("THAU_TEST_TOKEN", "t0ken")
    public = MCPServerConfig(name="gh", url="http://mcp.example.com/mcp", api_key_env="THAU_TEST_TOKEN")
    with pytest.raises(MCPConfigError, match=r"unencrypted to mcp\.example\.com"):
        request_headers(public)
    for url in (
        "https://mcp.example.com/mcp",
        "http://127.0.0.1:9000/mcp",
        "http://192.168.1.20/mcp",
        "http://nas/mcp",
    ):
        assert request_headers(MCPServerConfig(name="gh", url=url, api_key_env="THAU_TEST_TOKEN")) == {
            "Authorization": "Bearer t0ken"
        }


async def test_a_line_sent_a_byte_at_a_time_ends_at_model_timeout(fake_server, tmp_path):
    """Half a data: line, then a byte every 0.3 s: each read came within httpx's timeout and
    the silence check ran only when a line ended, so the turn stayed open."""
    started = time.monotonic()
    shown, errors = await _turn(fake_server, tmp_path, lambda conn: _drip(conn, STREAM_HEAD + b'data: {"ch', b"o"), 1)
    assert time.monotonic() - started < 10  # before: the server's whole 20 s
    assert len(errors) == 1 and "did not answer for 1 s" in errors[0], errors
