"""What a user meets when the server is not what thau expects: each a clear message
that says what to do, at load (ModelLoadError) or as an Error in the turn, and the
chat goes on. Against the real llama-cpp-python server where it can show the case,
else against a bare socket server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from server_fakes import MODELS, free_port, one_turn, quiet_agent, send_json, serving, sse_chunk

from thau_tui.engine.backend import ModelLoadError, SamplingSettings, StreamStats
from thau_tui.engine.events import Error, TextDelta, TurnDone
from thau_tui.engine.openai_backend import OpenAiBackend


# --- at load ----------------------------------------------------------------------------
def test_no_server_running():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelLoadError) as raised:
        OpenAiBackend(url)
    message = str(raised.value)
    assert message.startswith("no server at http://127.0.0.1:")
    assert "python -m llama_cpp.server" in message and "model.base_url" in message


def test_wrong_model_name_lists_what_the_server_has(llama_server, server_key):
    with pytest.raises(ModelLoadError) as raised:
        OpenAiBackend(llama_server.url, "gpt-9", api_key_env=server_key)
    message = str(raised.value)
    assert "no model named 'gpt-9'" in message
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in message and "model.server_model" in message


def test_wrong_api_key_names_the_variable(llama_server, monkeypatch):
    monkeypatch.setenv("THAU_WRONG_KEY", "not-the-key")
    with pytest.raises(ModelLoadError) as raised:
        OpenAiBackend(llama_server.url, api_key_env="THAU_WRONG_KEY")
    message = str(raised.value)
    assert "refused the API key in $THAU_WRONG_KEY" in message and "401" in message
    assert "not-the-key" not in message


def test_no_api_key_points_at_api_key_env(llama_server):
    with pytest.raises(ModelLoadError) as raised:
        OpenAiBackend(llama_server.url)
    assert "wants an API key" in str(raised.value) and "model.api_key_env" in str(raised.value)


def test_api_key_env_not_set(monkeypatch):
    monkeypatch.delenv("THAU_UNSET_KEY", raising=False)
    with pytest.raises(ModelLoadError, match=r"THAU_UNSET_KEY, but it is not set: export THAU_UNSET_KEY="):
        OpenAiBackend("http://127.0.0.1:9/v1", api_key_env="THAU_UNSET_KEY")


def test_server_that_never_answers_at_load(fake_server):
    silent = fake_server(lambda path, conn: None)  # accepts, reads the request, says nothing
    # the message is the read timeout's own: the load gave up after model.timeout, not never
    with pytest.raises(ModelLoadError, match=r"did not answer for 1 s \(model.timeout\)"):
        OpenAiBackend(silent.url, timeout=1)


def test_a_server_without_tokenizer_gets_estimates_and_chatml(fake_server):
    server = fake_server(serving(lambda conn: None))
    backend = OpenAiBackend(server.url)
    try:
        assert backend.name == "fake-model" and backend.tokenize_endpoint is None
        assert backend.template_source == "ChatML"
        assert backend.count_tokens("x" * 400) == 101
    finally:
        backend.close()


# --- during a turn ----------------------------------------------------------------------
async def test_server_goes_silent_mid_turn(fake_server, tmp_path):
    server = fake_server(serving(lambda conn: None))
    backend = OpenAiBackend(server.url, timeout=1)
    try:
        _, events = await one_turn(quiet_agent(backend, tmp_path))
    finally:
        backend.close()
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and "did not answer for 1 s (model.timeout)" in errors[0]
    assert isinstance(events[-1], TurnDone)


async def test_esc_while_the_server_is_silent_ends_the_turn_at_once(fake_server, tmp_path):
    loop = asyncio.get_running_loop()
    held = []
    agent = None

    def silent(conn):  # the request has arrived and the server says nothing: Esc now
        held.append(conn)
        loop.call_soon_threadsafe(agent.cancel)

    server = fake_server(serving(silent))
    backend = OpenAiBackend(server.url, timeout=60)
    agent = quiet_agent(backend, tmp_path)
    try:
        session = agent.new_session()
        events = [e async for e in agent.run_turn(session, "Hello?")]
        assert backend.streams_open == 0
    finally:
        backend.close()
    assert held and isinstance(events[-1], TurnDone) and events[-1].stats.cancelled
    # ended by Esc, not by the 60 s read timeout (whose Error would be here)
    assert not [e for e in events if isinstance(e, Error)]
    held[0].settimeout(None)
    assert held[0].recv(1) == b""  # and the connection is closed: the server reads its end


async def _turn(backend, tmp_path):
    """One turn of a quiet agent on `backend`, which is closed after: (agent, session, events,
    the text shown, the error messages)."""
    agent = quiet_agent(backend, tmp_path)
    try:
        session, events = await one_turn(agent)
    finally:
        backend.close()
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    return agent, session, events, shown, [e.message for e in events if isinstance(e, Error)]


@pytest.mark.parametrize("how", ["connection reset", "closed without an end marker"])
async def test_stream_cut_halfway_keeps_the_partial_answer(fake_server, tmp_path, how):
    def completions(conn):
        if how == "connection reset":  # chunked, and the connection drops mid-body
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            for word in ("The ", "lighthouse ", "keeper "):
                data = sse_chunk(word)
                conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                time.sleep(0.05)
        else:  # a body that simply ends (connection: close) before [DONE]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            for word in ("The ", "lighthouse ", "keeper "):
                conn.sendall(sse_chunk(word))
                time.sleep(0.05)
        conn.close()

    agent, session, events, shown, errors = await _turn(
        OpenAiBackend(fake_server(serving(completions)).url, timeout=10), tmp_path
    )
    assert shown.startswith("The lighthouse")
    assert errors and "halfway" in errors[0] and "partial answer is kept" in errors[0]
    assert isinstance(events[-1], TurnDone)
    # all that streamed is kept, marked interrupted, in the store and in the chat's history
    stored = agent.store.messages(session.id)[-1]
    assert stored["role"] == "assistant" and stored["meta"].get("interrupted")
    assert stored["content"] == shown
    assert session.messages[-1] == {"role": "assistant", "content": shown, "meta": {"interrupted": True}}


async def test_a_server_with_a_tokenizer_that_dies_mid_answer_keeps_the_partial_answer(fake_server, tmp_path):
    """With a tokenize endpoint (llama-cpp-python's server), the turn asked the dead server to
    count the system prompt while it reported the break: its "no server" ended the turn, and
    only the first word was saved (servers review)."""
    holder = {}

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/extras/tokenize":
            send_json(conn, json.dumps({"tokens": [1, 2, 3]}).encode())
        elif path == "/v1/completions":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            for word in ("Once ", "upon ", "a ", "time "):
                conn.sendall(sse_chunk(word))
                time.sleep(0.05)
            holder["server"].sock.shutdown(socket.SHUT_RDWR)  # killed: nothing answers any more
            holder["server"].close()
            conn.close()
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    holder["server"] = server = fake_server(respond)
    backend = OpenAiBackend(server.url, timeout=5)
    assert backend.tokenize_endpoint == "/extras/tokenize"
    agent, session, events, shown, errors = await _turn(backend, tmp_path)
    assert shown == "Once upon a time "
    assert len(errors) == 1 and "partial answer is kept" in errors[0] and "no server" not in errors[0], errors
    stored = agent.store.messages(session.id)[-1]
    assert stored["role"] == "assistant" and stored["content"] == shown and stored["meta"].get("interrupted")


def test_a_redirect_says_where_to(fake_server):
    """A 301/307 (http to https, often) read "answered 301 to GET /v1/models: " with nothing
    after the colon (servers review). Redirects are not followed; the message says where to."""

    def respond(path, conn):
        body = b""
        conn.sendall(
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://user:pw@models.example/v1/models\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n" + body
        )
        conn.close()

    server = fake_server(respond)
    with pytest.raises(ModelLoadError) as refused:
        OpenAiBackend(server.url, timeout=5)
    said = str(refused.value)
    assert "redirects to https://models.example/v1/models" in said and "set model.base_url" in said, said
    assert "pw@" not in said


def test_context_exceeded_on_the_real_server(llama_server, server_key):
    """thau believes the context is 4096 (model.n_ctx); the server holds 2048 and says no
    more than closing the stream: the message names the likely cause and the fix."""
    backend = OpenAiBackend(llama_server.url, api_key_env=server_key, n_ctx=4096, timeout=60)
    try:
        prompt = backend.template.render([{"role": "user", "content": "word " * 2500}])
        with pytest.raises(ModelLoadError) as raised:
            list(backend.stream(prompt, SamplingSettings(max_tokens=20), StreamStats()))
    finally:
        backend.close()
    message = str(raised.value)
    assert "may exceed its context" in message and "model.n_ctx" in message


async def test_context_checked_by_thau_when_n_ctx_matches(server_backend, tmp_path):
    """With model.n_ctx at the server's size, thau sees the overflow itself, says so, and
    the next turn works."""
    agent = quiet_agent(server_backend, tmp_path)
    _, events = await one_turn(agent, "word " * 2500)
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and "your message is too long" in errors[0] and "the context holds 2048" in errors[0]
    assert isinstance(events[-1], TurnDone)
    _, events = await one_turn(agent, "Say hi.")
    assert [e for e in events if isinstance(e, TextDelta)] and not [e for e in events if isinstance(e, Error)]


def test_a_llama_server_like_server(fake_server):
    """llama-server's own endpoints: /props (its context size and chat template), /tokenize
    ({"content": ...}), and timings that say how much of the prompt it had to read."""
    template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}[assistant] "
    props = {"chat_template": template, "default_generation_settings": {"n_ctx": 1024}}

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/props":
            send_json(conn, json.dumps(props).encode())
        elif path == "/tokenize":
            send_json(conn, b'{"tokens": [1, 2, 3]}')
        elif path == "/v1/completions":
            last = {
                "choices": [{"text": "!", "index": 0, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 40, "completion_tokens": 2},
                "timings": {"prompt_n": 5},
            }
            body = sse_chunk("Hi") + b"data: " + json.dumps(last).encode() + b"\n\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + body)
            conn.close()
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    server = fake_server(respond)
    backend = OpenAiBackend(server.url, n_ctx=4096)
    try:
        assert backend.n_ctx == 1024  # the server's context, not the larger config value
        assert backend.tokenize_endpoint == "/tokenize" and backend.count_tokens("anything") == 3
        assert backend.template.render([{"role": "user", "content": "hi"}]) == "[user] hi\n[assistant] "
        stats = StreamStats()
        assert "".join(backend.stream("[user] hi\n", SamplingSettings(), stats)) == "Hi!"
    finally:
        backend.close()
    assert (stats.prompt_tokens, stats.evaluated, stats.tokens, stats.finish_reason) == (40, 5, 2, "stop")
