"""Every llama-cpp-python detail thau relies on beyond `Llama`'s documented methods, in one place.

thau decodes with its own loop (backend.py) and builds tool-call grammars from the
library's JSON Schema converter (gbnf.py). Both need a few things the library does not
document: the model's vocabulary handle (end-of-generation tokens, whether prompts start
with BOS, its control tokens), the tokens already in the KV cache, the context's thread count, and the
converter's rule table. Each is reached here through a check (the attribute or function is
there), with a fallback that still works when an upgrade removes it, so a new version
degrades instead of crashing mid-answer. `missing()` names what the installed version lacks;
tests/engine/test_llama_compat.py fails on any of it, so an upgrade is noticed in CI.

pyproject.toml bounds llama-cpp-python to the minor versions these were checked on.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from llama_cpp import Llama

# Each route this module prefers, as "what it is: how it is reached" (see `missing`).
ROUTES = {
    "vocab": "llama_cpp.llama_model_get_vocab(Llama.model)",
    "end_of_generation": "llama_cpp.llama_vocab_is_eog(vocab, token)",
    "adds_bos": "llama_cpp.llama_vocab_get_add_bos(vocab)",
    "control_tokens": "llama_cpp.llama_vocab_n_tokens, llama_vocab_get_attr and llama_vocab_get_text(vocab, token)",
    "set_threads": "llama_cpp.llama_set_n_threads(Llama.ctx, n, n_batch)",
    "cached_tokens": "Llama.input_ids[:Llama.n_tokens]",
    "read_ahead": "Llama.eval(tokens) after Llama.n_tokens = the cached prefix",
    "grammar_rules": "SchemaConverter._rules (a dict) and SchemaConverter._add_rule(name, rule)",
    "quiet_load": "llama_cpp.llama_log_set(llama_cpp.llama_log_callback(f), None) and Llama.verbose",
    "adapter_refused": "Llama._lora_adapter, a NULL pointer when llama.cpp refused the adapter",
}


def _llama_cpp() -> Any:
    import llama_cpp

    return llama_cpp


def version() -> str:
    """The installed llama-cpp-python's version, for messages."""
    return str(getattr(_llama_cpp(), "__version__", "unknown"))


def vocab(llm: Llama) -> object | None:
    """The model's vocabulary handle (llama.cpp's llama_vocab *, which ctypes hands over as an
    int), or None when this version offers no way to it (the callers below then fall back)."""
    lib = _llama_cpp()
    get_vocab = getattr(lib, "llama_model_get_vocab", None)
    handle: object | None = get_vocab(llm.model) if callable(get_vocab) else None
    if handle is None:  # where Llama itself keeps it
        handle = getattr(getattr(llm, "_model", None), "vocab", None)
    return handle


def end_of_generation(llm: Llama) -> Callable[[int], bool]:
    """Whether a token ends generation, as create_completion decides it (EOS, EOT, <|im_end|>...).

    Fallback: only the model's EOS token (a chat template's end-of-turn token may then show
    up as text, where TextOut's stop strings still end the answer)."""
    lib = _llama_cpp()
    handle = vocab(llm)
    is_eog = getattr(lib, "llama_vocab_is_eog", None) or getattr(lib, "llama_token_is_eog", None)
    if handle is not None and callable(is_eog):
        return lambda token: bool(is_eog(handle, token))
    eos = llm.token_eos()
    return lambda token: token == eos


def adds_bos(llm: Llama) -> bool:
    """Whether the model's prompts start with BOS (the GGUF's tokenizer.ggml.add_bos_token,
    or the default for its vocabulary type).

    Fallback: llama.cpp's tokenizer with add_special adds BOS exactly when the model asks for it."""
    lib = _llama_cpp()
    handle = vocab(llm)
    get_add_bos = getattr(lib, "llama_vocab_get_add_bos", None)
    if handle is not None and callable(get_add_bos):
        return bool(get_add_bos(handle))
    return llm.tokenize(b"", add_bos=True, special=True)[:1] == [llm.token_bos()]


def control_tokens(llm: Llama) -> frozenset[str] | None:
    """The text of each of the model's control tokens (`<|im_end|>`, `<start_of_turn>`,
    `<unused5>`...): what its tokenizer reads as a control token in a prompt tokenized with
    special tokens on. About 0.03 s for SmolLM2's 49,152 tokens, 0.2 s for Gemma 3's 262,144.
    USER_DEFINED tokens are left out: llama.cpp matches them in text too, but they are the
    model's ordinary text (Gemma's `<table>`, runs of spaces), which no template marks turns with.

    Fallback: None (dialect_base then defuses the usual spellings by name)."""
    lib = _llama_cpp()
    handle = vocab(llm)
    count, attr, text = (getattr(lib, f"llama_vocab_{name}", None) for name in ("n_tokens", "get_attr", "get_text"))
    control = getattr(lib, "LLAMA_TOKEN_ATTR_CONTROL", None)
    if handle is None or not (callable(count) and callable(attr) and callable(text)) or not isinstance(control, int):
        return None
    found = (text(handle, t) for t in range(count(handle)) if attr(handle, t) & control)
    return frozenset(t.decode("utf-8", "replace") for t in found if t)


def grammar_compiles(llm: Llama, gbnf: str) -> bool | None:
    """Whether llama.cpp's grammar parser takes `gbnf` (root rule `root`) for this model. A
    grammar it refuses gives a null sampler, which llama-cpp-python adds to its chain anyway:
    the next token crashed the process. Fallback: None (not known; the caller goes on)."""
    lib = _llama_cpp()
    handle = vocab(llm)
    init, free = getattr(lib, "llama_sampler_init_grammar", None), getattr(lib, "llama_sampler_free", None)
    if handle is None or not (callable(init) and callable(free)):
        return None
    sampler = init(handle, gbnf.encode("utf-8"), b"root")
    if not sampler:
        return False
    free(sampler)
    return True


def set_threads(llm: Llama, n_threads: int, n_threads_batch: int) -> None:
    """Decode on `n_threads` (prompt reading on `n_threads_batch`) from the next call on.
    Run it on the model thread. Raises RuntimeError when this version offers no way."""
    lib = _llama_cpp()
    set_n = getattr(lib, "llama_set_n_threads", None)
    if callable(set_n):
        set_n(llm.ctx, n_threads, n_threads_batch)
        return
    inner = getattr(getattr(llm, "_ctx", None), "set_n_threads", None)
    if callable(inner):
        inner(n_threads, n_threads_batch)
        return
    raise RuntimeError(f"llama-cpp-python {version()} cannot change a loaded model's threads")


def cached_tokens(llm: Llama) -> Sequence[int]:
    """The tokens in the KV cache from the last call (a prompt sharing their prefix is not
    read again). Fallback: none, so the whole prompt counts as read (only stats change)."""
    ids, count = getattr(llm, "input_ids", None), getattr(llm, "n_tokens", None)
    if ids is not None and isinstance(count, int):
        return [int(token) for token in ids[:count]]
    inner = getattr(llm, "_input_ids", None)
    return [] if inner is None else [int(token) for token in inner]


# A prompt read in one piece inside Llama.generate cannot be stopped: Esc on a 2,200-token
# paste waited 15 s on 2 busy cores (helper's UX review). Only a long unread part is read
# ahead, so short prompts (every eval case) take exactly the path they always took.
READ_AHEAD_FROM = 1024


def read_ahead(llm: Llama, tokens: Sequence[int], cached: int) -> Iterator[int]:
    """Read the prompt's unread part in llama.cpp's own batches, all but the batch that holds
    its last token, yielding after each (how many tokens are read), so the caller can stop
    between them; Llama.generate then finds them cached and reads the rest. Nothing when the
    unread part is short or this version lacks the route (generate reads it all, as before)."""
    if len(tokens) - cached < READ_AHEAD_FROM:
        return
    step, evaluate = getattr(llm, "n_batch", None), getattr(llm, "eval", None)
    if not isinstance(step, int) or step <= 0 or not callable(evaluate) or not isinstance(llm.n_tokens, int):
        return
    llm.n_tokens = cached  # what follows the shared prefix goes (eval drops it from the KV cache)
    # Whole batches only, from where generate would start: it then reads the rest in the same
    # batches it would have used, so the numbers, and the answer, are the same as unread.
    start, end = cached, len(tokens) - 1
    while start + step <= end:
        evaluate(list(tokens[start : start + step]))
        start += step
        yield start


# llama.cpp's own log lines (what it loads, warnings, errors) as (number, level, text),
# kept here instead of written to the terminal; level 4 is an error (ggml.h's ggml_log_level:
# none, debug, info, warn, error, cont; llama-cpp-python's _logger.py lists an older order).
LOG: deque[tuple[int, int, str]] = deque(maxlen=400)
LOG_ERROR = 4
_sink: Any = None  # the ctypes callback, kept alive while llama.cpp holds it
_count = 0


def keep_logs() -> bool:
    """Send llama.cpp's log to LOG instead of the process's stderr (once); False where this
    version has no llama_log_set or callback type (its log then goes where it did)."""
    global _sink
    if _sink is not None:
        return True
    lib = _llama_cpp()
    callback_type, set_log = getattr(lib, "llama_log_callback", None), getattr(lib, "llama_log_set", None)
    if not callable(callback_type) or not callable(set_log):
        return False

    def record(level: int, text: bytes | None, _user: Any) -> None:
        global _count
        _count += 1
        LOG.append((_count, int(level), (text or b"").decode("utf-8", "replace")))

    sink = callback_type(record)
    set_log(sink, ctypes.c_void_p(0))
    _sink = sink
    return True


def load(llama_cls: Callable[..., Llama], **kwargs: Any) -> Llama:
    """`llama_cls(**kwargs)` that leaves file descriptors 1 and 2 alone.

    llama-cpp-python quiets a load with verbose=False by pointing fds 1 and 2 at /dev/null
    (dup2) for the whole process while it loads. Textual writes the screen to fd 2 from its
    own thread, so every frame drawn meanwhile was lost: the chat's first screen stayed
    blank until the terminal was resized. Here llama.cpp's log goes to LOG (keep_logs), the
    library's own prints go to a buffer, and verbose is switched off once loaded, so later
    calls print nothing. Fallback (no log callback in this version): verbose=False."""
    with templates_left_alone():
        if not keep_logs():
            return llama_cls(verbose=False, **kwargs)
        # Python-level prints only (sys.stdout/sys.stderr); Textual writes to sys.__stderr__
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            llm = llama_cls(verbose=True, **kwargs)
    llm.verbose = False
    return llm


class _UncompiledTemplate:
    """Stands in for llama-cpp-python's Jinja2ChatFormatter while a model loads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def to_chat_handler(self) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("thau renders chat templates itself (engine/prompt.py), not through llama-cpp-python")

        return refuse


@contextlib.contextmanager
def templates_left_alone() -> Any:
    """While a model loads, llama-cpp-python's template compiler is a stand-in. It compiles
    every chat template in the GGUF's metadata for chat handlers thau never uses, and jinja
    folds constants while compiling: `{{ 'x' * 1500000000 }}` built 1.5 GB (several times)
    in thau's process before its bounded worker (template_bounds.py) saw the template.
    Checked seam: a version without `llama_chat_format.Jinja2ChatFormatter` loads as it is."""
    import llama_cpp.llama as llama_module

    global _loading
    formats: Any = getattr(llama_module, "llama_chat_format", None)
    if getattr(formats, "Jinja2ChatFormatter", None) is None:
        yield
        return
    with _loading_lock:  # loads may overlap (a cancelled one runs on): the first in saves, the last out restores
        if _loading == 0:
            _original_formatter[:] = [formats.Jinja2ChatFormatter]
            formats.Jinja2ChatFormatter = _UncompiledTemplate
        _loading += 1
    try:
        yield
    finally:
        with _loading_lock:
            _loading -= 1
            if _loading == 0:
                formats.Jinja2ChatFormatter = _original_formatter.pop()


_loading = 0
_loading_lock = threading.Lock()
_original_formatter: list[Any] = []


def log_mark() -> int:
    """How many lines llama.cpp has logged so far (for log_errors)."""
    return _count


def log_errors(since: int = 0) -> list[str]:
    """The error lines llama.cpp logged after log_mark() returned `since`, for a message."""
    return [text.strip() for number, level, text in list(LOG) if number > since and level == LOG_ERROR and text.strip()]


def adapter_refused(llm: Llama, since: int = 0) -> str | None:
    """Why llama.cpp refused the LoRA adapter `llm` was loaded with (log_mark() before the load
    in `since`), or None when it applied it. llama-cpp-python 0.3 tests llama.cpp's answer
    against None, but a refused adapter comes back as a NULL pointer, which is not None: the
    model loaded, and its first token ended thau with a segmentation fault (an adapter for
    another model, or one with a tensor missing: attacker review). Through Llama._lora_adapter
    where it is there (NULL: refused); otherwise from llama.cpp's logged error about it."""
    said = [line.rpartition("lora adapter: ")[2] for line in log_errors(since) if "lora" in line.lower()]
    adapter = getattr(llm, "_lora_adapter", _GONE)
    if adapter is _GONE:
        return said[-1] if said else None
    if adapter:
        return None
    return said[-1] if said else "llama.cpp could not apply it"


_GONE = object()


class GrammarRules:
    """The rule table of a llama_cpp SchemaConverter after it visited some schemas: read,
    replace and add rules, then the whole grammar as GBNF text.

    Through the converter's own table where it has one (`_rules`, `_add_rule`); otherwise
    from `format_grammar()`'s text (one `name ::= rule` a line), which is all the library
    documents."""

    def __init__(self, converter: Any) -> None:
        self._converter = converter
        table = getattr(converter, "_rules", None)
        self._own = isinstance(table, dict) and callable(getattr(converter, "_add_rule", None))
        self._rules: dict[str, str] = (
            table if isinstance(table, dict) and self._own else _parse_rules(str(converter.format_grammar()))
        )

    def __contains__(self, name: str) -> bool:
        return name in self._rules

    def __getitem__(self, name: str) -> str:
        return self._rules[name]

    def __setitem__(self, name: str, rule: str) -> None:
        """Replace the rule `name` (the converter's primitives: array, object, char...)."""
        self._rules[name] = rule

    def add(self, name: str, rule: str) -> None:
        """A new rule named exactly `name`; ValueError if another rule already has that name."""
        if name in self._rules and self._rules[name] != rule:
            raise ValueError(f"the grammar already has a rule named {name!r}")
        if self._own:
            key = self._converter._add_rule(name, rule)
            if key != name:  # the converter renamed it: then nothing refers to it
                raise ValueError(f"the converter named the rule {key!r}, not {name!r}")
        else:
            self._rules[name] = rule

    def text(self) -> str:
        """The grammar, one rule a line, sorted by name (as format_grammar writes it)."""
        if self._own:
            return str(self._converter.format_grammar())
        return "\n".join(f"{name} ::= {rule}" for name, rule in sorted(self._rules.items()))


def _parse_rules(text: str) -> dict[str, str]:
    rules: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, rule = line.partition(" ::= ")
        if sep:
            rules[name] = rule
        elif line.strip() and rules:  # a rule written over more than one line
            last = next(reversed(rules))
            rules[last] += "\n" + line
    return rules


def missing() -> list[str]:
    """The preferred routes the installed llama-cpp-python lacks, each naming it and the
    version; [] when all are there. Checked without loading a model."""
    lib = _llama_cpp()
    problems = []
    for what, name in (
        ("vocab", "llama_model_get_vocab"),
        ("end_of_generation", "llama_vocab_is_eog"),
        ("adds_bos", "llama_vocab_get_add_bos"),
        ("control_tokens", "llama_vocab_n_tokens"),
        ("control_tokens", "llama_vocab_get_attr"),
        ("control_tokens", "llama_vocab_get_text"),
        ("set_threads", "llama_set_n_threads"),
        ("quiet_load", "llama_log_set"),
        ("quiet_load", "llama_log_callback"),
    ):
        if not callable(getattr(lib, name, None)):
            problems.append(f"{what}: {ROUTES[what]} is gone in llama-cpp-python {version()}")
    llama_cls = getattr(lib, "Llama", None)
    for prop in ("model", "ctx"):
        if not isinstance(getattr(llama_cls, prop, None), property):
            problems.append(f"vocab/set_threads: Llama.{prop} is gone in llama-cpp-python {version()}")
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    if not isinstance(getattr(converter, "_rules", None), dict) or not callable(getattr(converter, "_add_rule", None)):
        problems.append(f"grammar_rules: {ROUTES['grammar_rules']} is gone in llama-cpp-python {version()}")
    return problems
