"""A backend that replays scripted replies, for loop and parser tests where the tiny
model's wording is not the subject. It speaks the same protocol as LlamaBackend."""

from __future__ import annotations

import json
import time

from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.prompt import ChatTemplate


def hermes_call(name: str, **arguments) -> str:
    """A scripted reply that calls `name` in the hermes dialect."""
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


class ScriptedBackend:
    name = "scripted"
    n_ctx = 8192
    lora_path = None

    def __init__(self, replies: list[str], chunk: int = 3, delay: float = 0.002) -> None:
        self.replies = list(replies)
        self.chunk = chunk
        self.delay = delay  # a token's time, so the event loop sees text arrive in pieces
        self.template = ChatTemplate(None)
        self.prompts: list[str] = []
        self._pending = ""  # the rest of a reply after its call opened (the grammar phase)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None):
        self.prompts.append(prompt)
        if grammar is not None and self._pending:
            text, self._pending = self._pending, ""
        else:
            text = self.replies.pop(0) if self.replies else "(script ended)"
        stats.prompt_tokens = self.count_tokens(prompt)
        sent = 0
        for i in range(0, len(text), self.chunk):
            piece = text[i : i + self.chunk]
            stats.tokens += 1
            sent = i + len(piece)
            time.sleep(self.delay)
            yield piece
            # the agent stops reading once a call opens; keep what follows for the grammar phase
            for tag in ("<tool_call>", "<TOOL:", "<|tool_call|>", "<start_function_call>"):
                at = text.find(tag)
                if 0 <= at < sent:
                    self._pending = text[at + len(tag) :]
                    break


class Prefill:
    """Wraps a backend so its free-text phase begins with `prefix` (the grammar phase is real)."""

    def __init__(self, backend, prefix: str) -> None:
        self.backend, self.prefix = backend, prefix
        self.name, self.n_ctx, self.template = backend.name, backend.n_ctx, backend.template
        self.lora_path = None

    def count_tokens(self, text):
        return self.backend.count_tokens(text)

    def stream(self, prompt, settings, stats, grammar=None):
        if grammar is None:

            def once():
                yield self.prefix

            return once()
        return self.backend.stream(prompt, settings, stats, grammar)
