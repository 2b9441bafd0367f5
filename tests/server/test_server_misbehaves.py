"""A server that answers, but not as an event stream should: a web page, a whole JSON
answer, an endless line, keep-alive comments or empty chunks and nothing else, more tokens
than asked for. Each gets a clear message (or, for the JSON answer, is simply read), never a
misleading one, an ever-growing buffer or a turn that never ends. Against a bare
socket server on 127.0.0.1."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from server_fakes import sse_chunk, turn_events

from thau_tui.engine.openai_backend import OpenAiBackend
from thau_tui.engine.openai_stream import bounded_lines

STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


_events = turn_events


async def test_a_web_page_is_named_as_not_an_event_stream(fake_server, tmp_path):
    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>Proxy login</body></html>\n"

    def completions(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n" + page)
        conn.close()

    shown, errors = await _events(fake_server, tmp_path, completions)
    assert shown == "" and len(errors) == 1
    # before: "closed the stream before the first token ... may exceed its context"
    assert "not a stream of events (text/html)" in errors[0] and "<!DOCTYPE html>" in errors[0]
    assert "model.base_url" in errors[0] and "context" not in errors[0]


async def test_a_whole_json_answer_to_a_stream_request_is_read(fake_server, tmp_path):
    answer = {"choices": [{"text": "Hello there.", "index": 0, "finish_reason": "stop"}]}

    def completions(conn):  # a server that ignores "stream": true
        body = json.dumps(answer).encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        conn.close()

    shown, errors = await _events(fake_server, tmp_path, completions)
    assert (shown, errors) == ("Hello there.", [])


async def test_an_endless_line_is_cut_at_the_cap(fake_server, tmp_path):
    def completions(conn):
        conn.sendall(STREAM_HEAD + sse_chunk("Hi"))
        try:
            for _ in range(64):  # 4 MiB with no newline, then silence: the cap is 1 MiB
                conn.sendall(b"data: " + b"x" * (1 << 16))
        except OSError:
            pass  # thau stopped reading and closed the connection
        conn.close()

    shown, errors = await _events(fake_server, tmp_path, completions)
    assert shown == "Hi" and len(errors) == 1
    assert "a line of over 1 MiB" in errors[0]


def _trickle(first: bytes, repeated: bytes):
    """A server that sends `first`, then `repeated` every 0.1 s for 10 s, never a token more."""

    def completions(conn):
        conn.sendall(STREAM_HEAD + first)
        try:
            for _ in range(100):
                conn.sendall(repeated)
                time.sleep(0.1)
        except OSError:
            pass  # thau stopped reading and closed the connection
        conn.close()

    return completions


@pytest.mark.parametrize(
    ("first", "repeated", "text"),
    [
        (b"", b": ping\n\n", ""),  # keep-alive comments
        # chunks with nothing in them (before: the turn lasted the server's whole 10 s)
        (sse_chunk("Hi"), b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": null}]}\n\n', "Hi"),
    ],
    ids=["comments", "empty-chunks"],
)
async def test_a_silent_server_is_not_held_open(fake_server, tmp_path, first, repeated, text):
    started = time.monotonic()
    shown, errors = await _events(fake_server, tmp_path, _trickle(first, repeated), timeout=1)
    assert time.monotonic() - started < 6  # ended near model.timeout, not after the server's 10 s
    assert shown == text and len(errors) == 1 and "did not answer for 1 s (model.timeout)" in errors[0]


async def test_empty_chunks_after_the_finish_end_the_answer(fake_server, tmp_path):
    """A finish reason, then '{}' chunks and no [DONE]: each had reset the silence clock, so
    the turn lasted as long as the server went on. The answer is over soon after the finish."""
    finish = b'data: {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}\n\n'
    started = time.monotonic()
    shown, errors = await _events(fake_server, tmp_path, _trickle(sse_chunk("Done.") + finish, b"data: {}\n\n"))
    assert time.monotonic() - started < 6 and shown == "Done." and errors == []


async def test_a_finish_then_silence_with_the_connection_open_ends_the_answer(fake_server, tmp_path):
    """finish_reason "stop", then nothing: no [DONE], no close. The answer was whole, yet the
    status said "writing…" until model.timeout and the turn failed ("did not answer"), and a
    one-shot -m exited 1 (servers review)."""
    finish = b'data: {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}\n\n'
    started = time.monotonic()
    shown, errors = await _events(fake_server, tmp_path, _trickle(sse_chunk("All done.") + finish, b""), timeout=30)
    assert time.monotonic() - started < 8 and shown == "All done." and errors == [], errors


async def test_a_thinking_models_reasoning_counts_as_an_answer(fake_server, tmp_path):
    """reasoning_content deltas carry no answer text; counted as silence, a model that thinks
    longer than model.timeout would have been stopped."""
    thinking = b'data: {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm "}}]}\n\n'

    def completions(conn):
        conn.sendall(STREAM_HEAD)
        for _ in range(15):  # 1.5 s of thinking, with model.timeout 1 s
            conn.sendall(thinking)
            time.sleep(0.1)
        conn.sendall(sse_chunk("Yes.") + b"data: [DONE]\n\n")
        conn.close()

    shown, errors = await _events(fake_server, tmp_path, completions, timeout=1)
    assert errors == [] and shown.endswith("Yes.")


async def test_a_server_that_ignores_max_tokens_is_stopped(fake_server, tmp_path):
    def completions(conn):  # asked for 40 tokens (quiet_agent), sends a token forever
        conn.sendall(STREAM_HEAD)
        try:
            for _ in range(5000):
                conn.sendall(sse_chunk("la "))
        except OSError:
            pass
        conn.close()

    shown, errors = await _events(fake_server, tmp_path, completions)
    assert len(errors) == 1 and "went on past the 40 tokens" in errors[0] and "partial answer is kept" in errors[0]
    assert shown.startswith("la la ") and shown.count("la") <= 2 * 40 + 64 + 1


@pytest.mark.parametrize(
    ("pieces", "lines"),
    [
        ([b"a\r", b"\nb\n"], ["a", "b"]),  # \r\n split across two reads is one end, not two
        ([b"a\rb\r\n\r\nc"], ["a", "b", "", "c"]),
        ([b"data: 1\n\n", b"data: 2"], ["data: 1", "", "data: 2"]),
    ],
)
async def test_bounded_lines_splits_like_httpx(pieces, lines):
    async def body():
        for piece in pieces:
            yield piece

    response = httpx.Response(200, content=body())
    assert [line async for line in bounded_lines(response)] == lines
    response = httpx.Response(200, content=body())
    assert [line async for line in response.aiter_lines()] == lines


def test_a_huge_answer_outside_the_stream_is_cut_with_a_message(fake_server):
    """Non-stream answers (the model list, /props, a whole completion, an error body) were
    read whole: a 64 MB /v1/models answer grew thau by ~577 MB. Now at most MAX_BODY_BYTES."""
    from server_fakes import send_json

    from thau_tui.engine.openai_chat import MAX_BODY_BYTES
    from thau_tui.engine.openai_chat import ServerError as ChatServerError

    huge = b'{"data": [{"id": "m", "pad": "' + b"x" * (MAX_BODY_BYTES + 1024) + b'"}]}'

    def respond(path, conn):
        send_json(conn, huge if path == "/v1/models" else b'{"detail": "Not Found"}')

    server = fake_server(respond)
    started = time.monotonic()
    with pytest.raises(ChatServerError, match=r"answered more than 4 MB to GET /v1/models; thau stopped reading"):
        OpenAiBackend(server.url, timeout=10)
    assert time.monotonic() - started < 30


def _flood(chunk: bytes, times: int):
    def completions(conn):
        conn.sendall(STREAM_HEAD)
        try:
            for _ in range(times):
                conn.sendall(chunk)
        except OSError:
            pass  # thau stopped reading
        conn.close()

    return completions


async def test_a_server_that_resets_its_token_count_or_sends_huge_chunks_is_stopped(fake_server, tmp_path):
    """The cap on an answer counted chunks and took the server's word over thau's: `usage`
    with completion_tokens 0 in every chunk reset the count (20,000 chunks past a cap of
    144 ran until the server stopped), and 400 chunks of 1 MiB each passed as 400 tokens
    (419 million characters kept in the draft). thau's own count of pieces and characters
    decides now."""
    reset = json.dumps({"choices": [{"text": "spam ", "index": 0}], "usage": {"completion_tokens": 0}})
    shown, errors = await _events(fake_server, tmp_path, _flood(f"data: {reset}\n\n".encode(), 3000))
    assert len(errors) == 1 and "went on past the 40 tokens" in errors[0], errors
    assert shown.count("spam") <= 2 * 40 + 64 + 1
    huge = sse_chunk("x" * 200_000)
    shown, errors = await _events(fake_server, tmp_path, _flood(huge, 100))
    assert len(errors) == 1 and "went on past the 40 tokens" in errors[0], errors
    assert len(shown) <= 64 * (2 * 40 + 64) + 200_000  # before: 20 million


async def test_lines_without_data_after_the_first_chunk_do_not_hold_the_turn_open(fake_server, tmp_path):
    """After the first chunk a line that was neither data nor a comment skipped the silence
    check: a server sending 'x' lines held the turn past model.timeout for as long as it went on."""
    started = time.monotonic()
    shown, errors = await _events(fake_server, tmp_path, _trickle(sse_chunk("Hi"), b"x\n"), timeout=1)
    assert time.monotonic() - started < 6  # before: the server's whole 10 s
    assert shown == "Hi" and len(errors) == 1 and "did not answer for 1 s" in errors[0], errors


async def test_a_line_sent_a_character_at_a_time_is_read_in_linear_time():
    """The buffer was joined and searched again at every piece: a 1 MiB line in 1-byte
    pieces took about 14 s of CPU."""
    pieces = 1_000_000

    async def body():
        yield b"data: "
        for _ in range(pieces):
            yield b"x"
        yield b"\n\nmore\n"

    response = httpx.Response(200, content=body())
    started = time.monotonic()
    lines = [line async for line in bounded_lines(response)]
    assert time.monotonic() - started < 5
    assert lines == ["data: " + "x" * pieces, "", "more"]


async def test_mixed_line_endings_in_one_piece_are_read_in_linear_time():
    """Each line searched the rest of the buffer for both endings: 512,000 CR-ended lines
    with one LF at the end took 1.9 s, a multi-MB piece minutes."""
    lines_sent = 1_000_000

    async def body():
        yield b"x\r" * lines_sent + b"y\n"

    started = time.monotonic()
    lines = [line async for line in bounded_lines(httpx.Response(200, content=body()))]
    assert time.monotonic() - started < 5
    assert len(lines) == lines_sent + 1 and lines[-1] == "y"
