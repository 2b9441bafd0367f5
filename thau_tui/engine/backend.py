"""The LLM backend: a small protocol, and llama-cpp-python behind it.

thau renders the prompt itself and streams raw completions, so a backend only
has to tokenize, stream text for a prompt (optionally under a GBNF grammar),
and say how much of the prompt it had to read. engine/openai_backend.py
implements the same protocol over an OpenAI-compatible server.
"""

from __future__ import annotations

import codecs
import os
import queue
import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator, ParamSpec, Protocol, TypeVar

from . import llama_compat
from .bridge import relay
from .cpu_load import CpuSampler, threads_for
from .dialects import ControlTokens
from .prompt import ChatTemplate, read_gguf_metadata, template_for

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

P = ParamSpec("P")
T = TypeVar("T")


# What to do about a model file that does not load (a download cut short, another format):
# the errors named only what llama.cpp said (crash review).
REPLACE_MODEL = (
    "download it again (a file cut short does this), or choose another model (Ctrl+O in the chat, "
    "--model, or model.path in config.yaml)"
)


class ModelLoadError(Exception):
    """The model could not be loaded; the message says why and what to do."""


class ContextFull(ModelLoadError):
    """The prompt leaves the model no room to answer, even after trimming."""

    def __init__(self, tokens: int, n_ctx: int) -> None:
        super().__init__(
            f"the conversation ({tokens} tokens) no longer fits the context ({n_ctx}); "
            "start a new chat (/new) or raise model.n_ctx in config.yaml"
        )
        self.tokens, self.n_ctx = tokens, n_ctx


class ModelThread:
    """The one thread that runs every llama.cpp load and decode in this process.

    llama.cpp built with OpenMP (the default on Linux) keeps a team of helper threads
    for each thread that calls it. Once two teams exist, libgomp counts more threads
    than cores and its helpers stop spin-waiting between operations: on 2 cores that
    cost a quarter of the tokens per second (bench/stream_overhead.py). Loading on one
    thread and generating on another is enough to trigger it, so all of it goes here.
    A daemon thread, so a generation still running never holds up interpreter exit.
    """

    name = "thau-llama"

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def is_current(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)

        self._jobs.put(job)
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        return future

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run fn on the model thread and return its result (directly when already on it)."""
        if self.is_current():
            return fn(*args, **kwargs)
        return self.submit(fn, *args, **kwargs).result()

    def _loop(self) -> None:
        while True:
            self._jobs.get()()


MODEL_THREAD = ModelThread()


@dataclass
class StreamStats:
    """Filled in while a stream runs; read after it ends."""

    prompt_tokens: int = 0
    evaluated: int = 0  # prompt tokens not found in the KV cache
    tokens: int = 0
    first_token_s: float | None = None
    finish_reason: str | None = None
    threads: int = 0  # llama.cpp threads this stream ran on (0: not a local model)


def partial_match_len(text: str, tag: str) -> int:
    """How many trailing characters of `text` could be the start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class TextOut:
    """A generation's token bytes turned into text as they arrive: whole UTF-8
    characters only (a character can span tokens), and nothing that may still turn
    out to be the start of a stop string. `stopped` once one appears; the text
    before it is the last."""

    def __init__(self, stop: list[str] | None = None) -> None:
        self._decode = codecs.getincrementaldecoder("utf-8")("ignore").decode
        self._stop = [s for s in (stop or []) if s]
        self._held = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        text = self._held + self._decode(data)
        self._held = ""
        if not self._stop:
            return text
        found = [i for i in (text.find(s) for s in self._stop) if i >= 0]
        if found:
            self.stopped = True
            return text[: min(found)]
        keep = max(partial_match_len(text, s) for s in self._stop)
        if keep:
            text, self._held = text[:-keep], text[-keep:]
        return text

    def flush(self) -> str:
        """What is left once generation ends (held text that never became a stop string)."""
        text = "" if self.stopped else self._held + self._decode(b"", final=True)
        self._held = ""
        return text


@dataclass
class SamplingSettings:
    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    stop: list[str] = field(default_factory=list)


class Backend(Protocol):
    name: str
    n_ctx: int
    template: ChatTemplate
    lora_path: str | None

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None
    ) -> Generator[str, None, None]: ...


def decode_check(model_path: str | Path) -> None:
    """Decode a multi-token prompt once. A -march=native llama.cpp build can crash here
    (SIGSEGV) on CPUs whose AMX tiles a VM does not enable: run it in a child process."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=256, verbose=False)
    llm.create_completion(llm.tokenize(b"Hello world, how are you today?"), max_tokens=2)


def default_threads() -> int:
    """Physical-ish cores: llama.cpp gets slower, not faster, on hyperthreads."""
    count = os.cpu_count() or 2
    return max(1, count if count <= 4 else count // 2)


ADAPTER_TENSOR_TYPES = ("F32", "F16", "BF16", "Q8_0")  # what llama.cpp's LoRA converters and thau export write
# The header keys llama.cpp reads from an adapter, with the GGUF types its getters assert.
ADAPTER_KEY_TYPES = {
    "general.architecture": ["STRING"],
    "adapter.type": ["STRING"],
    "adapter.lora.alpha": ["FLOAT32"],
    "adapter.alora.invocation_tokens": ["ARRAY", "UINT32"],
}
ADAPTER_ARRAY_VALUES = 4096  # in its header's arrays (alora invocation tokens, say); a vocabulary is 30k-260k


def check_adapter(path: str | Path) -> None:
    """ModelLoadError unless the file is a LoRA GGUF llama.cpp can apply: general.type adapter,
    adapter.type lora, only .lora_a/.lora_b tensors of the types LoRA converters write, every
    one inside the file. llama.cpp loaded a cut adapter, a model given as an adapter, or one
    whose tensor type was changed to I8 without a word, and the first token then ended thau
    with a segmentation fault (at every start, with the file in model.lora_path: training
    review, re-review). Shapes and architecture against the model are llama.cpp's own check,
    which LlamaBackend reads (llama_compat.adapter_refused). The gguf reader
    maps the tensors (an adapter has no vocabulary: ~0.04 s)."""
    import gguf

    from .gguf_header import read_header

    try:
        header = read_header(path)  # ~0.05 s: a model given as an adapter stops here
        kind = header.get("general.type")
        if kind != "adapter":
            raise ValueError(f"general.type is {kind!r}, not a LoRA adapter's")
        # No vocabulary in an adapter: a header of many array values only slows the gguf reader
        # below (2 million empty strings in a 16 MB file: 44 s and 3.2 GB, attacker review).
        values = sum(count for _kind, count, _offset in header.arrays.values())
        if values > ADAPTER_ARRAY_VALUES:
            raise ValueError(f"its header holds {values:,} array values; an adapter's holds a few at most")
        reader = gguf.GGUFReader(str(path))

        def field(key: str) -> object:
            value = reader.fields.get(key)
            return None if value is None else value.contents()

        if field("general.type") != "adapter" or field("adapter.type") != "lora":
            raise ValueError(f"general.type is {field('general.type')!r}, not a LoRA adapter's")
        for key, wanted in ADAPTER_KEY_TYPES.items():  # llama.cpp asserts each one's type: a string
            found = reader.fields.get(key)  # alpha aborted the process (attacker re-review)
            if found is not None and [kind.name for kind in found.types] != wanted:
                raise ValueError(f"{key} is {'/'.join(k.name for k in found.types)}, not {'/'.join(wanted)}")
        if not reader.tensors:
            raise ValueError("it holds no tensors")
        for tensor in reader.tensors:
            if not tensor.name.endswith((".lora_a", ".lora_b")):
                raise ValueError(f"tensor {tensor.name!r} is not a LoRA tensor")
            if len(tensor.shape) != 2:  # llama.cpp aborts the process on a 3-D one
                raise ValueError(f"tensor {tensor.name!r} has {len(tensor.shape)} dimensions, not a LoRA tensor's 2")
            if tensor.tensor_type.name not in ADAPTER_TENSOR_TYPES:
                raise ValueError(f"tensor {tensor.name!r} is {tensor.tensor_type.name}, not a LoRA tensor type")
    except Exception as exc:  # a cut, damaged or foreign file
        raise ModelLoadError(
            f"the LoRA adapter {Path(path).name} is damaged or not a GGUF adapter ({type(exc).__name__}: {exc}); "
            "export it again (thau export RUN), or choose another (Ctrl+O in the chat, or model.lora_path)"
        ) from exc


class LlamaBackend:
    """llama-cpp-python on a GGUF file. Loading blocks: call it from a worker thread."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = -1,
        lora_path: str | Path | None = None,
        seed: int = 0,
        chat_template: str | None = None,
    ) -> None:
        path = Path(model_path).expanduser()
        if path.is_dir():  # it said "model file not found: /tmp" (first-hour review)
            raise ModelLoadError(
                f"{path} is a folder, not a GGUF file: name the .gguf file itself (--model, or model.path in "
                "config.yaml; empty for the bundled SmolLM2-135M)."
            )
        if not path.is_file():
            from ..paths import repo_models_dir

            raise ModelLoadError(
                f"model file not found: {path}. Put a GGUF file there, or set model.path in "
                "config.yaml (leave it empty for the bundled SmolLM2-135M; a relative path is looked up "
                f"in {repo_models_dir()}, not in the current folder)."
            )
        if lora_path is not None and not Path(lora_path).is_file():
            raise ModelLoadError(f"LoRA adapter not found: {lora_path}. Fix model.lora_path in config.yaml.")
        if lora_path is not None:
            check_adapter(lora_path)
        # Measure the machine's load from before the model loads, so a generation right after
        # it (a queued message, the first eval case) already fits the free cores. Started after
        # the load, the first window was too short to count and that generation took every
        # core: 306 s for an eval's first case on 2 cores beside a trainer, 11 s for the next.
        load = CpuSampler()
        load.start_sampling()
        try:
            meta = read_gguf_metadata(path)
        except Exception as exc:  # a truncated or foreign file
            raise ModelLoadError(f"{path.name} is not a readable GGUF file ({exc}); {REPLACE_MODEL}") from exc
        from llama_cpp import Llama  # heavy import, only when loading
        from llama_cpp.llama_grammar import LlamaGrammar

        self._grammar_cls = LlamaGrammar
        threads = n_threads or default_threads()
        started = time.perf_counter()
        mark = llama_compat.log_mark()
        try:
            self.llm: Llama = MODEL_THREAD.call(
                llama_compat.load,  # Llama(...) that leaves the terminal's fds alone
                Llama,
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,  # llama.cpp's default reads prompts on every core
                n_gpu_layers=n_gpu_layers,
                lora_path=str(lora_path) if lora_path else None,
                seed=seed,
            )
        except Exception as exc:
            said = "; ".join(llama_compat.log_errors(mark)[-3:])
            raise ModelLoadError(
                f"llama.cpp could not load {path.name}: {exc}"
                + (f" (llama.cpp: {said})" if said else "")
                + f"; {REPLACE_MODEL}"
            ) from exc
        refused = llama_compat.adapter_refused(self.llm, mark) if lora_path else None
        if refused:  # loaded anyway, and the first token would crash: never used
            self.llm.close()
            raise ModelLoadError(
                f"llama.cpp could not apply the LoRA adapter {Path(lora_path or '').name} to {path.name}: {refused}. "
                "It was made for another model, or is damaged: choose another (Ctrl+O in the chat, or "
                "model.lora_path in config.yaml; none for no adapter)."
            )
        self.load_seconds = time.perf_counter() - started
        self.n_threads = self._threads = threads
        self._batch_threads = threads
        self.active_threads = threads  # what the last generation ran on (fewer on a busy machine)
        self.adaptive = True
        self._load = load
        self.path = path
        self.lora_path = str(lora_path) if lora_path else None
        self.metadata = meta
        self.name = path.stem  # general.name is often a training-run label; the file name is what users know
        self.architecture = str(meta.get("general.architecture", ""))
        self.n_ctx = self.llm.n_ctx()
        self.template = ChatTemplate(
            chat_template or template_for(meta),
            bos_token=str(meta.get("bos_token", "")),
            eos_token=str(meta.get("eos_token", "")),
        )
        self._grammars: dict[str, LlamaGrammar | None] = {}
        self._lock = threading.Lock()  # one generation at a time on one context
        self._seeds = random.Random(seed)
        self._is_end = llama_compat.end_of_generation(self.llm)
        self._add_bos = llama_compat.adds_bos(self.llm)
        tokens = MODEL_THREAD.call(llama_compat.control_tokens, self.llm)
        self.template.control_tokens = None if tokens is None else ControlTokens(tokens)

    def set_threads(self, n: int | None = None) -> None:
        """Decode on `n` threads from the next generation on (None: as loaded).

        Queued on the model thread, so it never waits for a generation in progress."""
        threads = n or self._threads
        if threads != self.n_threads:
            self.n_threads = threads
            MODEL_THREAD.submit(self._use_threads, threads)

    def _use_threads(self, threads: int) -> None:
        if threads != self.active_threads:
            llama_compat.set_threads(self.llm, threads, threads)
            self.active_threads = threads

    def fit_to_load(self) -> int:
        """Before a generation (on the model thread): as many threads as the machine has
        free cores, at most `n_threads`, at least one."""
        wanted = self.n_threads
        if self.adaptive:
            wanted = threads_for(wanted, self._load.others_busy())
        self._use_threads(wanted)
        return wanted

    def prefill(self, text: str) -> Future[int]:
        """Read `text` (the start of every prompt: the system message) into the KV cache now,
        so a question only costs its own words. Queued on the model thread behind any
        generation; keeps whatever part of the cache already matches. The future holds how
        many tokens it read."""
        return MODEL_THREAD.submit(self._prefill, text)

    def _prefill(self, text: str) -> int:
        tokens = self.tokenize(text)
        if not tokens or len(tokens) >= self.n_ctx - 8:
            return 0
        with self._lock:
            cached = 0
            for a, b in zip(llama_compat.cached_tokens(self.llm), tokens):
                if a != b:
                    break
                cached += 1
            if cached >= len(tokens) - 1:
                return 0  # already there (generation re-reads the last prompt token anyway)
            self.fit_to_load()
            self.llm.n_tokens = cached  # eval() drops the cache after this point first
            self.llm.eval(tokens[cached:])
            return len(tokens) - cached

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=self._add_bos, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def _grammar(self, gbnf: str) -> LlamaGrammar | None:
        """The compiled grammar, or None where llama.cpp's parser refuses it (a converter gap
        gbnf.py does not yet cover): the call is then written free and validated after, where
        a refused grammar handed on had crashed the app."""
        if gbnf not in self._grammars:
            compiles = llama_compat.grammar_compiles(self.llm, gbnf)
            grammar = None if compiles is False else self._grammar_cls.from_string(gbnf, verbose=False)
            self._grammars = {gbnf: grammar}  # the tool set rarely changes: keep one
        return self._grammars[gbnf]

    def stream(
        self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None
    ) -> Generator[str, None, None]:
        """Yield text pieces as they are generated. Closing the iterator stops generation.

        Decoding always runs on the model thread (see ModelThread); a caller on any other
        thread gets the pieces handed over through a queue."""
        if MODEL_THREAD.is_current():
            yield from self._stream(prompt, settings, stats, grammar)
            return
        # Closed early, relay stops the producer and waits for it, so stats are final.
        yield from relay(lambda: self._stream(prompt, settings, stats, grammar), MODEL_THREAD.submit)

    def _stream(
        self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None
    ) -> Generator[str, None, None]:
        tokens = self.tokenize(prompt)
        budget = self.n_ctx - len(tokens)
        if budget <= 8:
            raise ContextFull(len(tokens), self.n_ctx)
        cached = 0
        for a, b in zip(llama_compat.cached_tokens(self.llm), tokens):
            if a != b:
                break
            cached += 1
        stats.prompt_tokens = len(tokens)
        stats.evaluated = len(tokens) - cached
        stats.threads = self.fit_to_load()
        started = time.perf_counter()
        llm = self.llm
        # llama-cpp-python's create_completion re-reads the whole answer for every token
        # (detokenize, stop search): O(n^2) Python while llama.cpp's threads wait. This
        # loop does the same sampling over Llama.generate, with constant work per token.
        out = TextOut(settings.stop)
        limit = min(settings.max_tokens, budget)
        with self._lock:
            for _read in llama_compat.read_ahead(llm, tokens, cached):
                yield ""  # where a closing caller (Esc) stops a long prompt's read
            llm.set_seed(self._seeds.randrange(2**32))  # reproducible per config seed, new per call
            generated = llm.generate(
                tokens,
                top_k=settings.top_k,
                top_p=settings.top_p,
                temp=settings.temperature,
                repeat_penalty=settings.repeat_penalty,
                grammar=self._grammar(grammar) if grammar else None,
            )
            stats.finish_reason = "length"
            try:
                for token in generated:
                    if self._is_end(token):
                        stats.finish_reason = "stop"
                        break
                    stats.tokens += 1
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - started
                    text = out.feed(llm.detokenize([token]))
                    if text:
                        yield text
                    if out.stopped:
                        stats.finish_reason = "stop"
                        break
                    if stats.tokens >= limit:
                        break
                text = out.flush()
                if text:
                    yield text
            finally:
                generated.close()
