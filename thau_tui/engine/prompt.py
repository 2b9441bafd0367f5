"""The prompt, rendered by thau itself: the model's chat template (from its GGUF
metadata) through jinja, with the dialect's tool block in the system message.

Owning the prompt keeps it byte-stable from turn to turn, so llama.cpp can reuse
the KV cache prefix. Training renders examples with the same functions, so the
adapter sees exactly what the chat will show it.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from ..tools.base import Tool
from .dialects import ControlTokens, Dialect
from .template_worker import sandboxed_environment

R = TypeVar("R")

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# For GGUFs that carry no chat template (base models), by architecture.
GEMMA = (
    "{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
TEMPLATES_BY_ARCHITECTURE = {"gemma": GEMMA, "gemma2": GEMMA, "gemma3": GEMMA}


def template_for(metadata: dict[str, Any]) -> str:
    """The GGUF's own chat template, else a known one for its architecture, else ChatML."""
    own = metadata.get("tokenizer.chat_template")
    if own:
        return str(own)
    return TEMPLATES_BY_ARCHITECTURE.get(str(metadata.get("general.architecture", "")), CHATML)


class ChatTemplate:
    """A jinja chat template, rendered the way transformers and llama.cpp do.

    A template thau does not know (from a GGUF or a server) renders in a worker process
    with a time and memory bound (template_bounds.py): jinja's sandbox alone lets one hang
    the chat or take all the memory.
    """

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        from .template_bounds import check_size, is_known

        self.source = source or CHATML
        check_size(self.source)
        self.bounded = not is_known(self.source)
        # Compiling runs template code too (jinja folds constants: 'x' * 10**10 is built
        # then), so only a known template compiles here; the worker compiles the others.
        self._template = None if self.bounded else sandboxed_environment().from_string(self.source)
        self.bos_token, self.eos_token = bos_token, eos_token
        # The model's control tokens (backend.py sets them for a local model); the history's
        # messages defuse exactly these (Agent.dialect). None: the usual spellings by name.
        self.control_tokens: ControlTokens | None = None

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = True) -> str:
        context = {
            "messages": messages,
            "add_generation_prompt": add_generation_prompt,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        if self._template is None:
            from .template_bounds import render_bounded

            return render_bounded(self.source, context)
        return self._template.render(**context)

    def generation_prefix(self) -> str:
        """What the template adds to open an assistant turn (e.g. '<|im_start|>assistant\\n')."""
        probe = [{"role": "user", "content": "x"}]
        return self.render(probe, True)[len(self.render(probe, False)) :]

    def end_of_turn(self) -> str:
        """What closes an assistant message (e.g. '<|im_end|>\\n')."""
        base = [{"role": "user", "content": "x"}]
        with_reply = self.render(base + [{"role": "assistant", "content": "\x00"}], False)
        return with_reply.split("\x00", 1)[1]


GGUF_KEYS = (
    "general.architecture",
    "general.name",
    "tokenizer.chat_template",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
)


def read_gguf_metadata(path: str | Path) -> dict[str, Any]:
    """The few metadata keys thau needs (no model load): read from the header alone
    (gguf_header.py, ~0.05 s), else with the gguf package (5-7 s on a busy machine)."""
    import struct

    from .gguf_header import read_header

    try:
        header = read_header(path)
    except (ValueError, struct.error):  # another version, byte order or a cut file: the gguf package says
        return _read_gguf_metadata_slowly(path)
    out: dict[str, Any] = {key: header.get(key) for key in GGUF_KEYS if header.get(key) is not None}
    arch = out.get("general.architecture")
    if arch and header.get(f"{arch}.context_length") is not None:
        out["context_length"] = header.get(f"{arch}.context_length")
    if "tokenizer.ggml.tokens" in header.arrays:
        for key in ("bos", "eos"):
            index = out.get(f"tokenizer.ggml.{key}_token_id")
            if isinstance(index, int):
                out[f"{key}_token"] = header.item("tokenizer.ggml.tokens", index)
    return out


def _read_gguf_metadata_slowly(path: str | Path) -> dict[str, Any]:
    import gguf

    reader = gguf.GGUFReader(str(path))
    out: dict[str, Any] = {}
    for key in GGUF_KEYS:
        field = reader.fields.get(key)
        if field is not None:
            out[key] = field.contents()
    arch = out.get("general.architecture")
    if arch:
        field = reader.fields.get(f"{arch}.context_length")
        if field is not None:
            out["context_length"] = field.contents()
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is not None:
        for key in ("bos", "eos"):
            index = out.get(f"tokenizer.ggml.{key}_token_id")
            if isinstance(index, int):
                out[f"{key}_token"] = tokens.contents(index)
    return out


def system_content(system_prompt: str, dialect: Dialect, tools: Iterable[Tool]) -> str:
    """The system message: the assistant's instructions, then the dialect's tool block."""
    block = dialect.render_tools(tools)
    return f"{system_prompt}\n\n{block}" if block else system_prompt


class TemplateFailed(Exception):
    """The chat template could not render the system prompt (read_ahead): each question
    would fail the same way."""


def read_ahead(
    template: ChatTemplate, system: str, dialect: Dialect, prefill: Callable[[str], Future[int]]
) -> Future[int]:
    """What every first prompt starts with (the text two renders share up to the user's
    words), rendered on a thread of its own and then read by `prefill`; the future holds
    how many tokens were read, or TemplateFailed. A thread: a template thau does not know
    may take seconds (template_bounds.py), and this runs at load and at each config change."""
    done: Future[int] = Future()

    def render_then_read() -> None:
        try:
            renders = [
                template.render(
                    fit_roles([{"role": "system", "content": system}, {"role": "user", "content": w}], dialect)
                )
                for w in ("x", "y")
            ]
        except Exception as exc:  # noqa: BLE001 - a GGUF's template may raise anything
            done.set_exception(TemplateFailed(f"{type(exc).__name__}: {exc}"))
            return
        read = prefill(os.path.commonprefix(renders))
        read.add_done_callback(lambda f: done.set_exception(e) if (e := f.exception()) else done.set_result(f.result()))

    threading.Thread(target=render_then_read, daemon=True, name="thau-read-ahead").start()
    return done


def fit_roles(messages: list[dict[str, Any]], dialect: Dialect) -> list[dict[str, Any]]:
    """Give tool results the role the dialect expects (some templates know no 'tool' role)."""
    if dialect.result_role == "tool":
        return messages
    return [{**m, "role": dialect.result_role} if m["role"] == "tool" else m for m in messages]


def drop_oldest_exchange(history: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """`history` without its oldest exchange: everything before its second user message.

    None when no user message follows the first one: what is left is the newest
    question and what answered it, and trimming never drops the newest question
    (after a refused over-long question, [long, new] keeps [new]).
    """
    cut = next((i for i, m in enumerate(history) if i > 0 and m["role"] == "user"), None)
    return history[cut:] if cut is not None else None


def drop_oldest_exchanges(
    history: list[dict[str, Any]], measure: Callable[[list[dict[str, Any]]], tuple[R, int]], target: int
) -> tuple[list[dict[str, Any]], R, int]:
    """`history` without as few of its oldest exchanges as bring `measure`'s size to `target`
    or under (never its newest question), with what `measure` made of it and the size: what
    applying drop_oldest_exchange until it fits gives, found by halving. That loop rendered
    and counted the whole prompt once per dropped exchange: the first answer in a reopened
    chat of 1,000 exchanges waited 266 s, and Esc could not stop it (reliability review)."""
    cuts = [0] + [i for i, m in enumerate(history) if i > 0 and m["role"] == "user"]
    seen: dict[int, tuple[R, int]] = {}

    def at(k: int) -> tuple[R, int]:
        if k not in seen:
            seen[k] = measure(history[cuts[k] :])
        return seen[k]

    low, high = 0, len(cuts) - 1  # at(low) is over the target, unless low is the answer
    if at(0)[1] <= target or high == 0:
        return history, *at(0)
    while high - low > 1:
        middle = (low + high) // 2
        if at(middle)[1] <= target:
            high = middle
        else:
            low = middle
    return history[cuts[high] :], *at(high)


MIN_KEPT_RESULT = 400  # characters of a result always kept: its head and tail


def _cut(message: dict[str, Any], keep: int) -> dict[str, Any]:
    """A tool result with `keep` characters kept at each end and a note between. The note says
    all that was cut, over every cut (it said only the last halving's share: 2,042 of 997,991
    characters, read-through review), counted here, never read back from the text, where a
    tool's output can imitate a note (re-review)."""
    text = message["content"]
    middle = text[keep : len(text) - keep]
    before, earlier = message.get("_cut", 0), message.get("_note", "")
    cut = before + len(middle) - (len(earlier) if earlier and earlier in middle else 0)
    note = f"\n[... {cut} characters of this result cut to fit the context; ask for a narrower part ...]\n"
    return {**message, "content": text[:keep] + note + text[-keep:], "_cut": cut, "_note": note}


def shorten_largest_result(history: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """`history` with its longest tool result cut to half, its head and tail kept and a note
    in between; None when every result is already short. For a prompt whose newest exchange
    alone overflows the context: a 15 KB file read with the default 4096-token context ended
    the turn before the model could answer. Only the prompt is cut; the chat keeps it all."""
    results = [(len(m["content"]), i) for i, m in enumerate(history) if m["role"] == "tool"]
    if not results:
        return None
    length, index = max(results)
    if length <= MIN_KEPT_RESULT * 2:
        return None
    shorter = list(history)
    shorter[index] = _cut(history[index], max(MIN_KEPT_RESULT, length // 2) // 2)
    return shorter


def shorten_every_result(
    history: list[dict[str, Any]], count: Callable[[str], int], limit: int
) -> list[dict[str, Any]]:
    """`history` with each result over `limit` tokens cut to just under it, whatever else the
    history holds. Cut only as far as the whole prompt needed, a result's text depended on the
    exchanges before it and changed the next turn once they had gone, so the model's copy of it
    changed after the fact and the whole prompt was read again (42 s: long-chat review). Cut by
    halves, a result at 51% of the room lost half its text; the longest by characters was the
    only one looked at, so a short one dense in tokens passed whole (diff review)."""
    history = list(history)
    for index, message in enumerate(history):
        if message["role"] != "tool" or len(message["content"].encode()) < limit:
            continue  # fewer bytes than `limit`: fewer tokens too
        for _ in range(8):  # the first cut lands under the limit, or close enough for one more
            text = history[index]["content"]
            tokens = count(text)
            keep = max(MIN_KEPT_RESULT, int(len(text) * limit / max(tokens, 1) * 0.95)) // 2
            if tokens <= limit or keep * 2 >= len(text):
                break
            history[index] = _cut(history[index], keep)
    return history


def shorten_results(
    history: list[dict[str, Any]],
    measure: Callable[[list[dict[str, Any]]], tuple[R, int]],
    limit: int,
) -> tuple[list[dict[str, Any]], R, int]:
    """shorten_largest_result until `measure`'s size is `limit` or under, or nothing is left
    to cut; with what `measure` made of it and the size."""
    made, size = measure(history)
    while size > limit and (shorter := shorten_largest_result(history)) is not None:
        history = shorter
        made, size = measure(history)
    return history, made, size


def context_full(
    error: Exception, messages: list[dict[str, Any]], view_start: int, system_tokens: int | None = None
) -> str:
    """What to tell the user when the prompt leaves the model no room after trimming
    (backend.ContextFull; any other error as it is): with only the newest exchange left,
    their message itself is too long, and "start a new chat" was wrong advice in a chat that
    was new (helper's UX review)."""
    tokens, n_ctx = getattr(error, "tokens", None), getattr(error, "n_ctx", None)
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    if tokens is None or n_ctx is None or last_user < 0 or view_start < last_user:
        return str(error)
    if system_tokens is not None and system_tokens * 4 >= n_ctx * 3:
        # "hi" was told it was too long: thau's own instructions filled the context (read-through review)
        return (
            f"thau's instructions and the tools' descriptions alone take {system_tokens} tokens of the "
            f"model's {n_ctx}-token context, leaving no room for the chat: raise model.n_ctx in config.yaml "
            "(the model's own limit permitting), or offer fewer tools (fewer MCP servers or plugins)."
        )
    if any(m["role"] in ("assistant", "tool") for m in messages[last_user + 1 :]):
        # the model's calls and their results since the message: not the message's fault alone
        return (
            f"this exchange no longer fits the model's context: your message, the model's calls and "
            f"their results take {tokens} tokens with the system prompt and the context holds {n_ctx}; "
            "ask for less at a time (one file or command per message), or raise model.n_ctx in config.yaml."
        )
    return (
        f"your message is too long for the model's context: with the system prompt it takes {tokens} "
        f"tokens and the context holds {n_ctx}; shorten it or send it in parts, or raise model.n_ctx "
        "in config.yaml."
    )


def refused_as_too_long(
    backend: Any, system: str, dialect: Dialect, text: str, max_tokens: int, system_tokens: int | None
) -> str | None:
    """Why `text` cannot be sent at all: with thau's instructions alone it leaves the answer
    no room (model.n_ctx less generation.max_tokens). Sent, such a message pushed every
    earlier one out of the model's view for good, and was refused anyway (UX review): so it
    is refused before it joins the chat. None when it fits, or when the instructions alone
    nearly fill the context (context_full has its own advice for that). `system_tokens`
    (Agent._system_tokens) counts the native path's tool schemas too."""
    n_ctx = backend.n_ctx
    if system_tokens is None or system_tokens * 4 >= n_ctx * 3:
        return None
    # A token is at least one byte of UTF-8, and a template's own tags take far fewer than 64:
    # a message of fewer bytes than the room left fits, whatever it says, without counting.
    if len(text.encode("utf-8", "surrogatepass")) + system_tokens + 64 <= n_ctx - max_tokens:
        return None
    alone = [
        {"role": "system", "content": system},
        {"role": "user", "content": dialect.defuse_turn(text, own_calls=False)},
    ]
    size = backend.count_tokens(backend.template.render(alone, add_generation_prompt=True))
    size += system_tokens - backend.count_tokens(system)  # the native path's schemas
    if size <= n_ctx - max_tokens:
        return None
    return (
        f"your message is too long for the model's context: with thau's instructions it takes {size} tokens, "
        f"and the context holds {n_ctx} with {max_tokens} kept for the answer. It was not sent, and the chat "
        "the model sees is as it was: shorten it or send it in parts, or raise model.n_ctx in config.yaml."
    )


def history_text(message: dict[str, Any], dialect: Dialect) -> str:
    """A stored message's content as the history renders it again (see Dialect.defuse_turn)."""
    if message["role"] not in ("user", "assistant"):  # a result was defused when it was wrapped,
        meta = message.get("meta") or {}
        if meta.get("tool_call_id"):  # ... except on the server's path, which stores it bare:
            # reopened on a local model, functiongemma read it as the user's own turn, with a
            # working call in it (attacker review). Wrapped, and defused, now.
            return dialect.render_result(str(meta.get("tool") or "a tool"), str(message["content"]))
        written = meta.get("dialect")  # for the dialect of that time:
        if written and written != dialect.name:  # another's tags inside were left alone
            return dialect.defuse(str(message["content"]))
        return dialect.defuse_result(str(message["content"]))
    return dialect.defuse_turn(message["content"], own_calls=message["role"] == "assistant")
