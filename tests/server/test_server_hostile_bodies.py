"""Compressed answers from a hostile server (servers review): httpx asked for gzip and
deflate and unpacked them, stacked too ("Content-Encoding: gzip, gzip"), with no bound, so
one read of a 1,828-byte answer became 1 GiB before thau's caps saw a byte (the chat
stream, GET /v1/models at every start and `thau doctor`). thau now asks for identity and
refuses a compressed answer before reading it. Against a real HTTP server on 127.0.0.1
that sends a small bomb (64 MiB unpacked) built here; memory is traced while thau reads."""

from __future__ import annotations

import gzip
import threading
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from server_fakes import MODELS, one_turn, quiet_agent

from thau_tui.engine.events import Error, TextDelta, TurnDone
from thau_tui.engine.openai_backend import OpenAiBackend
from thau_tui.engine.openai_chat import ServerError

BOMB_MIB = 64
# What thau may allocate while it meets the bomb: unpacked, one read alone is BOMB_MIB.
PEAK_LIMIT = 16 * 1024 * 1024
COMPRESSED = r"sent a compressed answer \(Content-Encoding: gzip, gzip\) to {}"


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """BOMB_MIB MiB of zeros gzipped twice: a few hundred bytes on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
    block = bytes(1 << 20)
    once = b"".join(inner.compress(block) for _ in range(BOMB_MIB)) + inner.flush()
    twice = gzip.compress(once, 9)
    assert len(twice) < 4096
    return twice


class BombServer:
    """A ThreadingHTTPServer: `bombed` paths answer the bomb (with `status`), /v1/models the
    model list, /extras/tokenize a count, the rest 404. It keeps each request's Accept-Encoding."""

    def __init__(self, bomb: bytes, bombed: set[str], status: int = 200, content_type: str = "text/event-stream"):
        self.accept_encodings: list[tuple[str, str | None]] = []
        self.bombed = bombed  # read at each request: a test may change it
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                owner.accept_encodings.append((self.path, self.headers.get("Accept-Encoding")))
                if self.path in owner.bombed:
                    self._send(status, bomb, content_type, "gzip, gzip")
                elif self.path == "/v1/models":
                    self._send(200, MODELS, "application/json", "identity")  # said outright: still fine
                elif self.path == "/extras/tokenize":
                    self._send(200, b'{"tokens": [1, 2, 3]}', "application/json")
                else:
                    self._send(404, b'{"detail": "Not Found"}', "application/json")

            def _send(self, code: int, body: bytes, kind: str, encoding: str | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # thau hung up without reading

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def bomb_server(bomb):
    made: list[BombServer] = []

    def make(bombed: set[str], **kwargs) -> BombServer:
        made.append(BombServer(bomb, bombed, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


class Traced:
    """The peak of Python's allocations (every thread's: httpx unpacks on the HTTP loop's)."""

    def __enter__(self) -> Traced:
        tracemalloc.start()
        return self

    def __exit__(self, *exc) -> None:
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def _asked_identity(server: BombServer) -> None:
    assert server.accept_encodings, "no request reached the server"
    assert all(said == "identity" for _, said in server.accept_encodings), server.accept_encodings


def test_a_compressed_model_list_at_connect_is_refused_unread(bomb_server):
    server = bomb_server({"/v1/models"})
    with Traced() as traced, pytest.raises(ServerError, match=COMPRESSED.format("GET /v1/models")):
        OpenAiBackend(server.url, timeout=10, tool_calls="dialect")
    assert traced.peak < PEAK_LIMIT, f"{traced.peak / 2**20:.0f} MiB allocated"
    _asked_identity(server)


def test_a_compressed_props_or_tokenizer_probe_at_connect_is_skipped(bomb_server):
    """/props and the tokenizer's probe are optional: refused, thau connects without them."""
    server = bomb_server({"/props", "/extras/tokenize", "/tokenize"})
    with Traced() as traced:
        backend = OpenAiBackend(server.url, timeout=10, tool_calls="dialect")
    try:
        assert backend.tokenize_endpoint is None and backend.server_n_ctx is None
    finally:
        backend.close()
    assert traced.peak < PEAK_LIMIT, f"{traced.peak / 2**20:.0f} MiB allocated"
    _asked_identity(server)


def test_a_compressed_token_count_is_refused_unread(bomb_server):
    server = bomb_server(set())
    backend = OpenAiBackend(server.url, timeout=10, tool_calls="dialect")
    try:
        assert backend.tokenize_endpoint == "/extras/tokenize"  # answered plainly at connect
        server.bombed.add("/extras/tokenize")
        with Traced() as traced, pytest.raises(ServerError, match=COMPRESSED.format("POST /extras/tokenize")):
            backend.count_tokens("How many tokens is this?")
    finally:
        backend.close()
    assert traced.peak < PEAK_LIMIT, f"{traced.peak / 2**20:.0f} MiB allocated"
    _asked_identity(server)


@pytest.mark.parametrize(
    ("tool_calls", "path", "status", "content_type"),
    [
        ("dialect", "/v1/completions", 200, "text/event-stream"),
        ("native", "/v1/chat/completions", 200, "text/event-stream"),
        ("dialect", "/v1/completions", 200, "application/json"),  # a whole answer, not streamed
        ("dialect", "/v1/completions", 500, "application/json"),  # an error's body
    ],
    ids=["stream", "native-stream", "whole-answer", "error-body"],
)
async def test_a_compressed_answer_is_refused_unread_and_the_chat_goes_on(
    bomb_server, tmp_path, tool_calls, path, status, content_type
):
    server = bomb_server({path}, status=status, content_type=content_type)
    backend = OpenAiBackend(server.url, timeout=10, tool_calls=tool_calls)
    try:
        agent = quiet_agent(backend, tmp_path)
        with Traced() as traced:
            _, events = await one_turn(agent, "Hello?")
        assert backend.streams_open == 0
    finally:
        backend.close()
    assert traced.peak < PEAK_LIMIT, f"{traced.peak / 2**20:.0f} MiB allocated"
    errors = [e.message for e in events if isinstance(e, Error)]
    assert len(errors) == 1 and "sent a compressed answer (Content-Encoding: gzip, gzip)" in errors[0], errors
    assert f"POST {path}" in errors[0] and "does not read compressed ones" in errors[0]
    assert not any(isinstance(e, TextDelta) for e in events)
    assert isinstance(events[-1], TurnDone)  # the chat goes on
    _asked_identity(server)
    assert any(seen == path for seen, _ in server.accept_encodings)  # the answer's request among them


def test_a_compressed_answer_to_the_tools_probe_is_refused_unread(bomb_server):
    """The probe of the tools field (model.tool_calls: auto) has a client of its own: a
    512 MiB bomb took the connect from 60 to 1,092 MiB. Refused, thau uses the dialect."""
    server = bomb_server({"/v1/chat/completions"})
    with Traced() as traced:
        backend = OpenAiBackend(server.url, timeout=10, tool_calls="auto")
    try:
        assert backend.tool_path.mode == "dialect" and "compressed" in backend.tool_path.detail
    finally:
        backend.close()
    assert traced.peak < PEAK_LIMIT, f"{traced.peak / 2**20:.0f} MiB allocated"
    _asked_identity(server)
