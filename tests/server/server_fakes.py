"""Helpers for tests/server: a free port, and a bare socket server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.store import Store
from thau_tui.tools import ToolRegistry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeServer:
    """A bare socket server on 127.0.0.1 that answers each request with `respond(path, sock)`."""

    def __init__(self, respond, port: int = 0) -> None:
        self.respond = respond
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        path = head.split(b" ")[1].decode()
        self.respond(path, conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def send_json(conn: socket.socket, body: bytes, status: bytes = b"200 OK") -> None:
    """Answer one request and close (the fake serves one request per connection)."""
    conn.sendall(
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    conn.close()


MODELS = json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode()


def quiet_agent(backend, tmp_path) -> Agent:
    """An agent with no tools on `backend`: greedy, 40 tokens an answer."""
    config = Config()
    config.generation.temperature = 0.0
    config.generation.max_tokens = 40
    return Agent(config, ToolRegistry([]), store=Store(tmp_path / "db"), backend=backend, workspace=tmp_path)


async def one_turn(agent, text="Hello?", cancel_after: float | None = None):
    session = agent.new_session()
    if cancel_after is not None:
        asyncio.get_running_loop().call_later(cancel_after, agent.cancel)
    return session, [e async for e in agent.run_turn(session, text)]


def serving(completions):
    """A fake server's answers: /v1/models lists one model, /v1/completions is `completions`,
    anything else (tokenize, props) is a 404."""

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, MODELS)
        elif path == "/v1/completions":
            completions(conn)
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    return respond


def sse_chunk(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"text": text, "index": 0, "finish_reason": None}]}).encode() + b"\n\n"


async def turn_events(fake_server, tmp_path, completions, timeout: float = 10):
    """One turn of a quiet agent against a fake server whose /v1/completions is `completions`:
    (the text shown, the error messages). The chat must go on after it (TurnDone last)."""
    from thau_tui.engine.events import Error, TextDelta, TurnDone
    from thau_tui.engine.openai_backend import OpenAiBackend

    server = fake_server(serving(completions))
    backend = OpenAiBackend(server.url, timeout=timeout)
    try:
        _, events = await one_turn(quiet_agent(backend, tmp_path))
        assert backend.streams_open == 0
    finally:
        backend.close()
    assert isinstance(events[-1], TurnDone)  # the chat goes on
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    return shown, [e.message for e in events if isinstance(e, Error)]
