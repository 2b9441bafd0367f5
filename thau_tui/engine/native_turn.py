"""The native tool-call path's half of a turn: the chat as OpenAI messages, and one
assistant message from a server's `tool_calls` deltas.

A server's call is as untrusted as a model's text in the dialect path: its name and
arguments arrive in fragments, are bounded while they grow (MAX_CALL_CHARS, MAX_CALLS),
and come out as the same ParsedCalls (a name the registry does not know, or arguments
that are not a JSON object, become an invalid call the model reads back). thau gives each
call its own id: a server's ids are never store keys, and the ids sent back with the
results are the ones thau chose.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..config import GenerationConfig
from ..tools.base import Tool, ToolCall, storable
from .backend import SamplingSettings, StreamStats
from .dialects import MAX_CALL_CHARS, MAX_DEPTH, ParsedCall, _json_depth, defuse_tokens, read_arguments
from .generate import Generation, sampling
from .openai_chat import CallDelta
from .prompt import ChatTemplate, drop_oldest_exchanges, shorten_every_result, shorten_results

if TYPE_CHECKING:
    from collections.abc import Generator

MAX_CALLS = 16  # calls in one message; more are reported, not run
MAX_NAME_CHARS = 64  # an OpenAI function name
# What an OpenAI function name may hold; every tool thau offers has such a name, and
# anything else (markup, tags) never reaches a card.
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Results a crash left without an answer: the server wants one per call.
INTERRUPTED = "interrupted: thau stopped before this call finished, so it did not run."


class NativeBackend(Protocol):
    """A backend that speaks the native path (engine/openai_backend.py)."""

    n_ctx: int
    template: ChatTemplate

    def count_tokens(self, text: str) -> int: ...

    def chat_stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        settings: SamplingSettings,
        stats: StreamStats,
        prompt_tokens: int,
    ) -> Generator[str | CallDelta, None, None]: ...


@dataclass
class NativeGeneration(Generation):
    """A Generation whose calls came from the server's `tool_calls`; `wire` is what the
    next request says the assistant called ({"id", "name", "arguments"}), one per call."""

    wire: list[dict[str, str]] = field(default_factory=list)


def defuse(text: str) -> str:
    """A tool's output without chat-template control tokens: the server renders the result
    into its template, and a `<|im_end|>` inside it would end the tool's turn there."""
    return defuse_tokens(storable(text))


def tool_schemas(tools: list[Tool]) -> list[dict[str, Any]]:
    return [tool.schema() for tool in tools]


def chat_messages(system: str, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored messages as the chat endpoint wants them.

    An answer with calls carries them (meta["tool_calls"]); each call's result follows as
    a `tool` message with its id. A result with no call to answer (a chat begun on the
    dialect path) goes as a user message; a call left without a result (a crash) gets one
    that says it was interrupted: servers refuse a chat where either is out of place.
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    waiting: list[str] = []  # ids of the last answer's calls not yet answered

    def close_waiting() -> None:
        out.extend({"role": "tool", "tool_call_id": wid, "content": INTERRUPTED} for wid in waiting)
        waiting.clear()

    for message in history:
        role, content, meta = message["role"], message["content"], message.get("meta") or {}
        wanted = meta.get("tool_call_id")
        if role == "tool" and wanted in waiting:
            waiting.remove(wanted)
            out.append({"role": "tool", "tool_call_id": wanted, "content": content})
            continue
        close_waiting()
        if role == "tool":
            out.append({"role": "user", "content": f"(result of {meta.get('tool', 'a tool')})\n{content}"})
        elif role == "assistant" and meta.get("tool_calls"):
            calls = [c for c in meta["tool_calls"] if isinstance(c, dict)]
            out.append(
                {
                    "role": "assistant",
                    "content": defuse(content),  # "", not None: llama-cpp-python's server refuses null
                    "tool_calls": [
                        {
                            "id": c["id"],
                            "type": "function",
                            # the server renders them into its template too (tojson keeps `<|im_end|>`)
                            "function": {"name": defuse(c["name"]), "arguments": defuse(c["arguments"])},
                        }
                        for c in calls
                    ],
                }
            )
            waiting.extend(c["id"] for c in calls)
        elif role == "user" and out[-1]["role"] == "user" and "tool_call_id" not in out[-1]:
            # a question whose turn failed (a server error) left no answer: two user messages in
            # a row, which strict templates (Mistral, Gemma) refuse for the rest of the chat
            out[-1] = {"role": "user", "content": f"{out[-1]['content']}\n\n{defuse(content)}"}
        else:  # the server tokenizes the prompt with special tokens on: a user's or the model's
            # own `<|im_end|><|im_start|>user` would be a forged turn there
            out.append({"role": role, "content": defuse(content)})
    close_waiting()
    return out


def _as_text(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages flattened for counting tokens with thau's own template: calls as JSON."""
    flat = []
    for m in messages:
        text = m.get("content") or ""
        for call in m.get("tool_calls") or []:
            text += "\n" + json.dumps(call["function"], ensure_ascii=False)
        flat.append({"role": m["role"] if m["role"] != "tool" else "user", "content": text})
    return flat


def estimate_tokens(backend: NativeBackend, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> int:
    """About how many tokens the server's prompt has: the chat through thau's template, the
    tools as JSON (the server's template words them its own way)."""
    size = backend.count_tokens(backend.template.render(_as_text(messages), add_generation_prompt=True))
    return size + (backend.count_tokens(json.dumps(tools, ensure_ascii=False)) if tools else 0)


def fit_chat(
    backend: NativeBackend,
    system: str,
    messages: list[dict[str, Any]],
    start: int,
    budget: int,
    tools: list[dict[str, Any]],
    trim_to: float,
) -> tuple[list[dict[str, Any]], int, int]:
    """(the chat messages, where the model's view starts, their estimated tokens). The view
    moves only when the chat no longer fits, then by whole exchanges down to `trim_to` of
    `budget`, as the dialect path does (Agent.render_prompt); when the newest exchange
    alone is too long, its longest results are cut in the request (the chat keeps them)."""

    def measure(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        chat = chat_messages(system, history)
        return chat, estimate_tokens(backend, chat, tools)

    # a result over half the room is halved first, before older exchanges make way for it, and
    # always, so that it reads the same every turn (Agent.render_prompt)
    history = shorten_every_result(messages[start:], backend.count_tokens, budget // 2)
    chat, size = measure(history)
    if size <= budget:
        return chat, start, size
    history, chat, size = drop_oldest_exchanges(history, measure, int(budget * trim_to))
    start = len(messages) - len(history)
    # the newest exchange alone is too long: its results give way
    history, chat, size = shorten_results(history, measure, budget)
    return chat, start, size


@dataclass
class UnreadableArguments(ParsedCall):
    """A call to a tool named plainly (a function name) whose arguments could not be read:
    still not run, but its card shows the tool and what was sent, not "(unreadable call)"
    (native calls review). `arguments` is the text as sent, cut to SHOWN_ARGUMENT_CHARS."""

    tool: str = ""
    arguments: str = ""
    call_id: str = ""


# What a card shows of arguments that could not be read: enough to see what went wrong.
SHOWN_ARGUMENT_CHARS = 2_000


@dataclass
class _Call:
    name: str = ""
    arguments: str = ""
    problem: str = ""


def _finish_call(slot: _Call) -> tuple[ParsedCall, dict[str, str]]:
    """One call as the agent handles it, and as the next request repeats it."""
    name = storable(slot.name.strip())
    raw = f"{name}({slot.arguments[:200]})"
    call_id = ToolCall("", {}).id
    shown = name[:MAX_NAME_CHARS] if FUNCTION_NAME.fullmatch(name[:MAX_NAME_CHARS]) else "unknown"
    wire = {"id": call_id, "name": shown, "arguments": "{}"}
    problem = slot.problem
    if not problem and not name:
        problem = "the server sent a tool call without a name"
    if not problem and len(name) > MAX_NAME_CHARS:
        problem = f"the tool name passed {MAX_NAME_CHARS} characters"
    if not problem and not FUNCTION_NAME.fullmatch(name):
        problem = "its tool name holds characters no function name has (letters, digits, _ and - only)"
    arguments: Any = {}
    if not problem and slot.arguments.strip():
        if _json_depth(slot.arguments) > MAX_DEPTH:
            problem = f"its arguments nest deeper than {MAX_DEPTH} levels"
        else:
            try:
                arguments = read_arguments(slot.arguments)
            except ValueError as exc:  # bad JSON, NaN, a 5,000-digit number: the model reads why
                problem = f"its arguments are not valid JSON: {exc}"
    if problem and name and shown == name:  # the name is fine, the arguments are not
        why = f"could not read the call to {shown}: {problem}"
        return UnreadableArguments(None, why, raw, name, slot.arguments[:SHOWN_ARGUMENT_CHARS], call_id), wire
    if problem:
        return ParsedCall(None, f"could not read the call to {shown}: {problem}", raw), wire
    wire["arguments"] = json.dumps(arguments, ensure_ascii=False)
    return ParsedCall(ToolCall(name, arguments, id=call_id, raw=raw), None, raw), wire


def generate_native(
    backend: NativeBackend,
    messages: list[dict[str, Any]],
    tools: list[Tool],
    settings: GenerationConfig,
    prompt_tokens: int,
    cancel: threading.Event | None = None,
    on_text: Callable[[str], None] | None = None,
) -> NativeGeneration:
    """One assistant message through the server's `tools` field: text streams out through
    `on_text`, call fragments are gathered (and bounded) into calls."""
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    stats = StreamStats()
    text = ""
    calls: dict[int, _Call] = {}
    stopped = ""  # why the stream was closed early, when a call broke a bound
    stream = backend.chat_stream(messages, tool_schemas(tools), sampling(settings), stats, prompt_tokens)
    try:
        for piece in stream:
            if cancel.is_set():
                break
            if isinstance(piece, str):
                if piece:
                    text += piece
                    if on_text:
                        on_text(piece)
                continue
            if piece.slot >= MAX_CALLS:
                stopped = f"the server sent more than {MAX_CALLS} calls in one message; the rest were dropped"
                break
            slot = calls.setdefault(piece.slot, _Call())
            if piece.name and piece.name != slot.name:
                slot.name += piece.name  # a name repeated in every delta (llama-cpp-python) is said once
            slot.arguments += piece.arguments
            if len(slot.arguments) + len(slot.name) > MAX_CALL_CHARS:
                slot.problem = f"it passed {MAX_CALL_CHARS} characters"
                slot.arguments = slot.arguments[:MAX_CALL_CHARS]
                break
            if len(slot.name) > MAX_NAME_CHARS * 4:
                slot.problem = f"the tool name passed {MAX_NAME_CHARS} characters"
                break
    finally:
        stream.close()
    if stats.finish_reason == "length" and calls and not calls[max(calls)].problem:
        last = calls[max(calls)]  # cut by max_tokens: "not valid JSON, write it again" made the model loop
        try:
            whole = bool(last.arguments.strip()) and read_arguments(last.arguments) is not None
        except ValueError:
            whole = False
        if not whole:
            last.problem = "it was cut off at the token limit (generation.max_tokens) before it ended"
    result = NativeGeneration.from_stream(text, stats)
    result.cancelled = cancel.is_set()
    if not result.cancelled:
        for index in sorted(calls):
            parsed, wire = _finish_call(calls[index])
            result.calls.append(parsed)
            result.wire.append(wire)
        if stopped:
            result.calls.append(ParsedCall(None, stopped, ""))
            result.wire.append({"id": ToolCall("", {}).id, "name": "unknown", "arguments": "{}"})
    result.seconds = time.perf_counter() - started
    return result
