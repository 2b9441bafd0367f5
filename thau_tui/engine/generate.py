"""One assistant message: free text until a call opens, then the calls under a grammar.

Runs synchronously (call it from a worker thread). Text before a call streams
out through `on_text`; the moment the dialect's open tag appears, free
generation stops and the rest of the message (one or more calls) is generated
under a GBNF grammar built from the tools' schemas, so the name is a real tool
and the arguments parse. The second request shares the first's prompt prefix,
so llama.cpp reuses its KV cache.

Raw tags never reach the chat: free text ends at the first tag of the dialect
that is not a call's open tag (a result the model starts to make up, a stray
close tag), and neither that tag nor what follows is shown or stored. The call
block ends once the model, after a call's close tag, turns to anything but
another call; a call that runs away (says the same thing over and over, nests
or grows past the dialect's bounds) is stopped there and reported invalid, so
it costs a few dozen tokens rather than the whole token budget.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, TypeVar

from ..config import GenerationConfig
from ..tools.base import Tool
from .backend import Backend, SamplingSettings, StreamStats
from .dialects import MAX_CALL_CHARS, MAX_DEPTH, MAX_STRING_CHARS, Dialect, ParsedCall

# A call "runs away" when its text ends in one piece of up to REPEAT_UNIT characters said
# REPEAT_TIMES times or more, over at least REPEAT_CHARS characters. Checked every
# REPEAT_STEP characters of the call, at fixed places, so where a call is stopped does
# not depend on how the stream was cut into pieces.
REPEAT_UNIT = 64
REPEAT_TIMES = 16
REPEAT_CHARS = 256
REPEAT_STEP = 64

_SPACES = re.compile(r"\s*")


@dataclass
class Generation:
    """What one assistant message came to."""

    text: str  # everything the model wrote, call text included (stored as is: byte-stable prompts)
    visible: str  # the prose part, shown as Markdown
    calls: list[ParsedCall] = field(default_factory=list)
    tokens: int = 0
    prompt_tokens: int = 0
    evaluated: int = 0
    first_token_s: float | None = None
    seconds: float = 0.0
    cancelled: bool = False
    finish_reason: str | None = None

    @classmethod
    def from_stream(cls: type[_G], text: str, stats: StreamStats) -> _G:
        """A message of `text` with the stream's counts (calls and cancellation added after)."""
        return cls(
            text=text,
            visible=text,
            tokens=stats.tokens,
            prompt_tokens=stats.prompt_tokens,
            evaluated=stats.evaluated,
            first_token_s=stats.first_token_s,
            finish_reason=stats.finish_reason,
        )


_G = TypeVar("_G", bound=Generation)


def sampling(settings: GenerationConfig) -> SamplingSettings:
    return SamplingSettings(
        temperature=settings.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        repeat_penalty=settings.repeat_penalty,
        max_tokens=settings.max_tokens,
    )


def repeats(text: str, end: int, start: int) -> bool:
    """Whether text[start:end] ends in one piece of up to REPEAT_UNIT characters repeated
    REPEAT_TIMES times or more, over REPEAT_CHARS characters or more."""
    for unit in range(1, REPEAT_UNIT + 1):
        span = max(REPEAT_CHARS, REPEAT_TIMES * unit)
        if end - span < start:
            break  # spans only grow with the unit
        window = text[end - span : end]
        if window[unit:] == window[:-unit]:
            return True
    return False


class CallBlock:
    """Follows the call block while it streams: where each call ends (its close tag,
    outside strings, as the dialect's parser reads it), whether a call ran away, and
    where the block ends."""

    def __init__(self, dialect: Dialect, start: int) -> None:
        self.dialect = dialect
        self.end: int | None = None  # where the block ended, once it has
        self.problem: str | None = None  # why its last call was stopped, if it was
        self._open(start)

    def _open(self, at: int) -> None:
        self.call_at = at
        self.scanner = self.dialect.scanner(at + len(self.dialect.open_tag), MAX_STRING_CHARS)
        self.checked = at  # repetition is checked up to here
        self.after: int | None = None  # just past the current call's close tag, once read

    def feed(self, text: str) -> bool:
        """Read what is new in `text` (which only grows); True once the block is over."""
        tag = self.dialect.open_tag
        while True:
            if self.after is None:
                close = self.scanner.feed(text)
                if self._ran_away(text, close if close >= 0 else self.scanner.pos):
                    return True
                if close < 0:
                    return False
                self.after = close + len(self.dialect.close_tag)
            spaces = _SPACES.match(text, self.after)
            nxt = spaces.end() if spaces else self.after  # \s* always matches
            if text.startswith(tag, nxt):
                self._open(nxt)
                continue
            if len(text) - nxt < len(tag) and tag.startswith(text[nxt:]):
                return False  # nothing yet, or the start of another call
            self.end = self.after  # the model turned to something else: the block is over
            return True

    def cut(self, length: int) -> int:
        """How much of the text to keep: up to the block's end, else up to the last close tag
        when the stream stopped between calls, else all of it."""
        if self.end is not None:
            return self.end
        return self.after if self.after is not None else length

    @property
    def inside_call(self) -> bool:
        return self.end is None and self.after is None

    def _ran_away(self, text: str, limit: int) -> bool:
        """Whether the current call, read up to `limit`, left its bounds; if so, where and why."""
        scanner = self.scanner
        found = []
        if scanner.too_deep_at is not None and scanner.too_deep_at < limit:
            found.append((scanner.too_deep_at, f"its arguments nest deeper than {MAX_DEPTH} levels"))
        if scanner.long_string_at is not None and scanner.long_string_at < limit:
            found.append((scanner.long_string_at, f"a string in it passed {MAX_STRING_CHARS} characters"))
        if limit - self.call_at > MAX_CALL_CHARS:
            found.append((self.call_at + MAX_CALL_CHARS, f"it passed {MAX_CALL_CHARS} characters"))
        while self.checked + REPEAT_STEP <= limit:
            self.checked += REPEAT_STEP
            if repeats(text, self.checked, self.call_at):
                found.append((self.checked, "it says the same thing over and over"))
                break
        if not found:
            return False
        self.end, reason = min(found)
        self.problem = f"the call was stopped: {reason}"
        return True


def generate_reply(
    backend: Backend,
    prompt: str,
    dialect: Dialect,
    tools: list[Tool],
    settings: GenerationConfig,
    cancel: threading.Event | None = None,
    on_text: Callable[[str], None] | None = None,
    use_grammar: bool = True,
) -> Generation:
    """Generate one assistant message for `prompt`, stopping at the end of its calls."""
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    sample = sampling(settings)
    text = ""
    shown = 0  # characters of `text` passed on (to on_text, when there is one)
    stats = StreamStats()
    found = None  # (where the first tag starts, whether it opens a call)
    stream = backend.stream(prompt, sample, stats)
    try:
        for piece in stream:
            text += piece
            # Text before `shown` holds no tag's start: a possible one is held back below.
            found = dialect.first_tag(text, shown)
            if found is not None:
                break
            safe = len(text) - dialect.partial_tag_len(text)
            if safe > shown:
                if on_text:
                    on_text(text[shown:safe])
                shown = safe
            if cancel.is_set():
                break
    finally:
        stream.close()
    result = Generation.from_stream(text, stats)
    if found is None:
        if on_text and len(text) > shown and not cancel.is_set():
            on_text(text[shown:])
        result.cancelled = cancel.is_set()
        result.seconds = time.perf_counter() - started
        return result

    at, opens_call = found
    before = text[:at]
    if on_text and at > shown:
        on_text(text[shown:at])
    result.visible = before
    if not (opens_call and tools):
        # A tag the model should not write in prose (or a call with no tools to call):
        # the message ends where it begins.
        result.text = before
        result.finish_reason = "stop"
        result.cancelled = cancel.is_set()
        result.seconds = time.perf_counter() - started
        return result

    full = before + dialect.open_tag
    block = CallBlock(dialect, at)
    if not cancel.is_set():
        body_stats = StreamStats()
        grammar = dialect.grammar(tools) if use_grammar else None
        # The message's cap covers the prose and the calls together: the call block had the whole
        # cap again, so a message could run to twice generation.max_tokens (read-through review).
        # A call is decoded with settings of its own: it copies the request's values, which
        # sampling and a repeat penalty only take it away from (issue 16, models/README.md).
        left = replace(
            sample,
            max_tokens=max(1, sample.max_tokens - stats.tokens),
            temperature=settings.call_temperature,
            repeat_penalty=settings.call_repeat_penalty,
        )
        body_stream = backend.stream(prompt + full, left, body_stats, grammar=grammar)
        try:
            for piece in body_stream:
                full += piece
                if block.feed(full) or cancel.is_set():
                    break
        finally:
            body_stream.close()
        result.tokens += body_stats.tokens
        result.evaluated += body_stats.evaluated
        result.prompt_tokens = body_stats.prompt_tokens
        result.finish_reason = "stop" if block.end is not None else body_stats.finish_reason
    cut_off = block.inside_call and result.finish_reason == "length"
    result.text = full[: block.cut(len(full))].rstrip()
    result.calls = dialect.parse_calls(result.text)
    last = result.calls[-1] if result.calls else None
    if last is not None and (block.problem or (cut_off and last.call is None)):
        why = block.problem or (
            f"the call was cut off at the token limit (generation.max_tokens) before {dialect.close_tag}"
        )
        result.calls[-1] = ParsedCall(None, f"could not read the tool call: {why}", last.raw)
    result.cancelled = cancel.is_set()
    result.seconds = time.perf_counter() - started
    return result
