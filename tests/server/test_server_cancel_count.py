"""Esc while thau waits on the server's token count (servers review): a server sending
/extras/tokenize a byte at a time held a stopped turn at "stopping…" until model.timeout,
then "could not render the prompt: ... took more than 30 s". The count was a blocking
request that never looked at Esc; it now runs on the HTTP loop and ends the moment the
turn's cancel event is set (OpenAiBackend.watch_cancel). Against a bare socket server on
127.0.0.1 and the real Agent."""

from __future__ import annotations

import json
import threading
import time

import pytest
from server_fakes import MODELS, one_turn, quiet_agent, send_json, sse_chunk

from thau_tui.engine.events import Error, TextDelta, TurnDone
from thau_tui.engine.openai_backend import OpenAiBackend

STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"


class DrippingTokenizer:
    """A server whose /extras/tokenize answers the connect's probe, then (while `drip` is
    set) sends a JSON head and a space every 0.2 s for 30 s. It notes each answer request
    and when thau hung up on a drip."""

    def __init__(self) -> None:
        self.drip = threading.Event()
        self.counts = 0
        self.answers: list[str] = []  # the answer requests' paths, in order
        self.hung_up: list[float] = []  # when a drip found its connection closed

    def __call__(self, path, conn) -> None:
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/extras/tokenize":
            self.counts += 1
            if not self.drip.is_set():
                send_json(conn, b'{"tokens": [1, 2, 3]}')
                return
            conn.sendall(JSON_HEAD + b'{"tokens": [')
            try:
                for _ in range(150):
                    time.sleep(0.2)
                    conn.sendall(b" ")
            except OSError:
                self.hung_up.append(time.monotonic())
            conn.close()
        elif path in ("/v1/completions", "/v1/chat/completions"):
            self.answers.append(path)
            if path == "/v1/completions":
                conn.sendall(STREAM_HEAD + sse_chunk("Hello there.") + b"data: [DONE]\n\n")
            else:
                delta = {"choices": [{"index": 0, "delta": {"content": "Hello there."}, "finish_reason": "stop"}]}
                conn.sendall(STREAM_HEAD + b"data: " + json.dumps(delta).encode() + b"\n\ndata: [DONE]\n\n")
            conn.close()
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")


@pytest.mark.parametrize("tool_calls", ["dialect", "native"])
async def test_esc_ends_a_turn_waiting_on_a_dripping_token_count(fake_server, tmp_path, tool_calls):
    server = DrippingTokenizer()
    # model.timeout 10 s: before, the stopped turn waited for two counts' whole 10 s each
    backend = OpenAiBackend(fake_server(server).url, timeout=10, tool_calls=tool_calls)
    try:
        assert backend.tokenize_endpoint == "/extras/tokenize"
        agent = quiet_agent(backend, tmp_path)
        server.drip.set()
        started = time.monotonic()
        _, events = await one_turn(agent, "second question", cancel_after=1.0)
        took = time.monotonic() - started
        assert backend.streams_open == 0
    finally:
        backend.close()
    assert took < 3.5, f"the turn went on {took - 1:.1f} s after Esc"
    assert isinstance(events[-1], TurnDone) and events[-1].stats.cancelled
    assert [e.message for e in events if isinstance(e, Error)] == []  # Esc is not "could not render the prompt"
    assert not any(isinstance(e, TextDelta) for e in events)
    assert server.answers == []  # stopped before the answer was asked for: the server starts no work
    deadline = time.monotonic() + 3
    while not server.hung_up and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.hung_up and server.hung_up[0] - started < 4  # the count's connection was closed, not left open


async def test_the_turn_after_a_stopped_count_counts_and_answers_again(fake_server, tmp_path):
    """The stopped turn's cancel event stays set: the next turn must count with the server
    and ask for its answer as before, not estimate and stop at once."""
    server = DrippingTokenizer()
    backend = OpenAiBackend(fake_server(server).url, timeout=10, tool_calls="dialect")
    try:
        agent = quiet_agent(backend, tmp_path)
        server.drip.set()
        _, stopped = await one_turn(agent, "first", cancel_after=0.5)
        assert stopped[-1].stats.cancelled
        server.drip.clear()
        counted = server.counts
        _, events = await one_turn(agent, "second")
    finally:
        backend.close()
    assert server.counts > counted  # the server's tokenizer, not len/4
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there."
    assert server.answers == ["/v1/completions"]
    assert isinstance(events[-1], TurnDone) and not events[-1].stats.cancelled
