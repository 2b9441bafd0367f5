"""A server with /v1/models and /v1/chat/completions but no /v1/completions, which ignores
the `tools` field (eco review, 2026-12-07 night): `auto` gave it the dialect, every message
failed with "has no /v1/completions (404: Not Found)" (exit 1) and `thau doctor` said
"tools: dialect" with exit 0. Now `auto` takes its chat completions and says so; the
dialect, asked for in config.yaml, stays, and `thau doctor` names the missing endpoint."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from http_fakes import send_json, serve
from server_fakes import one_turn, quiet_agent

from thau_tui.cli import main
from thau_tui.engine.events import Error, TextDelta, TurnDone
from thau_tui.engine.openai_backend import OpenAiBackend

ANSWER = "Hello from the chat endpoint."


class ChatOnlyServer:
    """An OpenAI-compatible server on 127.0.0.1 that ignores `tools`: /v1/models and
    /v1/chat/completions (streamed or whole, the same prompt count with or without tools),
    and /v1/completions only when `completions` is set."""

    def __init__(self, completions: bool = False) -> None:
        self.asked: list[str] = []  # "POST /v1/chat/completions", in order
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.asked.append(f"GET {self.path}")
                if self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "chat-only", "object": "model"}]})
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.asked.append(f"POST {self.path}")
                if self.path == "/v1/chat/completions":
                    self._answer(body, {"delta": {"content": ANSWER}}, {"message": {"content": ANSWER}})
                elif self.path == "/v1/completions" and completions:
                    self._answer(body, {"text": ANSWER}, {"text": ANSWER})
                else:
                    self._json(404, {"detail": "Not Found"})

            def _answer(self, body: dict, streamed: dict, whole: dict) -> None:
                usage = {"prompt_tokens": 12, "completion_tokens": 6}
                if not body.get("stream"):
                    return self._json(
                        200, {"choices": [{"index": 0, **whole, "finish_reason": "stop"}], "usage": usage}
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = {"choices": [{"index": 0, **streamed, "finish_reason": "stop"}], "usage": usage}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n")
                self.close_connection = True

            _json = send_json

        self.httpd, self.url = serve(Handler)
        self.root = self.url.removesuffix("/v1")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_only():
    started: list[ChatOnlyServer] = []

    def start(completions: bool = False) -> ChatOnlyServer:
        started.append(ChatOnlyServer(completions))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _config(tmp_path: Path, tool_calls: str = "auto") -> str:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    path = tmp_path / f"config-{tool_calls}.yaml"
    path.write_text(
        f"model:\n  tool_calls: {tool_calls}\n  timeout: 10\ngeneration:\n  max_tokens: 24\n"
        f"tools:\n  workspace: {workspace}\n",
        encoding="utf-8",
    )
    return str(path)


async def test_auto_takes_the_chat_endpoint_and_a_message_is_answered(chat_only, tmp_path):
    server = chat_only()
    backend = OpenAiBackend(server.url, timeout=10)
    try:
        assert backend.native_tools, backend.tool_path
        assert backend.tool_path.status() == "tools: native (no /v1/completions)"
        assert "has no /v1/completions (404: Not Found)" in backend.tool_path.detail
        assert "ignores the tools field" in backend.tool_path.detail  # why the model may not see them
        _, events = await one_turn(quiet_agent(backend, tmp_path), "Hello?")
        assert backend.streams_open == 0
    finally:
        backend.close()
    assert [e.message for e in events if isinstance(e, Error)] == []
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == ANSWER
    assert isinstance(events[-1], TurnDone)
    assert server.asked.count("POST /v1/completions") == 1  # asked once, at connect; the turn went to chat
    assert server.asked[-1] == "POST /v1/chat/completions"


def test_a_server_with_completions_that_ignores_tools_keeps_the_dialect(chat_only):
    backend = OpenAiBackend(chat_only(completions=True).url, timeout=10)
    try:
        assert backend.tool_path.status() == "tools: dialect (server ignores tools)"
    finally:
        backend.close()


def test_one_shot_and_doctor_in_auto_use_the_chat_endpoint(chat_only, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    server = chat_only()
    config = _config(tmp_path)
    assert main(["--config", config, "--base-url", server.url, "-m", "Say hello."]) == 0, capsys.readouterr().err
    assert ANSWER in capsys.readouterr().out
    assert main(["--config", config, "--base-url", server.url, "doctor"]) == 0
    out = capsys.readouterr().out
    assert (
        "tools: native: the server's tools field on /v1/chat/completions (the server has no /v1/completions" in out
    ), out
    assert "problems:" not in out


def test_dialect_set_in_config_is_kept_and_doctor_names_the_missing_endpoint(chat_only, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    server = chat_only()
    config = _config(tmp_path, "dialect")
    assert main(["--config", config, "--base-url", server.url, "doctor"]) == 1
    out = capsys.readouterr().out
    assert "tools: dialect: thau's own dialect over /v1/completions (model.tool_calls: dialect" in out, out
    problems = out.splitlines()[-1]
    assert problems.startswith(f"problems: the server at {server.root} has no /v1/completions (404: Not Found)"), out
    assert "model.tool_calls: auto or native" in problems
    assert main(["--config", config, "--base-url", server.url, "-m", "Say hello."]) == 1
    assert f"the server at {server.root} has no /v1/completions (404: Not Found)" in capsys.readouterr().err
    assert "POST /v1/chat/completions" not in server.asked  # set in config: no probe, no fallback
