"""One assistant message: free text until a call opens, then the call under a grammar.

Runs synchronously (call it from a worker thread). Text before a call streams
out through `on_text`; the moment the dialect's open tag appears, free
generation stops and the rest of the message (one or more calls, nothing else)
is generated under a GBNF grammar built from the tools' schemas, so the name
is a real tool and the arguments parse. The second request shares the first's
prompt prefix, so llama.cpp reuses its KV cache.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..config import GenerationConfig
from ..tools.base import Tool
from .backend import Backend, SamplingSettings, StreamStats, partial_match_len
from .dialects import Dialect, ParsedCall


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


def sampling(settings: GenerationConfig) -> SamplingSettings:
    return SamplingSettings(
        temperature=settings.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        repeat_penalty=settings.repeat_penalty,
        max_tokens=settings.max_tokens,
    )


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
    tag = dialect.open_tag if tools else None
    text = ""
    shown = 0  # characters of `text` already passed to on_text
    stats = StreamStats()
    call_at = -1
    stream = backend.stream(prompt, sample, stats)
    try:
        for piece in stream:
            text += piece
            if tag:
                call_at = text.find(tag, max(0, shown - len(tag)))
                if call_at >= 0:
                    break
                safe = len(text) - partial_match_len(text, tag)
            else:
                safe = len(text)
            if on_text and safe > shown:
                on_text(text[shown:safe])
                shown = safe
            if cancel.is_set():
                break
    finally:
        stream.close()
    result = Generation(
        text=text,
        visible=text,
        tokens=stats.tokens,
        prompt_tokens=stats.prompt_tokens,
        evaluated=stats.evaluated,
        first_token_s=stats.first_token_s,
        finish_reason=stats.finish_reason,
    )
    if call_at < 0:
        if on_text and len(text) > shown and not cancel.is_set():
            on_text(text[shown:])
        result.cancelled = cancel.is_set()
        result.seconds = time.perf_counter() - started
        return result

    before = text[:call_at]
    if on_text and call_at > shown:
        on_text(text[shown:call_at])
    head = before + tag
    body = ""
    if not cancel.is_set():
        if use_grammar:
            grammar = dialect.grammar(tools)
            body_stats = StreamStats()
            body_stream = backend.stream(prompt + head, sample, body_stats, grammar=grammar)
        else:
            body_stats = StreamStats()
            body_stream = backend.stream(prompt + head, sample, body_stats)
        try:
            for piece in body_stream:
                body += piece
                if cancel.is_set():
                    break
        finally:
            body_stream.close()
        result.tokens += body_stats.tokens
        result.evaluated += body_stats.evaluated
        result.prompt_tokens = body_stats.prompt_tokens
        result.finish_reason = body_stats.finish_reason
    result.text = head + body.rstrip()
    result.visible = before
    result.calls = dialect.parse_calls(result.text)
    result.cancelled = cancel.is_set()
    result.seconds = time.perf_counter() - started
    return result
