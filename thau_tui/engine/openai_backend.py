"""An OpenAI-compatible server as the backend: llama.cpp's llama-server,
llama-cpp-python's server, Ollama, LM Studio, vLLM.

Tool calls travel one of two ways (`model.tool_calls`, `ToolCallPath`):
- native: `/v1/chat/completions` with the registry's schemas in the `tools` field; the
  server's template shows them and its parser returns `tool_calls` deltas
  (engine/openai_chat.py reads them, engine/native_turn.py turns them into calls).
- dialect: thau renders the prompt itself and streams `/v1/completions` (the same
  dialects, grammar-constrained calls and cards as the local model; the prompt stays
  byte-stable, so the server's prefix cache is reused). The GBNF grammar goes in the
  request's `grammar` field, which llama.cpp's and llama-cpp-python's servers honour.
`auto` asks the server once, when connecting (engine/tool_path.py), and takes native
only when the server answers the probe with a tool call or shows it read the tools.

The HTTP stream runs on one asyncio loop in a daemon thread, so closing the
stream (Esc) cancels the request there at once, even while the server is silent.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Generator

import httpx

from .backend import ModelLoadError, SamplingSettings, StreamStats
from .openai_chat import (
    CallDelta,
    CallSlots,
    ServerError,
    ToolCallsMode,
    _detail,
    apply_usage,
    chat_body,
    read_chunk,
    read_message,
)
from .prompt import CHATML, ChatTemplate, read_gguf_metadata, template_for
from .tool_path import choose_tool_path

if TYPE_CHECKING:
    from ..config import Config

# How often stream() hands back an empty piece while the server is silent, so the
# caller (generate.py) can look at its cancel flag and close the stream.
HEARTBEAT_S = 0.1
# The tokenize endpoints known, tried in this order: llama-cpp-python's, then llama-server's.
TOKENIZE_ENDPOINTS = (("/extras/tokenize", "input"), ("/tokenize", "content"))
Piece = str | CallDelta


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


def api_root(base_url: str) -> tuple[str, str]:
    """(the OpenAI base URL ending in /v1, the server's root) for what the user wrote."""
    url = base_url.strip().rstrip("/")
    if not url.endswith("/v1"):
        url += "/v1"
    return url, url[: -len("/v1")]


class OpenAiBackend:
    """A model served over HTTP with the OpenAI API. Loading checks the server: blocking,
    call it from a worker thread."""

    lora_path: str | None = None  # an adapter is the server's business

    def __init__(
        self,
        base_url: str,
        server_model: str | None = None,
        *,
        api_key_env: str | None = None,
        n_ctx: int = 4096,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        chat_template: str | None = None,
        seed: int = 0,
        tool_calls: ToolCallsMode = "auto",
    ) -> None:
        self.base_url, self.root = api_root(base_url)
        self.api_key_env = api_key_env or None
        headers = {}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ModelLoadError(
                    f"model.api_key_env names {self.api_key_env}, but it is not set: "
                    f"export {self.api_key_env}=<your key> before starting thau"
                )
            headers["Authorization"] = f"Bearer {key}"
        self.timeout_s = timeout
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._headers = headers
        self._client = httpx.Client(headers=headers, timeout=self._timeout)
        self.n_ctx = n_ctx
        self._aclient: httpx.AsyncClient | None = None
        self._seeds = random.Random(seed)
        self._counts: dict[str, int] = {}
        self.streams_open = 0  # HTTP streams not yet closed
        self._open_lock = threading.Lock()
        try:
            self._connect(server_model, chat_template)
            self.tool_path = choose_tool_path(self, tool_calls)
        except BaseException:
            self._client.close()
            raise

    def _connect(self, server_model: str | None, chat_template: str | None) -> None:
        """Check the server and the model; learn the tokenizer, context and template."""
        started = time.perf_counter()
        self.models = self.list_models()
        if server_model and server_model not in self.models:
            raise ModelLoadError(
                f"the server at {self.root} has no model named {server_model!r}; it has: "
                f"{', '.join(self.models) or 'none'}. Fix model.server_model (or --server-model)."
            )
        if not self.models:
            raise ModelLoadError(f"the server at {self.root} lists no models (GET /v1/models)")
        self.model_id = server_model or self.models[0]  # what requests name
        # what the status bar and the chat list show: llama-cpp-python names a model by its path
        self.name = Path(self.model_id).stem if self.model_id.endswith(".gguf") else self.model_id
        self._props = self._get_props()
        self.server_n_ctx = self._server_context()
        # thau trims old messages to fit n_ctx: never more than the server holds
        self.n_ctx = min(self.n_ctx, self.server_n_ctx) if self.server_n_ctx else self.n_ctx
        self.tokenize_endpoint = self._find_tokenizer()
        self.template = self._template(chat_template)
        self.load_seconds = time.perf_counter() - started

    # --- requests outside the stream ---------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One plain request, its failures turned into messages a user can act on."""
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerError(self._timeout_message(exc)) from exc
        except httpx.TransportError as exc:
            raise ServerError(self._unreachable(exc)) from exc
        if response.status_code in (401, 403):
            raise ServerError(self._refused_key(response))
        return response

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

    def list_models(self) -> list[str]:
        """The model names the server offers (GET /v1/models)."""
        response = self._request("GET", f"{self.base_url}/models")
        if response.status_code != 200:
            raise ServerError(
                f"the server at {self.root} answered {response.status_code} to GET /v1/models: {_detail(response)}"
            )
        try:
            self._model_entries = {str(m["id"]): m for m in response.json().get("data", [])}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ServerError(f"{self.root} is not an OpenAI-compatible server (GET /v1/models: {exc})") from exc
        return list(self._model_entries)

    def _get_props(self) -> dict[str, Any]:
        """llama-server's /props (its context size, chat template), or {} elsewhere."""
        try:
            response = self._client.get(f"{self.root}/props")
            props = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return {}
        return props if isinstance(props, dict) else {}

    def _server_context(self) -> int | None:
        """The server's context size when it says (llama-server's /props, vLLM's max_model_len)."""
        settings = self._props.get("default_generation_settings")
        found = settings.get("n_ctx") if isinstance(settings, dict) else None
        entry = self._model_entries.get(self.model_id)
        found = found or (entry.get("max_model_len") if isinstance(entry, dict) else None)
        return found if isinstance(found, int) and found > 0 else None

    def _find_tokenizer(self) -> str | None:
        """The tokenize endpoint this server has, or None (token counts are then estimated)."""
        for path, field in TOKENIZE_ENDPOINTS:
            try:
                response = self._request("POST", self.root + path, json={field: "Hi", "model": self.model_id})
                if response.status_code == 200 and isinstance(response.json().get("tokens"), list):
                    return path
            except (ServerError, ValueError, AttributeError):
                continue
        return None

    def _template(self, configured: str | None) -> ChatTemplate:
        """config's chat_template; else the GGUF's own when the model name is a GGUF file on
        this machine (llama-cpp-python names a model by its path; the bundled model too);
        else the template llama-server reports (/props); else ChatML."""
        if configured:
            return ChatTemplate(configured)
        local = self._local_gguf()
        if local is not None:
            try:
                meta = read_gguf_metadata(local)
                return ChatTemplate(
                    template_for(meta),
                    bos_token=str(meta.get("bos_token", "")),
                    eos_token=str(meta.get("eos_token", "")),
                )
            except Exception:  # noqa: BLE001 - an unreadable file: fall through to the server's
                pass
        props = self._props
        if props.get("chat_template"):
            return ChatTemplate(
                str(props["chat_template"]),
                bos_token=str(props.get("bos_token") or ""),
                eos_token=str(props.get("eos_token") or ""),
            )
        return ChatTemplate(CHATML)

    def _local_gguf(self) -> Path | None:
        from ..paths import bundled_model

        candidate = Path(self.model_id).expanduser()
        if candidate.suffix == ".gguf" and candidate.is_file():
            return candidate
        bundled = bundled_model()
        if bundled is not None and self.model_id in (bundled.name, bundled.stem):
            return bundled
        return None

    @property
    def native_tools(self) -> bool:
        """Whether tool calls go through the server's own `tools` field."""
        return self.tool_path.mode == "native"

    @property
    def template_source(self) -> str:
        return "ChatML" if self.template.source == CHATML else "the model's own"

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` by the server's tokenizer; about len/4 when it has none."""
        if self.tokenize_endpoint is None:
            return len(text) // 4 + 1
        count = self._counts.get(text)
        if count is None:
            field = dict(TOKENIZE_ENDPOINTS)[self.tokenize_endpoint]
            response = self._request(
                "POST", self.root + self.tokenize_endpoint, json={field: text, "model": self.model_id}
            )
            if response.status_code != 200:
                raise ServerError(
                    f"the server at {self.root} could not count tokens ({response.status_code}: {_detail(response)})"
                )
            count = len(response.json()["tokens"])
            if len(self._counts) > 64:  # the agent asks about the same prompt twice per round
                self._counts.clear()
            self._counts[text] = count
        return count

    # --- the stream ---------------------------------------------------------------------
    def _budget(self, prompt_tokens: int, settings: SamplingSettings) -> int:
        budget = self.n_ctx - prompt_tokens
        if budget <= 8:
            raise ModelLoadError(
                f"the conversation ({prompt_tokens} tokens) no longer fits the context ({self.n_ctx}); "
                "start a new chat (/new) or raise model.n_ctx in config.yaml"
            )
        return min(settings.max_tokens, budget)

    def stream(
        self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None
    ) -> Generator[str, None, None]:
        """Yield text pieces as the server sends them; an empty piece every HEARTBEAT_S while
        it is silent. Closing the iterator closes the HTTP stream at once."""
        prompt_tokens = self.count_tokens(prompt)
        max_tokens = self._budget(prompt_tokens, settings)
        stats.prompt_tokens = stats.evaluated = prompt_tokens  # the server may say better (usage)
        body: dict[str, Any] = {
            "model": self.model_id,
            "prompt": prompt,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "top_k": settings.top_k,
            "repeat_penalty": settings.repeat_penalty,
            "seed": self._seeds.randrange(2**31),
        }
        if settings.stop:
            body["stop"] = settings.stop
        if grammar:
            body["grammar"] = grammar

        def texts(chunk: dict[str, Any]) -> list[Piece]:
            return _completion_texts(chunk, stats)

        for piece in self._pump(lambda pieces: self._read("/completions", body, pieces, stats, texts)):
            assert isinstance(piece, str)
            yield piece

    def chat_stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        settings: SamplingSettings,
        stats: StreamStats,
        prompt_tokens: int,
    ) -> Generator[Piece, None, None]:
        """The native path: one assistant message from /v1/chat/completions with `tools`.
        Yields text pieces and CallDeltas as they stream (an empty piece every HEARTBEAT_S
        while the server is silent); closing the iterator closes the HTTP stream at once.
        `prompt_tokens` is the caller's estimate of the prompt (for the token budget)."""
        body = chat_body(
            self.model_id,
            messages,
            tools,
            settings,
            self._budget(prompt_tokens, settings),
            self._seeds.randrange(2**31),
        )
        stats.prompt_tokens = stats.evaluated = prompt_tokens
        slots = CallSlots()

        def pieces_of(chunk: dict[str, Any]) -> list[Piece]:
            return read_chunk(chunk, stats, slots)

        yield from self._pump(
            lambda pieces: self._read("/chat/completions", body, pieces, stats, pieces_of, whole=True)
        )

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
        try:
            if self._aclient is None:
                self._aclient = httpx.AsyncClient(headers=self._headers, timeout=self._timeout)
            # llama-cpp-python's server (0.3, chatml-function-calling) cannot stream a call the model
            # chose itself: it drops the connection without a word, before or after its headers.
            # Asked again without streaming, it answers, or says why it cannot (context, say).
            dropped = (httpx.ReadError, httpx.RemoteProtocolError) if whole else ()
            try:
                async with self._aclient.stream("POST", f"{self.base_url}{path}", json=body) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise self._stream_refused(response, path)
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
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
                        for item in parse(chunk):
                            self._arrived(item, stats, started)
                            pieces.put(item)
                        apply_usage(chunk, stats)  # after the chunk's pieces: the server's count wins
                        done = done or stats.finish_reason is not None  # some servers send no [DONE] after it
            except dropped:
                if chunks:
                    raise
            if whole and not chunks and not done:
                # The server closes that connection just after: a pooled one would fail the next request.
                await self._aclient.aclose()
                self._aclient = httpx.AsyncClient(headers=self._headers, timeout=self._timeout)
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
        assert self._aclient is not None
        response = await self._aclient.post(f"{self.base_url}{path}", json={**body, "stream": False})
        if response.status_code != 200:
            raise self._stream_refused(response, path)
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("the answer is not a JSON object")
        for item in read_message(answer, stats):
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

    def close(self) -> None:
        """Close the connections."""
        self._client.close()
        if self._aclient is not None:
            asyncio.run_coroutine_threadsafe(self._aclient.aclose(), http_loop()).result(5)
            self._aclient = None


def _completion_texts(chunk: dict[str, Any], stats: StreamStats) -> list[Piece]:
    """A /v1/completions chunk's text pieces; stats updated (finish reason, usage)."""
    texts: list[Piece] = []
    for choice in chunk.get("choices") or []:
        text = choice.get("text") or ""
        if text:
            texts.append(text)
        if choice.get("finish_reason"):
            stats.finish_reason = choice["finish_reason"]
    return texts


def describe_server(config: Config) -> list[str]:
    """What `thau doctor` says about the configured backend, never raising."""
    model = config.model
    if model.backend != "openai":
        return ["backend llama_cpp (a local GGUF file)"]
    base, root = api_root(model.base_url)
    lines = [f"backend openai at {base}"]
    try:
        backend = OpenAiBackend(
            model.base_url,
            model.server_model,
            api_key_env=model.api_key_env,
            n_ctx=model.n_ctx,
            timeout=model.timeout,  # the probe asks the model a question: a busy server needs time
            connect_timeout=model.connect_timeout,
            chat_template=model.chat_template,
            tool_calls=model.tool_calls,
        )
    except ModelLoadError as exc:
        reachable = not str(exc).startswith("no server")
        lines.append(f"server: {'reachable, but ' if reachable else 'NOT REACHABLE: '}{exc}")
        return lines
    try:
        lines.append(f"server: reachable; model {backend.model_id} found ({len(backend.models)} on the server)")
        lines.append(
            f"server tokenizer: {backend.tokenize_endpoint or 'none (token counts estimated)'}; "
            f"chat template: {backend.template_source}"
        )
        path = backend.tool_path
        if path.mode == "native":
            lines.append(f"tools: native: the server's tools field on /v1/chat/completions ({path.detail})")
        else:
            lines.append(f"tools: dialect: thau's own dialect over /v1/completions ({path.detail})")
    finally:
        backend.close()
    return lines
