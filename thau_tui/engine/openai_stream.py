"""The HTTP stream to an OpenAI-compatible server, OpenAiBackend's base class.

Every server backend's requests run on one asyncio loop in a daemon thread (`http_loop`);
`_pump` hands their pieces to the caller's thread, an empty one every HEARTBEAT_S while
the server is silent, and closing the caller's iterator cancels the request there at once.
`_read` reads the server-sent events (`data:` lines, each a JSON object, an error in a
chunk, llama-server's timings, usage), asks again without streaming when a server drops
a native call's stream before its first chunk, and turns every way a server fails
(refused, unreachable, timed out, cut off, unreadable) into a message a user can act on.
A server is read defensively: a line has a size cap (MAX_LINE_CHARS), keep-alive comments
and chunks with nothing in them do not hold a silent server open past model.timeout, a stream that runs far past
max_tokens is ended, and a page that is not an event stream (HTML from a proxy or a
wrong base_url) is named as such; a plain JSON answer to a stream request is read whole.
Each `tool_calls` entry gets the number of the call it belongs to first (call_numbers.py).
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import threading
import time
from typing import Any, AsyncGenerator, Callable, Coroutine, Generator

import httpx

from .backend import StreamStats
from .call_numbers import CallNumbers, whole_calls_numbered
from .openai_chat import CallDelta, ServerError, _detail, apply_usage, aread_capped, arefuse_compressed, read_message

# How often stream() hands back an empty piece while the server is silent, so the
# caller (generate.py) can look at its cancel flag and close the stream.
HEARTBEAT_S = 0.1
Piece = str | CallDelta
# One server-sent line holds one chunk (a token or two): a line this long is a broken or
# hostile server, not an answer, and it is not buffered further.
MAX_LINE_CHARS = 1 << 20
# After the finish reason, how long empty chunks may go on before the answer counts as over.
FINISHED_GRACE_S = 2.0


def says_something(chunk: dict[str, Any]) -> bool:
    """Whether a chunk carries anything of the answer: a non-empty text, reasoning or call in
    a choice's delta (or a completion's text). A stream of chunks without any is silence."""
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str) and choice["text"]:
            return True
        delta = choice.get("delta")
        if isinstance(delta, dict) and any(
            value not in (None, "", [], {}) for key, value in delta.items() if key != "role"
        ):
            return True
    return False


# A stream may run this far past the max_tokens thau asked for (chunks are not exactly
# tokens) before it is ended as a server that ignores the limit. Counted by thau, never
# lowered by the server's `usage` (a count of 0 in every chunk let a stream run forever),
# and in characters of text too: one chunk can hold a megabyte (a call's are capped by
# call_scanner.MAX_CALL_CHARS, which makes it an invalid call the chat shows).
OVERRUN_FACTOR, OVERRUN_SLACK = 2, 64
CHARS_PER_TOKEN_CAP = 64  # a token is rarely over 16 characters; 64 leaves room for runs of spaces
# Lines of the event-stream format that carry no data (a name, an id, a retry hint).
SSE_FIELDS = ("event:", "id:", "retry:")


class _NotAStream(Exception):
    """The first line that is neither an event nor a comment: what the server sent instead."""


async def bounded_lines(
    response: httpx.Response, limit: int = MAX_LINE_CHARS, idle_s: float | None = None
) -> AsyncGenerator[str, None]:
    """The response's lines (\n, \r\n or \r), like httpx's aiter_lines, but a line over
    `limit` characters is a ServerError instead of an ever-growing buffer, and with `idle_s`
    a line still unfinished that long after the last one is a ReadTimeout (a byte every
    half second held a turn open: httpx's timeout is per read). Linear in what arrives: a
    line sent a character at a time is joined once, and lines are cut without copying the
    rest of the buffer each time (both were quadratic: a 1 MiB line in 1-byte pieces took
    seconds of CPU)."""
    rest = ""  # the unfinished line after the last line end
    parts: list[str] = []  # pieces of it that hold no line end, not yet joined
    size = 0
    last_line = time.monotonic()
    async for text in response.aiter_text():
        if "\n" not in text and "\r" not in text and not rest.endswith("\r"):
            parts.append(text)
            size += len(text)
            if size > limit:
                raise _endless_line(limit)
            if idle_s is not None and time.monotonic() - last_line > idle_s:
                raise httpx.ReadTimeout("a line that never ends")
            continue
        last_line = time.monotonic()
        buffer, parts = rest + "".join(parts) + text, []
        at = 0
        # the next \n and \r at or after `at`, each searched again only once passed (-1: none
        # left): searching both from `at` for every line was quadratic on mixed endings
        next_nl, next_cr = buffer.find("\n"), buffer.find("\r")
        while True:
            if 0 <= next_nl < at:
                next_nl = buffer.find("\n", at)
            if 0 <= next_cr < at:
                next_cr = buffer.find("\r", at)
            cut = min((i for i in (next_nl, next_cr) if i >= 0), default=-1)
            if cut < 0 or (cut == len(buffer) - 1 and buffer[cut] == "\r"):
                break  # no end yet, or a \r whose \n may come in the next piece
            yield buffer[at:cut]
            at = cut + 2 if buffer.startswith("\r\n", cut) else cut + 1
        rest = buffer[at:]
        size = len(rest)
        if size > limit:
            raise _endless_line(limit)
    tail = (rest + "".join(parts)).rstrip("\r")
    if tail:
        yield tail


def _endless_line(limit: int) -> ServerError:
    return ServerError(
        f"the server sent a line of over {limit // (1 << 20)} MiB with no end; thau stopped reading it "
        "(a server that streams events sends one short line a chunk)"
    )


class _Ended:
    """The request is over (its last piece or its error came before)."""


_END = _Ended()
_HTTP_LOOP: asyncio.AbstractEventLoop | None = None
_HTTP_LOOP_LOCK = threading.Lock()


def http_loop() -> asyncio.AbstractEventLoop:
    """The one asyncio loop (in a daemon thread, started on first use) where every server
    backend's streams run: reloading a backend never adds a thread."""
    global _HTTP_LOOP
    with _HTTP_LOOP_LOCK:
        if _HTTP_LOOP is None:
            _HTTP_LOOP = asyncio.new_event_loop()
            threading.Thread(target=_HTTP_LOOP.run_forever, name="thau-http", daemon=True).start()
        return _HTTP_LOOP


class ServerStream:
    """OpenAiBackend's streaming half: the requests on the HTTP loop, their chunks read and
    their failures said plainly. OpenAiBackend.__init__ sets the attributes below."""

    base_url: str
    root: str
    api_key_env: str | None
    timeout_s: float
    streams_open: int
    _timeout: httpx.Timeout
    _headers: dict[str, str]
    _aclient: httpx.AsyncClient | None
    _open_lock: threading.Lock

    def _unreachable(self, exc: Exception) -> str:
        return (
            f"no server at {self.root} ({type(exc).__name__}): start it (e.g. "
            "`python -m llama_cpp.server --model X`) or fix model.base_url"
        )

    def _timeout_message(self, exc: Exception) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"the server at {self.root} did not accept a connection in time (model.connect_timeout)"
        return (
            f"the server at {self.root} did not answer for {self.timeout_s:g} s (model.timeout): "
            "it may be busy or stuck; try again, or raise model.timeout"
        )

    def _refused_key(self, response: httpx.Response) -> str:
        said = _detail(response)
        if self.api_key_env:
            return (
                f"the server at {self.root} refused the API key in ${self.api_key_env} "
                f"({response.status_code}: {said}): check the key in that environment variable"
            )
        return (
            f"the server at {self.root} wants an API key ({response.status_code}: {said}): put it in an "
            "environment variable and name that variable in model.api_key_env"
        )

    def _new_aclient(self) -> httpx.AsyncClient:
        """A client for the HTTP loop that reads no compressed answer (openai_chat.refuse_compressed;
        `_headers` asks for none)."""
        return httpx.AsyncClient(
            headers=self._headers, timeout=self._timeout, event_hooks={"response": [arefuse_compressed]}
        )

    def _async_client(self) -> httpx.AsyncClient:
        """The client every request on the HTTP loop shares (made there, on first use)."""
        if self._aclient is None:
            self._aclient = self._new_aclient()
        return self._aclient

    def _pump(
        self, reader: Callable[[queue.SimpleQueue[Piece | BaseException | _Ended]], Coroutine[Any, Any, None]]
    ) -> Generator[Piece, None, None]:
        """Run `reader` on the HTTP loop and hand its pieces over as they come."""
        pieces: queue.SimpleQueue[Piece | BaseException | _Ended] = queue.SimpleQueue()
        closed = threading.Event()
        with self._open_lock:
            self.streams_open += 1
        future = asyncio.run_coroutine_threadsafe(reader(pieces), http_loop())
        future.add_done_callback(lambda _f: closed.set())  # also when cancelled before it ran
        finished = False
        try:
            while True:
                try:
                    item = pieces.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    yield ""
                    continue
                if isinstance(item, _Ended):
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
            finished = True
        finally:
            if not finished:
                future.cancel()  # the request's task is cancelled on the loop: the socket closes
            closed.wait(5)
            with self._open_lock:
                self.streams_open -= 1

    async def _read(
        self,
        path: str,
        body: dict[str, Any],
        pieces: queue.SimpleQueue[Piece | BaseException | _Ended],
        stats: StreamStats,
        parse: Callable[[dict[str, Any]], list[Piece]],
        whole: bool = False,
    ) -> None:
        """Stream `body` to `path`, each chunk's pieces into `pieces`, then _END. `whole`: a
        stream that closes before its first chunk is asked again, not streamed (below)."""
        started = time.perf_counter()
        done = chunks = False
        numbers = CallNumbers()  # a server's calls without an index kept apart (native calls review)
        try:
            client = self._async_client()
            # llama-cpp-python's server (0.3, chatml-function-calling) cannot stream a call the model
            # chose itself: it drops the connection without a word, before or after its headers.
            # Asked again without streaming, it answers, or says why it cannot (context, say).
            dropped = (httpx.ReadError, httpx.RemoteProtocolError) if whole else ()
            try:
                async with client.stream("POST", f"{self.base_url}{path}", json=body) as response:
                    if response.status_code != 200:
                        raise self._stream_refused(await aread_capped(response), path)
                    if _content_type(response) == "application/json":
                        # a server that ignores "stream": the whole answer in one JSON body
                        whole_answer = await aread_capped(response)
                        await self._answer_whole(whole_answer, path, pieces, stats, started, body.get("max_tokens"))
                        return
                    cap = OVERRUN_FACTOR * int(body.get("max_tokens") or 0) + OVERRUN_SLACK
                    counted = chars = 0  # thau's own count of pieces and their characters
                    heard = time.monotonic()  # the last chunk that said something: keep-alives do not count
                    lines = bounded_lines(response, idle_s=self.timeout_s)
                    while True:
                        try:  # after a finish reason, silence ends the answer (no [DONE], the
                            # connection held open: "did not answer for 120 s", servers review)
                            wait = FINISHED_GRACE_S if stats.finish_reason is not None else None
                            line = await asyncio.wait_for(anext(lines), wait)
                        except StopAsyncIteration:
                            break
                        except asyncio.TimeoutError:
                            await lines.aclose()
                            break
                        if not line.startswith("data:"):
                            if line.strip() and not line.startswith(":") and not line.startswith(SSE_FIELDS):
                                if not chunks:
                                    raise _NotAStream(_content_type(response) or "no content type", line)
                            if time.monotonic() - heard > self.timeout_s:  # lines that are not an answer
                                raise httpx.ReadTimeout("only keep-alive comments or lines with no data")
                            continue  # blank separators, ": ping" comments, event names
                        data = line[5:].strip()
                        if data == "[DONE]":
                            done = True
                            break
                        chunk = json.loads(data)
                        if not isinstance(chunk, dict):
                            raise ValueError(f"a chunk that is not a JSON object: {data[:80]!r}")
                        chunks = True
                        if chunk.get("error"):
                            error = chunk["error"]
                            raise ServerError(
                                f"the server stopped the answer: "
                                f"{error.get('message', error) if isinstance(error, dict) else error}"
                            )
                        timings = chunk.get("timings")
                        if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
                            stats.evaluated = timings["prompt_n"]  # llama-server: prompt tokens not in its cache
                        items = list(parse(numbers.number(chunk)))
                        # a chunk of reasoning or of keys thau does not read counts too: such
                        # chunks alone kept a stream going past any limit (attacker review)
                        quiet = not any(item != "" for item in items) and says_something(chunk)
                        counted += quiet
                        for item in items:
                            self._arrived(item, stats, started)
                            counted += item != ""
                            chars += len(item) if isinstance(item, str) else 0  # a call: call_scanner's MAX_CALL_CHARS
                            pieces.put(item)
                        apply_usage(chunk, stats)  # after the chunk's pieces: the server's count wins
                        if items or quiet:
                            heard = time.monotonic()  # text, a call, or a thinking model's reasoning
                        elif stats.finish_reason is not None and time.monotonic() - heard > FINISHED_GRACE_S:
                            break  # finished: empty chunks after it (no [DONE]) end the answer
                        elif time.monotonic() - heard > self.timeout_s:
                            raise httpx.ReadTimeout("only chunks with nothing in them")
                        if max(stats.tokens, counted) > cap or chars > CHARS_PER_TOKEN_CAP * cap:
                            so_far = f"{max(stats.tokens, counted)} pieces, {chars:,} characters so far"
                            raise ServerError(
                                f"the server at {self.root} went on past the {body.get('max_tokens')} tokens thau "
                                f"asked for ({so_far}); thau stopped reading. The partial answer is kept"
                            )
                        done = done or stats.finish_reason is not None  # some servers send no [DONE] after it
            except dropped:
                if chunks:
                    raise
            if whole and not chunks and not done:
                # The server closes that connection just after: a pooled one would fail the next request.
                await client.aclose()
                self._aclient = self._new_aclient()
                await self._read_whole(path, body, pieces, stats, started)
                return
            if not done and not stats.tokens:
                # llama-cpp-python's server says nothing more when the prompt overflows its context
                raise ServerError(
                    f"the server at {self.root} closed the stream before the first token, giving no reason "
                    f"(its log has it). A prompt of {stats.prompt_tokens} tokens may exceed its context: "
                    "set model.n_ctx to the server's context size so thau trims old messages, or /new"
                )
            if not done:
                raise ServerError(
                    f"the server at {self.root} ended the answer halfway (after {stats.tokens} tokens, "
                    "with no end marker); the partial answer is kept"
                )
        except ServerError as exc:
            pieces.put(exc)
        except _NotAStream as exc:
            pieces.put(
                ServerError(
                    f"the server at {self.root} answered with something that is not a stream of events "
                    f"({exc.args[0]}), beginning {visible_start(exc.args[1])!r}: "
                    "is model.base_url its OpenAI-compatible API (often ending in /v1), not a web page or a proxy?"
                )
            )
        except httpx.TimeoutException as exc:
            pieces.put(ServerError(self._timeout_message(exc)))
        except httpx.TransportError as exc:
            if stats.tokens:
                message = (
                    f"the connection to {self.root} broke halfway through the answer "
                    f"({type(exc).__name__}); the partial answer is kept"
                )
            else:
                message = self._unreachable(exc)
            pieces.put(ServerError(message))
        except Exception as exc:  # noqa: BLE001 - a malformed chunk: said, not a crash
            pieces.put(
                ServerError(f"the server at {self.root} sent something thau cannot read: {type(exc).__name__}: {exc}")
            )
        finally:  # also when cancelled (the reader closed the stream): the socket is closed by now
            pieces.put(_END)

    async def _read_whole(
        self,
        path: str,
        body: dict[str, Any],
        pieces: queue.SimpleQueue[Piece | BaseException | _Ended],
        stats: StreamStats,
        started: float,
    ) -> None:
        async with self._async_client().stream(
            "POST", f"{self.base_url}{path}", json={**body, "stream": False}
        ) as streamed:
            response = await aread_capped(streamed)
        if response.status_code != 200:
            raise self._stream_refused(response, path)
        await self._answer_whole(response, path, pieces, stats, started, body.get("max_tokens"))

    async def _answer_whole(
        self,
        response: httpx.Response,
        path: str,
        pieces: queue.SimpleQueue[Piece | BaseException | _Ended],
        stats: StreamStats,
        started: float,
        body_max_tokens: int | None = None,
    ) -> None:
        """A whole (not streamed) JSON answer, read into pieces like a stream's chunks."""
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("the answer is not a JSON object")
        if answer.get("error"):
            error = answer["error"]
            said = error.get("message", error) if isinstance(error, dict) else error
            raise ServerError(f"the server stopped the answer: {said}")
        if path == "/completions":
            items = _completion_texts(answer, stats)
        else:  # each entry a call of its own, whatever its id (native calls review)
            items = read_message(whole_calls_numbered(answer), stats)
        cap = CHARS_PER_TOKEN_CAP * (OVERRUN_FACTOR * int(body_max_tokens or 0) + OVERRUN_SLACK)
        if sum(len(item) for item in items if isinstance(item, str)) > cap:  # 15 MiB for 40 tokens
            raise ServerError(
                f"the server at {self.root} answered with far more than the {body_max_tokens} tokens thau asked "
                "for; thau did not show it"
            )
        for item in items:
            self._arrived(item, stats, started)
            pieces.put(item)
        apply_usage(answer, stats)
        stats.finish_reason = stats.finish_reason or "stop"

    @staticmethod
    def _arrived(item: Piece, stats: StreamStats, started: float) -> None:
        if item == "":
            return
        stats.tokens += 1  # one chunk a token on llama.cpp's servers; usage, when sent, wins
        if stats.first_token_s is None:
            stats.first_token_s = time.perf_counter() - started

    def _stream_refused(self, response: httpx.Response, path: str) -> ServerError:
        if response.status_code in (401, 403):
            return ServerError(self._refused_key(response))
        said = _detail(response)
        if re.search(r"context|too long|exceed", said, re.IGNORECASE):
            return ServerError(
                f"the conversation no longer fits the server's context ({said}); start a new chat (/new), "
                "or lower model.n_ctx to the server's context size so thau trims old messages first"
            )
        if response.status_code == 404:
            return ServerError(
                f"the server at {self.root} has no /v1{path} (404: {said}); thau needs "
                f"an OpenAI-compatible server with that endpoint"
                + ("" if path == "/completions" else " (or model.tool_calls: dialect)")
            )
        return ServerError(f"the server at {self.root} refused the request ({response.status_code}: {said})")


def _completion_texts(chunk: dict[str, Any], stats: StreamStats) -> list[Piece]:
    """A /v1/completions chunk's text pieces; stats updated (finish reason, usage)."""
    texts: list[Piece] = []
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            raise ValueError(f"a choice that is not a JSON object: {str(choice)[:80]!r}")
        text = choice.get("text") or ""
        if not isinstance(text, str):
            raise ValueError(f"a text that is not a string: {str(text)[:80]!r}")
        if text:
            texts.append(text)
        if choice.get("finish_reason"):
            stats.finish_reason = choice["finish_reason"]
    return texts


def _content_type(response: httpx.Response) -> str:
    kind: str = response.headers.get("content-type", "")
    return kind.split(";")[0].strip().lower()


def visible_start(text: str, size: int = 80) -> str:
    """The first `size` characters of what a server sent, on one line."""
    return " ".join(text.split())[:size]
