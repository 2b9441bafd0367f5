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
from .prompt import drop_oldest_exchange, fit_roles, system_content
from .store import Store, StoreError, storable

_DONE = object()

# How often the answer being written, and a running tool's output, are saved while they
# grow: a crash loses at most this much of them.
SAVE_EVERY_S = 1.0
# The most of a running tool's output kept in the store while it runs (the tail).
CAPTURED_OUTPUT_CHARS = 16_000
# The most of that output the model reads back after a crash interrupted the call.
INTERRUPTED_OUTPUT_CHARS = 2_000


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
        self._reported: set[str] = set()  # failed-save messages already shown this turn
        self._unreported: list[str] = []

    # --- sessions ----------------------------------------------------------------
    def new_session(self, title: str = "New chat") -> ChatSession:
        model = self.backend.name if self.backend else ""
        sid = self.store.create_session(title, model) if self.store else f"mem-{id(self)}-{time.time_ns()}"
        return ChatSession(sid, title)

    def load_session(self, sid: str) -> ChatSession:
        """A saved chat, with what a crash left open closed (see `close_interrupted`).

        Each message is {"role", "content", "meta"}; meta["interrupted"] marks an answer
        thau was still writing when it stopped, and the tool result given in place of a
        call a crash interrupted (store.tool_calls(sid) has such calls with status
        "interrupted" and the output captured before the crash in "result").
        """
        if self.store is None:
            raise KeyError(sid)
        info = self.store.get_session(sid)
        if info is None:
            raise KeyError(f"no saved chat with id {sid}")
        self.close_interrupted(sid)
        messages = [{"role": m["role"], "content": m["content"], "meta": m["meta"]} for m in self.store.messages(sid)]
        return ChatSession(sid, info.title, messages)

    def close_interrupted(self, sid: str) -> int:
        """Close what a crash left open in `sid`; return how many tool results were added.

        Calls left waiting for approval or running are marked interrupted, and every call
        of the last answer that never got a result gets one that says it was interrupted,
        so the next prompt never carries a call without a response. Nothing happens while a
        live thau process runs a turn in `sid`. A store that fails here leaves the chat as
        it was (it still opens).
        """
        if self.store is None:
            return 0
        try:
            if self.store.turn_running(sid):
                return 0
            rows = self.store.interrupt_calls(sid)
            stored = self.store.messages(sid)
            last = max((i for i, m in enumerate(stored) if m["role"] == "assistant"), default=None)
            if last is None or any(m["role"] != "tool" for m in stored[last + 1 :]):
                return 0
            answer = stored[last]
            missing = self.dialect.parse_calls(answer["content"])[len(stored) - last - 1 :]
            left = [r for r in rows if r["message_id"] == answer["id"]]
            for parsed in missing:
                name = parsed.call.name if parsed.call else "unknown"
                row = next((r for r in left if r["name"] == name), None)
                if row is not None:
                    left.remove(row)
                meta = {"tool": name, "ok": False, "interrupted": True, "call_id": row["id"] if row else None}
                self.store.add_message(sid, "tool", self.dialect.render_result(name, _interrupted_result(row)), meta)
            return len(missing)
        except Exception:  # noqa: BLE001 - closing what a crash left open must never stop a chat from opening
            return 0

    @property
    def dialect(self) -> Dialect:
        return get_dialect(self.config.model.dialect)

    def system_message(self) -> str:
        return system_content(self.config.generation.system_prompt, self.dialect, self.registry.tools())

    def render_prompt(self, session: ChatSession) -> str:
        """The whole prompt: system + history + an open assistant turn, trimmed to fit."""
        assert self.backend is not None
        history = [{"role": m["role"], "content": m["content"]} for m in session.messages]
        budget = self.backend.n_ctx - self.config.generation.max_tokens
        while True:
            messages = [{"role": "system", "content": self.system_message()}, *history]
            prompt = self.backend.template.render(fit_roles(messages, self.dialect), add_generation_prompt=True)
            if self.backend.count_tokens(prompt) <= budget:
                return prompt
            # The oldest exchange goes first (the store keeps everything); the newest question never does.
            shorter = drop_oldest_exchange(history)
            if shorter is None:
                return prompt
            history = shorter

    def _add(self, session: ChatSession, role: str, content: str, meta: dict | None = None,
             what: str = "a message") -> int | None:
        content = storable(content)  # the prompt is UTF-8 too: a lone surrogate would stop generation
        session.messages.append({"role": role, "content": content, "meta": meta or {}})
        if self.store:
            return self._save(what, self.store.add_message, session.id, role, content, meta)
        return None

    # --- saving: a store that fails costs the saving, never the turn ------------------------
    def _save(self, what: str, write: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one store write; on failure note an Error for the turn to yield (see
        `_store_errors`) and return None. `what` names what was not saved."""
        try:
            return write(*args, **kwargs)
        except StoreError as exc:
            message = exc.unsaved(what)
        except Exception as exc:  # a store bug must not take the turn down either
            message = f"{what} was not saved: {type(exc).__name__}: {exc}"
        if message not in self._reported:
            self._reported.add(message)
            self._unreported.append(message)
        return None

    def _store_errors(self) -> list[Error]:
        """The Errors for failed saves not yet yielded."""
        errors = [Error(message) for message in self._unreported]
        self._unreported.clear()
        return errors

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
        self._reported, self._unreported = set(), []
        stats = TurnStats()
        started = time.perf_counter()
        if self.backend is None:
            yield Error("the model is not loaded yet; wait for the status bar to show its name")
            yield TurnDone(stats)
            return
        stats.n_ctx = self.backend.n_ctx
        self._add(session, "user", user_text, what="your question")
        if session.title == "New chat" and self.store:
            session.title = (user_text.strip().splitlines() or [""])[0][:60] or "New chat"
            self._quietly(self.store.rename_session, session.id, session.title)  # the question's own Error says enough
        # A crash leaves this mark behind: loading the chat then closes what was left open.
        # Failing to set or clear it is harmless (the mark is checked against a live pid): no Error.
        self._quietly(self.store and self.store.begin_turn, session.id)
        done = False
        try:
            async for event in self._turn(session, stats, started):
                done = done or isinstance(event, TurnDone)
                yield event
        except Exception as exc:  # noqa: BLE001 - the turn still ends with an Error and TurnDone
            if not done:
                yield Error(f"the turn failed: {type(exc).__name__}: {exc}")
                stats.seconds = time.perf_counter() - started
                yield TurnDone(stats)
        finally:
            self._quietly(self.store and self.store.end_turn, session.id)

    @staticmethod
    def _quietly(write: Callable[..., Any] | None, *args: Any) -> None:
        if write:
            try:
                write(*args)
            except Exception:  # noqa: BLE001
                pass

    async def _turn(self, session: ChatSession, stats: TurnStats, started: float) -> AsyncIterator[Any]:
        for error in self._store_errors():
            yield error
        failures: dict[str, int] = {}
        final_text = ""
        rounds = 0
        message_id = None
        while True:
            generation = None
            draft = _Draft(self, session)
            async for event in self._generate(session, stats):
                if isinstance(event, Generation):
                    generation = event
                    continue
                yield event  # first on screen, then saved: saving never delays the first word
                if isinstance(event, TextDelta):
                    draft.grow(event.text)
                for error in self._store_errors():
                    yield error
            if generation is None:  # the backend failed (an Error was yielded): keep what streamed, interrupted
                draft.cut()
                for error in self._store_errors():
                    yield error
                break
            final_text = generation.visible
            if generation.text or not generation.cancelled:
                message_id = draft.finish(generation.text)
            for error in self._store_errors():
                yield error
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
                name, output, ok, call_id = outcome if outcome else ("unknown", "error: no result", False, None)
                self._add(session, "tool", self.dialect.render_result(name, output),
                          {"tool": name, "ok": ok, "call_id": call_id}, what=f"the {name} call")
                for error in self._store_errors():
                    yield error
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
        self._reported, self._unreported = set(), []
        tool = self.registry.get(call.name)
        yield ToolCallProposed(call, tool.risk if tool else "exec")
        errors = self.registry.validate(call)
        if errors:
            yield ToolCallInvalid(call, errors)
            return
        yield ToolStarted(call, Decision("once", by="user"))
        result, seconds = ToolResult("no result", ok=False), 0.0
        async for item in self._run_saving_output(session, call):
            if isinstance(item, tuple):
                result, seconds = item
            else:
                yield item
        status = "cancelled" if self._cancel.is_set() else "done" if result.ok else "failed"
        if self.store:
            self._save(f"the {call.name} call", self.store.record_call, session.id, call.id, call.name,
                       call.arguments, status, result=result.output)
            self._save(f"the {call.name} call", self.store.record_decision, session.id, call.id, "once", "user")
        yield ToolFinished(call, result, status, seconds)
        for error in self._store_errors():
            yield error

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
                loop.call_soon_threadsafe(drain)  # the text that did arrive reaches the screen and the draft
                loop.call_soon_threadsafe(queue.put_nowait, Error(str(exc)))
            except Exception as exc:
                loop.call_soon_threadsafe(drain)
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
        """Validate, approve and run one call; finally yield (name, output_for_model, ok, call_id).

        Whatever goes wrong on the way, a card that was shown gets its end (ToolFinished,
        failed, with the reason): never a card left "running".
        """
        ended = False
        try:
            async for item in self._call_steps(session, parsed, message_id):
                ended = ended or isinstance(item, (ToolFinished, ToolDenied, ToolCallInvalid))
                yield item
        except Exception as exc:  # noqa: BLE001 - a bug here must end the card, not the app
            call = parsed.call
            reason = f"{type(exc).__name__}: {exc}"
            name = call.name if call else "unknown"
            output = f"{name} failed: {reason}"
            if call is not None and not ended:
                if self.store:
                    self._save(f"the {name} call", self.store.record_call, session.id, call.id, name,
                               call.arguments, "failed", result=output)
                yield ToolFinished(call, ToolResult(output, ok=False), "failed")
            elif call is None and not ended:
                yield ToolCallInvalid(None, [reason], parsed.raw)
            yield (name, output, False, call.id if call else None)

    async def _call_steps(self, session: ChatSession, parsed, message_id) -> AsyncIterator[Any]:
        store = self.store
        if parsed.call is None:
            yield ToolCallInvalid(None, [parsed.error], parsed.raw)
            yield ("unknown", f"error: {parsed.error}. Write the call again as valid JSON.", False, None)
            return
        call = parsed.call
        # JSON lets a model write lone surrogates ("\udce9"): make what the card, the store and
        # the tool see storable text.
        call.name, call.arguments = storable(call.name), _storable_value(call.arguments)
        record = functools.partial(self._save, f"the {call.name} call")
        tool = self.registry.get(call.name)
        risk = tool.risk if tool else "exec"
        yield ToolCallProposed(call, risk)
        errors = self.registry.validate(call)
        if store:
            record(store.record_call, session.id, call.id, call.name, call.arguments,
                   "invalid" if errors else "proposed", message_id)
            for error in self._store_errors():
                yield error
        if errors:
            yield ToolCallInvalid(call, errors, parsed.raw)
            yield (call.name, "error: " + "; ".join(errors), False, call.id)
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
            record(store.record_decision, session.id, call.id, decision.kind if decision.by != "auto" else "auto",
                   decision.by, decision.reason, decision.arguments)
        if decision.kind == "cancel":
            self._cancel.set()
            if store:
                record(store.record_call, session.id, call.id, call.name, call.arguments, "cancelled")
            yield ToolDenied(call, "cancelled", decision)
            yield (call.name, "the user cancelled this call", False, call.id)
            return
        if not decision.allowed:
            reason = decision.reason or "no reason given"
            if store:
                record(store.record_call, session.id, call.id, call.name, call.arguments, "denied")
            yield ToolDenied(call, reason, decision)
            yield (call.name, f"the user denied this call ({reason}). Do not retry it; answer without it.", True,
                   call.id)
            return
        if self.approvals and decision.kind in ("session", "always"):
            self.approvals.remember(call, risk, decision, session.id)
        yield ToolStarted(call, decision)
        result, status, seconds = ToolResult("no result", ok=False), "done", 0.0
        async for item in self._run_saving_output(session, call):
            if isinstance(item, tuple):
                result, seconds = item
            else:
                yield item
        if self._cancel.is_set():
            status = "cancelled"
        elif not result.ok:
            status = "failed"
        if store:
            record(store.record_call, session.id, call.id, call.name, call.arguments, status, result=result.output)
        yield ToolFinished(call, result, status, seconds)
        for error in self._store_errors():
            yield error
        yield (call.name, result.output if status != "cancelled" else "cancelled by the user", result.ok, call.id)

    async def _run_saving_output(self, session: ChatSession, call: ToolCall) -> AsyncIterator[Any]:
        """Run the tool with the call marked running in the store and its output so far saved
        in the call's row at most every SAVE_EVERY_S, so a crash keeps nearly all of it.
        Yields the tool's events, then (result, seconds)."""
        store = self.store
        record = functools.partial(self._save, f"the {call.name} call")
        if store:
            record(store.record_call, session.id, call.id, call.name, call.arguments, "running")
        captured = ""
        saved_at = time.monotonic()  # the row exists from the start; its output is saved from a second on
        async for item in self._run_tool(session, call):
            yield item
            if store and isinstance(item, ToolOutput):
                captured = (captured + item.chunk)[-CAPTURED_OUTPUT_CHARS:]
                if time.monotonic() - saved_at >= SAVE_EVERY_S:
                    record(store.record_call, session.id, call.id, call.name, call.arguments, "running",
                           result=captured)
                    saved_at = time.monotonic()
            for error in self._store_errors():
                yield error

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
            # Tool.run turns a tool's exceptions into a failed result; this catches the rest,
            # so a result and _DONE always follow and the card always ends.
            try:
                result = tool.run(call.arguments, context) if tool else ToolResult(f"unknown tool {call.name}", ok=False)
            except BaseException as exc:  # noqa: BLE001
                result = ToolResult(f"{call.name} crashed: {type(exc).__name__}: {exc}", ok=False)
            try:
                post((result, time.perf_counter() - started))
                post(_DONE)
            except RuntimeError:  # the event loop closed: nobody is waiting any more
                pass

        threading.Thread(target=work, name=f"thau-tool-{call.name}", daemon=True).start()
        while (item := await queue.get()) is not _DONE:
            yield item


async def _await(future: asyncio.Future) -> Any:
    return await future


class _Draft:
    """The answer being written, saved in one row as it grows (at most every SAVE_EVERY_S)
    with meta {"interrupted": true} until it completes: a crash keeps nearly all of it."""

    def __init__(self, agent: Agent, session: ChatSession) -> None:
        self.agent, self.session = agent, session
        self.text = ""
        self.message_id: int | None = None
        self.saved_at = 0.0
        self.saved_text = ""

    def grow(self, text: str) -> None:
        self.text += text
        if self.agent.store is None or time.monotonic() - self.saved_at < SAVE_EVERY_S:
            return
        self.saved_at = time.monotonic()  # also after a failed save: try again a second later
        store, sid = self.agent.store, self.session.id
        if self.message_id is None:
            self.message_id = self.agent._save("the answer", store.add_message, sid, "assistant", self.text,
                                               {"interrupted": True})
        else:
            self.agent._save("the answer", store.update_message, self.message_id, self.text, {"interrupted": True})

    def cut(self) -> None:
        """The backend failed mid-answer: keep all that arrived, marked interrupted, in the
        store and in the chat's history (the next prompt then shows what the user saw)."""
        if not self.text:
            return
        meta = {"interrupted": True}
        self.session.messages.append({"role": "assistant", "content": self.text, "meta": meta})
        store, sid = self.agent.store, self.session.id
        if store is None:
            return
        if self.message_id is None:
            self.message_id = self.agent._save("the answer", store.add_message, sid, "assistant", self.text, meta)
        else:
            self.agent._save("the answer", store.update_message, self.message_id, self.text, meta)

    def finish(self, text: str) -> int | None:
        """The answer is complete: save all of it (call text included) in the same row."""
        if self.message_id is None:
            return self.agent._add(self.session, "assistant", text, what="the answer")
        self.session.messages.append({"role": "assistant", "content": text, "meta": {}})
        self.agent._save("the answer", self.agent.store.update_message, self.message_id, text, {})
        return self.message_id


def _interrupted_result(row: dict[str, Any] | None) -> str:
    """What the model reads in place of a call that a crash interrupted."""
    if row is None:
        return "interrupted: thau stopped before this call ran, so it did not run."
    if row["status"] == "proposed":
        return "interrupted: thau stopped while this call waited for approval, so it did not run."
    text = "interrupted: thau stopped while this call was running, so it did not finish."
    output = row.get("result") or ""
    if output:
        text += f"\nOutput before it stopped (the end of it):\n{output[-INTERRUPTED_OUTPUT_CHARS:]}"
    return text


def _storable_value(value: Any) -> Any:
    """A JSON value with every string in it made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k): _storable_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_value(v) for v in value]
    return value
