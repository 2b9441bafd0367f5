"""One turn: stream -> find call -> validate -> approve -> run -> feed back -> continue.

`Agent.run_turn` is an async generator of typed events (engine/events.py). Model
generation and tools run in worker threads; the generator only moves events
and awaits the user's decisions, so the UI's event loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from ..config import Config
from ..tools.base import ToolCall, ToolContext, ToolResult
from ..tools.registry import ToolRegistry
from .backend import MODEL_THREAD, Backend, ModelLoadError
from .dialects import Dialect, get_dialect
from .events import (
    ApprovalRequested,
    Decision,
    Error,
    QuestionAsked,
    TextDelta,
    ToolCallInvalid,
    ToolCallProposed,
    ToolDenied,
    ToolFinished,
    ToolOutput,
    ToolProgress,
    ToolStarted,
    TurnDone,
    TurnStats,
)
from .generate import Generation, generate_reply
from .prompt import fit_roles, system_content
from .store import Store

_DONE = object()


@dataclass
class ChatSession:
    """A conversation: its messages (no system message: that is rendered per turn) and
    per-session resources such as the persistent shell."""

    id: str
    title: str = "New chat"
    messages: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        shell = self.resources.pop("shell", None)
        if shell is not None and hasattr(shell, "close"):
            shell.close()


class Agent:
    """Runs turns for chat sessions against one backend, one registry, one approval book."""

    def __init__(
        self,
        config: Config,
        registry: ToolRegistry,
        *,
        approvals: Any = None,
        store: Store | None = None,
        backend: Backend | None = None,
        workspace: Path | None = None,
        text_batch_s: float = 0.0,
    ) -> None:
        self.config = config
        # Hand text to the event loop at most this often. The TUI draws ~15 frames a
        # second, so waking it per token only costs CPU that the model needs.
        self.text_batch_s = text_batch_s
        self.registry = registry
        self.approvals = approvals
        self.store = store
        self.backend = backend
        self.workspace = (workspace or Path(config.tools.workspace)).expanduser().resolve()
        self._cancel = threading.Event()
        self._pending: set[asyncio.Future] = set()

    # --- sessions ----------------------------------------------------------------
    def new_session(self, title: str = "New chat") -> ChatSession:
        model = self.backend.name if self.backend else ""
        sid = self.store.create_session(title, model) if self.store else f"mem-{id(self)}-{time.time_ns()}"
        return ChatSession(sid, title)

    def load_session(self, sid: str) -> ChatSession:
        if self.store is None:
            raise KeyError(sid)
        info = self.store.get_session(sid)
        if info is None:
            raise KeyError(f"no saved chat with id {sid}")
        messages = [{"role": m["role"], "content": m["content"]} for m in self.store.messages(sid)]
        return ChatSession(sid, info.title, messages)

    @property
    def dialect(self) -> Dialect:
        return get_dialect(self.config.model.dialect)

    def system_message(self) -> str:
        return system_content(self.config.generation.system_prompt, self.dialect, self.registry.tools())

    def render_prompt(self, session: ChatSession) -> str:
        """The whole prompt: system + history + an open assistant turn, trimmed to fit."""
        assert self.backend is not None
        history = session.messages
        budget = self.backend.n_ctx - self.config.generation.max_tokens
        while True:
            messages = [{"role": "system", "content": self.system_message()}, *history]
            prompt = self.backend.template.render(fit_roles(messages, self.dialect), add_generation_prompt=True)
            if len(history) <= 1 or self.backend.count_tokens(prompt) <= budget:
                return prompt
            history = history[2:]  # the oldest exchange goes first; the store keeps everything

    def _add(self, session: ChatSession, role: str, content: str, meta: dict | None = None) -> int | None:
        session.messages.append({"role": role, "content": content})
        if self.store:
            return self.store.add_message(session.id, role, content, meta)
        return None

    # --- cancelling ----------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running turn: generation stops, a running tool is interrupted,
        a pending approval counts as cancelled."""
        self._cancel.set()
        for future in list(self._pending):
            if not future.done():
                future.set_result(Decision("cancel"))

    # --- the turn ----------------------------------------------------------------
    async def run_turn(self, session: ChatSession, user_text: str) -> AsyncIterator[Any]:
        """Answer `user_text` in `session`, yielding events until TurnDone."""
        self._cancel = threading.Event()
        stats = TurnStats()
        started = time.perf_counter()
        if self.backend is None:
            yield Error("the model is not loaded yet; wait for the status bar to show its name")
            yield TurnDone(stats)
            return
        stats.n_ctx = self.backend.n_ctx
        self._add(session, "user", user_text)
        if session.title == "New chat" and self.store:
            session.title = user_text.strip().splitlines()[0][:60] or "New chat"
            self.store.rename_session(session.id, session.title)
        failures: dict[str, int] = {}
        final_text = ""
        rounds = 0
        while True:
            generation = None
            async for event in self._generate(session, stats):
                if isinstance(event, Generation):
                    generation = event
                else:
                    yield event
            if generation is None:  # the backend failed; an Error was yielded
                break
            final_text = generation.visible
            if generation.text or not generation.cancelled:
                message_id = self._add(session, "assistant", generation.text)
            if generation.cancelled or self._cancel.is_set():
                stats.cancelled = True
                break
            if not generation.calls:
                break
            if rounds >= self.config.generation.max_tool_rounds:
                yield Error(
                    f"stopped after {rounds} tool rounds (generation.max_tool_rounds in config.yaml); "
                    "ask again to continue"
                )
                break
            rounds += 1
            stats.tool_rounds = rounds
            repeated = False
            for parsed in generation.calls:
                outcome = None
                async for event in self._handle_call(session, parsed, message_id):
                    if isinstance(event, tuple):
                        outcome = event
                    else:
                        yield event
                name, output, ok = outcome if outcome else ("unknown", "error: no result", False)
                self._add(session, "tool", self.dialect.render_result(name, output), {"tool": name, "ok": ok})
                if not ok:
                    key = f"{name}:{json.dumps(parsed.call.arguments, sort_keys=True) if parsed.call else parsed.raw}"
                    failures[key] = failures.get(key, 0) + 1
                    repeated = repeated or failures[key] >= 3
                if self._cancel.is_set():
                    break
            if self._cancel.is_set():
                stats.cancelled = True
                break
            if repeated:
                yield Error("the model keeps repeating the same failing tool call; stopping this turn")
                break
        stats.seconds = time.perf_counter() - started
        yield TurnDone(stats, final_text)

    async def run_user_call(self, session: ChatSession, call: ToolCall) -> AsyncIterator[Any]:
        """Run a call the user asked for directly (e.g. re-run an image): no model, no
        approval round, the same events and storage as a model's call."""
        self._cancel = threading.Event()
        tool = self.registry.get(call.name)
        yield ToolCallProposed(call, tool.risk if tool else "exec")
        errors = self.registry.validate(call)
        if errors:
            yield ToolCallInvalid(call, errors)
            return
        yield ToolStarted(call, Decision("once", by="user"))
        result, seconds = ToolResult("no result", ok=False), 0.0
        async for item in self._run_tool(session, call):
            if isinstance(item, tuple):
                result, seconds = item
            else:
                yield item
        status = "cancelled" if self._cancel.is_set() else "done" if result.ok else "failed"
        if self.store:
            self.store.record_call(session.id, call.id, call.name, call.arguments, status, result=result.output)
            self.store.record_decision(session.id, call.id, "once", "user")
        yield ToolFinished(call, result, status, seconds)

    async def _generate(self, session: ChatSession, stats: TurnStats) -> AsyncIterator[Any]:
        """Run one generation in a thread, yielding TextDelta as text arrives, then the Generation."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        try:
            prompt = self.render_prompt(session)
        except Exception as exc:
            yield Error(f"could not render the prompt: {exc}")
            return
        tools = self.registry.tools()
        pending: list[str] = []  # text from the model thread not yet handed to the loop
        lock = threading.Lock()
        last_drain = [0.0]  # when text was last handed over (time.monotonic)

        def drain() -> None:
            last_drain[0] = time.monotonic()
            with lock:
                text = "".join(pending)
                pending.clear()
            if text:
                queue.put_nowait(TextDelta(text))

        def on_text(text: str) -> None:
            # Wake the event loop once per batch, not once per token: the first text goes
            # at once, later text at most every text_batch_s (tokens gather here meanwhile).
            with lock:
                wake = not pending
                pending.append(text)
            if wake:
                wait = last_drain[0] + self.text_batch_s - time.monotonic()
                loop.call_soon_threadsafe(drain if wait <= 0 else functools.partial(loop.call_later, wait, drain))

        def work() -> None:
            try:
                gen = generate_reply(
                    self.backend, prompt, self.dialect, tools, self.config.generation, self._cancel,
                    on_text=on_text,
                )
                loop.call_soon_threadsafe(drain)
                loop.call_soon_threadsafe(queue.put_nowait, gen)
            except ModelLoadError as exc:
                loop.call_soon_threadsafe(queue.put_nowait, Error(str(exc)))
            except Exception as exc:
                loop.call_soon_threadsafe(queue.put_nowait, Error(f"generation failed: {type(exc).__name__}: {exc}"))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        MODEL_THREAD.submit(work)  # the thread llama.cpp runs on anyway: no hand-over per token
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, Generation):
                stats.tokens += item.tokens
                stats.prompt_evaluated += item.evaluated
                stats.prompt_tokens = item.prompt_tokens
                stats.context_used = item.prompt_tokens + item.tokens
                if stats.first_token_s is None:
                    stats.first_token_s = item.first_token_s
            yield item

    async def _decide(self, session: ChatSession, call: ToolCall, risk: str) -> AsyncIterator[Any]:
        """Yield ApprovalRequested when asking; finally yield the Decision."""
        policy = self.approvals.decide(call, risk, session.id) if self.approvals else (
            "auto" if risk == "read" else "ask"
        )
        if policy == "auto":
            yield Decision("once", by="auto")
            return
        if policy == "deny":
            yield Decision("deny", reason="the configuration denies this tool", by="config")
            return
        future = asyncio.get_running_loop().create_future()
        self._pending.add(future)
        try:
            yield ApprovalRequested(call, risk, future)
            try:
                decision = await asyncio.wait_for(future, self.config.tools.approval_timeout)
            except asyncio.TimeoutError:
                decision = Decision("deny", reason="no answer before the approval timeout", by="timeout")
        finally:
            self._pending.discard(future)
        yield decision

    async def _handle_call(self, session: ChatSession, parsed, message_id) -> AsyncIterator[Any]:
        """Validate, approve and run one call; finally yield (name, output_for_model, ok)."""
        store = self.store
        if parsed.call is None:
            yield ToolCallInvalid(None, [parsed.error], parsed.raw)
            yield ("unknown", f"error: {parsed.error}. Write the call again as valid JSON.", False)
            return
        call = parsed.call
        tool = self.registry.get(call.name)
        risk = tool.risk if tool else "exec"
        yield ToolCallProposed(call, risk)
        errors = self.registry.validate(call)
        if store:
            store.record_call(session.id, call.id, call.name, call.arguments,
                              "invalid" if errors else "proposed", message_id)
        if errors:
            yield ToolCallInvalid(call, errors, parsed.raw)
            yield (call.name, "error: " + "; ".join(errors), False)
            return
        decision = None
        async for item in self._decide(session, call, risk):
            if isinstance(item, Decision):
                decision = item
            else:
                yield item
        if decision.arguments is not None:
            edited = ToolCall(call.name, decision.arguments, id=call.id)
            errors = self.registry.validate(edited)
            if errors:
                decision = Decision("deny", reason="edited arguments invalid: " + "; ".join(errors))
            else:
                call.arguments = decision.arguments
        if store:
            store.record_decision(session.id, call.id, decision.kind if decision.by != "auto" else "auto",
                                  decision.by, decision.reason, decision.arguments)
        if decision.kind == "cancel":
            self._cancel.set()
            if store:
                store.record_call(session.id, call.id, call.name, call.arguments, "cancelled")
            yield ToolDenied(call, "cancelled", decision)
            yield (call.name, "the user cancelled this call", False)
            return
        if not decision.allowed:
            reason = decision.reason or "no reason given"
            if store:
                store.record_call(session.id, call.id, call.name, call.arguments, "denied")
            yield ToolDenied(call, reason, decision)
            yield (call.name, f"the user denied this call ({reason}). Do not retry it; answer without it.", True)
            return
        if self.approvals and decision.kind in ("session", "always"):
            self.approvals.remember(call, risk, decision, session.id)
        yield ToolStarted(call, decision)
        if store:
            store.record_call(session.id, call.id, call.name, call.arguments, "running")
        result, status, seconds = None, "done", 0.0
        async for item in self._run_tool(session, call):
            if isinstance(item, tuple):
                result, seconds = item
            else:
                yield item
        if self._cancel.is_set():
            status = "cancelled"
        elif not result.ok:
            status = "failed"
        if store:
            store.record_call(session.id, call.id, call.name, call.arguments, status, result=result.output)
        yield ToolFinished(call, result, status, seconds)
        yield (call.name, result.output if status != "cancelled" else "cancelled by the user", result.ok)

    async def _run_tool(self, session: ChatSession, call: ToolCall) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        post: Callable[[Any], None] = lambda item: loop.call_soon_threadsafe(queue.put_nowait, item)

        def ask(question: str) -> str | None:
            """ask_user from the tool thread: hand a future to the UI and wait for it."""
            future_holder: dict[str, asyncio.Future] = {}
            ready = threading.Event()

            def make() -> None:
                future = loop.create_future()
                self._pending.add(future)
                future_holder["f"] = future
                queue.put_nowait(QuestionAsked(call, question, future))
                ready.set()

            loop.call_soon_threadsafe(make)
            ready.wait()
            answer = asyncio.run_coroutine_threadsafe(_await(future_holder["f"]), loop).result()
            self._pending.discard(future_holder["f"])
            return None if isinstance(answer, Decision) else answer

        resources = session.resources
        resources["ask"] = ask
        context = ToolContext(
            workspace=self.workspace,
            config=self.config,
            session_id=session.id,
            cancel_event=self._cancel,
            on_output=lambda chunk: post(ToolOutput(call.id, chunk)),
            on_progress=lambda done, total, label: post(ToolProgress(call.id, done, total, label)),
            resources=resources,
        )
        tool = self.registry.get(call.name)
        started = time.perf_counter()

        def work() -> None:
            # Tool.run turns every exception into a failed result, so _DONE always follows.
            result = tool.run(call.arguments, context) if tool else ToolResult(f"unknown tool {call.name}", ok=False)
            post((result, time.perf_counter() - started))
            post(_DONE)

        threading.Thread(target=work, name=f"thau-tool-{call.name}", daemon=True).start()
        while (item := await queue.get()) is not _DONE:
            yield item


async def _await(future: asyncio.Future) -> Any:
    return await future
