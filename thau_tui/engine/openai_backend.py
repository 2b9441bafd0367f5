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
only when the server answers the probe with a tool call or shows it read the tools, or
when it has no /v1/completions for the dialect.

The HTTP stream runs on one asyncio loop in a daemon thread, so closing the
stream (Esc) cancels the request there at once, even while the server is silent
(engine/openai_stream.py: the stream, its chunks read, and every way a server fails said
plainly; HEARTBEAT_S, Piece and http_loop stay importable here).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import random
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator

import httpx

from ..addresses import hide_url_secrets, plain_http_refusal, secret_may_go_to, shown_url
from .backend import ContextFull, ModelLoadError, SamplingSettings, StreamStats
from .openai_chat import (
    IDENTITY,
    CallSlots,
    ServerError,
    Stopped,
    ToolCallsMode,
    _detail,
    aread_capped,
    chat_body,
    read_chunk,
)
from .openai_stream import HEARTBEAT_S as HEARTBEAT_S
from .openai_stream import Piece as Piece
from .openai_stream import ServerStream, _completion_texts, http_loop
from .prompt import CHATML, ChatTemplate, read_gguf_metadata, template_for
from .tool_path import choose_tool_path, completions_missing

if TYPE_CHECKING:
    from ..config import Config

# The tokenize endpoints known, tried in this order: llama-cpp-python's, then llama-server's.
TOKENIZE_ENDPOINTS = (("/extras/tokenize", "input"), ("/tokenize", "content"))


# A plain answer (the model list, /props, a token count, a probe) is small; 15 MiB of `[{},...]`
# cost 3.8 s of CPU and 425 MB to read. A hosted server's model list is well under this.
MAX_PLAIN_BODY_BYTES = 4 * 1024 * 1024


def _without_credentials(base_url: str) -> tuple[str, dict[str, str]]:
    """The URL without a user:password part, which went into every error message on screen,
    and that part as a Basic authorization header (what httpx made of it)."""
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError):
        return base_url, {}
    if not url.userinfo:
        return base_url, {}
    pair = f"{url.username}:{url.password}".encode()
    stripped = str(url.copy_with(username=None, password=None))
    return stripped, {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def api_root(base_url: str) -> tuple[str, str]:
    """(the OpenAI base URL ending in /v1, the server's root) for what the user wrote."""
    url = base_url.strip().rstrip("/")
    if not url.endswith("/v1"):
        url += "/v1"
    return url, url[: -len("/v1")]


class OpenAiBackend(ServerStream):
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
        base_url, headers = _without_credentials(base_url)
        if "?" in base_url or "#" in base_url:  # /v1/models went after the query, and errors showed its key
            raise ModelLoadError(
                f"model.base_url {shown_url(base_url)} holds a query or a fragment: thau adds the API's paths "
                "after the address, so it cannot work there. Give the address alone; a key goes in the "
                "environment, named by model.api_key_env"
            )
        self.base_url, self.root = api_root(base_url)
        self.api_key_env = api_key_env or None
        if headers and not secret_may_go_to(self.base_url):  # a user:password in the address
            raise ModelLoadError("model.base_url: " + plain_http_refusal(self.base_url, "its user:password"))
        if self.api_key_env and not secret_may_go_to(self.base_url):
            raise ModelLoadError("model.base_url: " + plain_http_refusal(self.base_url, "the key in model.api_key_env"))
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
        self._headers = {**headers, **IDENTITY}  # the tools probe's own client sends them too
        self.n_ctx = n_ctx
        self._aclient: httpx.AsyncClient | None = None  # every request's, on the HTTP loop
        self._cancel: threading.Event | None = None  # the running turn's Esc (watch_cancel)
        self._seeds = random.Random(seed)
        self._counts: dict[str, int] = {}
        self.streams_open = 0  # HTTP streams not yet closed
        self._open_lock = threading.Lock()
        try:
            self._connect(server_model, chat_template)
            self.tool_path = choose_tool_path(self, tool_calls)
        except BaseException:
            self.close()
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
    def watch_cancel(self, cancel: threading.Event) -> None:
        """Take the running turn's cancel event: once it is set (Esc), a request outside the
        answer's stream (a token count) ends at once, none starts, and neither does a stream."""
        self._cancel = cancel

    def _stopped(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One plain request, its failures turned into messages a user can act on. It runs on
        the HTTP loop, so Esc ends it at once (Stopped): a blocking one held a stopped turn
        until model.timeout while a server sent a token count a byte a second (servers review)."""
        stopped = Stopped(f"the turn was stopped before the server at {self.root} answered")
        if self._stopped():
            raise stopped
        future = asyncio.run_coroutine_threadsafe(self._plain(method, url, **kwargs), http_loop())
        while not future.done():
            concurrent.futures.wait([future], timeout=HEARTBEAT_S)
            if not future.done() and self._stopped():
                future.cancel()  # its task is cancelled on the loop: the socket closes
                raise stopped
        response = future.result()
        if response.status_code in (401, 403):
            raise ServerError(self._refused_key(response))
        return response

    async def _plain(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            async with self._async_client().stream(method, url, **kwargs) as streamed:
                return await aread_capped(streamed, MAX_PLAIN_BODY_BYTES, seconds=self.timeout_s)
        except httpx.TimeoutException as exc:
            raise ServerError(self._timeout_message(exc)) from exc
        except httpx.TransportError as exc:
            raise ServerError(self._unreachable(exc)) from exc

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
            response = self._request("GET", f"{self.root}/props")
            props = response.json() if response.status_code == 200 else {}
        except (ServerError, ValueError):
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
        """Tokens in `text` by the server's tokenizer; about len/4 when it has none, and once
        the turn is stopped (the turn ends without using it: Esc must not wait on a count)."""
        if self.tokenize_endpoint is None:
            return len(text) // 4 + 1
        count = self._counts.get(text)
        if count is None:
            field = dict(TOKENIZE_ENDPOINTS)[self.tokenize_endpoint]
            try:
                response = self._request(
                    "POST", self.root + self.tokenize_endpoint, json={field: text, "model": self.model_id}
                )
            except Stopped:
                return len(text) // 4 + 1
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
            raise ContextFull(prompt_tokens, self.n_ctx)
        return min(settings.max_tokens, budget)

    def stream(
        self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None
    ) -> Generator[str, None, None]:
        """Yield text pieces as the server sends them; an empty piece every HEARTBEAT_S while
        it is silent. Closing the iterator closes the HTTP stream at once; a stopped turn
        (watch_cancel) gets no piece and sends no request."""
        prompt_tokens = self.count_tokens(prompt)
        if self._stopped():
            return
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
        `prompt_tokens` is the caller's estimate of the prompt (for the token budget). A
        stopped turn (watch_cancel) gets no piece and sends no request."""
        if self._stopped():
            return
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

    def close(self) -> None:
        """Close the connections."""
        if self._aclient is not None:
            asyncio.run_coroutine_threadsafe(self._aclient.aclose(), http_loop()).result(5)
            self._aclient = None


def describe_server(config: Config) -> list[str]:
    """What `thau doctor` says about the configured backend, never raising."""
    model = config.model
    if model.backend != "openai":
        return ["backend llama_cpp (a local GGUF file)"]
    base, root = api_root(model.base_url)
    lines = [f"backend openai at {shown_url(base)}"]
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
        said = hide_url_secrets(str(exc), model.base_url)
        lines.append(f"server: {'reachable, but ' if reachable else 'NOT REACHABLE: '}{said}")
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
        # Asked for as configured, the dialect stays, but a server without its endpoint answers
        # nothing: said as a problem, not "tools: dialect" and exit 0 (eco review, 2026-12-07 night).
        missing = completions_missing(backend) if model.tool_calls == "dialect" else None
        if missing:
            lines.append(
                f"server: reachable, but the server at {backend.root} has no /v1/completions ({missing}), "
                "which model.tool_calls: dialect needs: every message would fail there. Set "
                "model.tool_calls: auto or native to use its /v1/chat/completions"
            )
    finally:
        backend.close()
    return lines
