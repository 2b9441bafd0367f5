"""One turn: stream -> find call -> validate -> approve -> run -> feed back -> continue.

`Agent.run_turn` is an async generator of typed events (engine/events.py). Model
generation and tools run in worker threads; the generator only moves events
and awaits the user's decisions, so the UI's event loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, AsyncIterator, Callable, TypeVar, cast

from ..config import Config
from ..tools.base import ToolCall
from ..tools.registry import ToolRegistry
from .approvals import ApprovalBook
from .backend import MODEL_THREAD, Backend, ContextFull, ModelLoadError
from .bridge import LoopStream, TextBatches
from .dialects import Dialect, get_dialect
from .draft import Draft
from .events import (
    Decision,
    Error,
    Event,
    HistoryTrimmed,
    MessageRefused,
    TextDelta,
    TurnDone,
    TurnStats,
)
from .generate import Generation, generate_reply
from .native_turn import NativeBackend, NativeGeneration, fit_chat, generate_native, tool_schemas
from .native_turn import defuse as defuse_native
from .prompt import (
    context_full,
    drop_oldest_exchanges,
    fit_roles,
    history_text,
    read_ahead,
    refused_as_too_long,
    shorten_every_result,
    shorten_results,
    system_content,
)
from .recovery import call_key, close_interrupted, not_run_results, repeated_calls
from .saving import Saving
from .session import NEW_CHAT, title_from
from .session import ChatSession as ChatSession  # re-exported: the UI and tests take it from here
from .store import Store, storable
from .tool_steps import CallOutcome, Outcome, ToolSteps
from .user_call import run_user_call

T = TypeVar("T")

# How often the answer being written, and a running tool's output, are saved while they
# grow: a crash loses at most this much of them.
SAVE_EVERY_S = 1.0


# When a chat outgrows the context, drop old exchanges down to this share of the room at
# once: the cut then stays put for the next turns and the cache keeps serving the prefix.
TRIM_TO = 0.6


# Why a call was not run when the user stopped the turn (Esc) before it ran.
STOPPED = "the user stopped the turn before this call ran"
ANSWERING_ELSEWHERE = (
    "another thau window started answering in this chat a moment ago: open it again (Ctrl+B) to see "
    "its answer and go on, or start a new chat (Ctrl+N)."
)


class Agent:
    """Runs turns for chat sessions against one backend, one registry, one approval book."""

    def __init__(
        self,
        config: Config,
        registry: ToolRegistry,
        *,
        approvals: ApprovalBook | None = None,
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
        self._pending: set[asyncio.Future[Decision] | asyncio.Future[str | Decision]] = set()
        self.saving = Saving()  # failed saves: told once a turn, messages kept in order until saved

    # --- sessions ----------------------------------------------------------------
    def new_session(self, title: str = NEW_CHAT) -> ChatSession:
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
        # the view as the last turn left it: reopened, the chat was trimmed from its start again,
        # so the model saw fewer exchanges than before the restart (read-through review)
        start, budget = self.store.view_start(sid)
        return ChatSession(sid, info.title, messages, view_start=min(start, len(messages)), view_budget=budget)

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
            return close_interrupted(self.store, self.dialect, sid)
        except Exception:  # noqa: BLE001 - closing what a crash left open must never stop a chat from opening
            return 0

    @property
    def dialect(self) -> Dialect:
        template = getattr(self.backend, "template", None)
        return get_dialect(self.config.model.dialect, getattr(template, "control_tokens", None))

    @property
    def native(self) -> bool:
        """Whether the backend carries tool calls in the server's own `tools` field (the
        tools are then not in the system message: the server's template shows them)."""
        return getattr(self.backend, "native_tools", False) is True

    def system_message(self) -> str:
        if self.native:
            return self.config.generation.system_prompt
        return system_content(self.config.generation.system_prompt, self.dialect, self.registry.tools())

    def _system_tokens(self) -> int | None:
        """Tokens of thau's instructions and the tools' descriptions (on the native path the
        schemas the server is sent: left out, 300 MCP tools' worth was blamed on the user's
        message, servers review); None when they cannot be counted now (a server gone)."""
        if self.backend is None:
            return None
        try:
            count = self.backend.count_tokens(self.system_message())
            if self.native and (schemas := tool_schemas(self.registry.tools())):
                count += self.backend.count_tokens(json.dumps(schemas, ensure_ascii=False))
            return count
        except Exception:  # noqa: BLE001 - the advice goes without the count
            return None

    def warm_up(self) -> Future[int] | None:
        """Read the system prompt (instructions and tool block) into the model's cache before
        the user types, so Enter only costs the question's own words. Call it when a model
        is loaded and when the tools or the config change; None when the backend cannot.
        Never blocks: the template renders on a thread (prompt.read_ahead)."""
        prefill = getattr(self.backend, "prefill", None)
        if self.backend is None or prefill is None:
            return None
        return read_ahead(self.backend.template, self.system_message(), self.dialect, prefill)

    def render_prompt(self, session: ChatSession) -> str:
        """The whole prompt: system + history + an open assistant turn, trimmed to fit.

        Trimming keeps the KV cache useful: the model's view starts at `session.view_start`
        and only moves when the prompt no longer fits, and then by whole exchanges down to
        `TRIM_TO` of the room, so the next turns fit again with the same start (the same
        prefix, read from the cache) instead of re-reading the whole prompt every turn.
        """
        assert self.backend is not None
        backend, messages = self.backend, session.messages
        budget = backend.n_ctx - self.config.generation.max_tokens
        start = min(session.view_for(budget), len(messages))
        dialect = self.dialect  # one for the whole render (it carries the model's control tokens)
        history = [{"role": m["role"], "content": history_text(m, dialect)} for m in messages[start:]]

        def render(history: list[dict[str, Any]]) -> tuple[str, int]:
            full = [{"role": "system", "content": self.system_message()}, *history]
            prompt = backend.template.render(fit_roles(full, dialect), add_generation_prompt=True)
            return prompt, backend.count_tokens(prompt)

        # A result over half the room is cut to under half first: the oldest exchanges made way for it, the
        # whole conversation went, then it was cut anyway (read-through review). Always, not only
        # when the prompt is too long, so the result reads the same every turn (long-chat review)
        history = shorten_every_result(history, backend.count_tokens, budget // 2)
        prompt, size = render(history)
        if size <= budget:
            return prompt
        # The oldest exchanges go next (the store keeps everything); the newest question never does.
        history, prompt, size = drop_oldest_exchanges(history, render, int(budget * TRIM_TO))
        session.view_start = len(messages) - len(history)
        # the newest exchange alone is too long: its results give way
        return shorten_results(history, render, budget)[1]

    def render_chat(self, session: ChatSession) -> tuple[list[dict[str, Any]], int]:
        """The native path's request: the chat as messages (trimmed to fit, as render_prompt
        trims) and about how many tokens the server will read."""
        backend = cast(NativeBackend, self.backend)  # self.native: an OpenAiBackend with chat_stream
        budget = backend.n_ctx - self.config.generation.max_tokens
        tools = tool_schemas(self.registry.tools())
        chat, session.view_start, size = fit_chat(
            backend, self.system_message(), session.messages, session.view_for(budget), budget, tools, TRIM_TO
        )
        return chat, size

    def _add(
        self, session: ChatSession, role: str, content: str, meta: dict[str, Any] | None = None, what: str = "a message"
    ) -> int | None:
        content = storable(content)  # the prompt is UTF-8 too: a lone surrogate would stop generation
        message = {"role": role, "content": content, "meta": meta or {}}
        session.messages.append(message)
        if self.store:
            return self.saving.add(self.store, session.id, message, what)
        return None

    # --- saving: a store that fails costs the saving, never the turn (saving.py) -------------
    def _save(self, what: str, write: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        return self.saving.save(what, write, *args, **kwargs)

    def _store_errors(self) -> list[Error]:
        return self.saving.errors()

    # --- cancelling ----------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running turn: generation stops, a running tool is interrupted,
        a pending approval counts as cancelled."""
        self._cancel.set()
        for future in list(self._pending):
            if not future.done():
                future.set_result(Decision("cancel"))

    # --- the turn ----------------------------------------------------------------
    async def run_turn(self, session: ChatSession, user_text: str) -> AsyncIterator[Event]:
        """Answer `user_text` in `session`, yielding events until TurnDone."""
        self._cancel = threading.Event()
        if (watch := getattr(self.backend, "watch_cancel", None)) is not None:
            watch(self._cancel)  # a server's token count ends on Esc too, not at model.timeout (servers review)
        self.saving.new_turn()
        stats = TurnStats()
        started = time.perf_counter()
        if self.backend is None:
            yield Error("the model is not loaded yet; wait for the status bar to show its name")
            yield TurnDone(stats)
            return
        stats.n_ctx = self.backend.n_ctx
        max_tokens, system = self.config.generation.max_tokens, self.system_message()
        refused = await asyncio.to_thread(
            lambda: refused_as_too_long(
                self.backend, system, self.dialect, user_text, max_tokens, self._system_tokens()
            )
        )
        if refused is not None:
            yield MessageRefused(refused, text=user_text)
            yield TurnDone(stats)
            return
        # A crash leaves this mark behind: loading the chat then closes what was left open.
        # Failing to set or clear it is harmless (the mark is checked against a live pid): no Error.
        if self._quietly(self.store.claim_turn if self.store else None, session.id) is False:
            yield MessageRefused(ANSWERING_ELSEWHERE, text=user_text)  # the same instant in another window
            yield TurnDone(stats)
            return
        self._add(session, "user", user_text, what="your question")
        if session.title == NEW_CHAT and self.store:
            session.title = title_from(user_text)
            self.saving.rename(self.store, session.id, session.title)  # tried again with the unsaved question
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
            self._quietly(
                self.store.end_turn if self.store else None, session.id, session.view_start, session.view_budget
            )

    @staticmethod
    def _quietly(write: Callable[..., Any] | None, *args: Any) -> Any:
        if write:
            try:
                return write(*args)
            except Exception:  # noqa: BLE001
                pass
        return None

    async def _turn(self, session: ChatSession, stats: TurnStats, started: float) -> AsyncIterator[Event]:
        for error in self._store_errors():
            yield error
        failures: dict[str, int] = {}
        final_text = ""
        rounds = 0
        message_id = None
        ran_last: list[str] | None = None  # the last round's calls, when each one ran as asked or was denied
        denied: list[bool] = []  # whether the user denied each of those, by its place
        steps = ToolSteps(self, session, SAVE_EVERY_S)
        why = STOPPED  # why a call the answer made was not run, if the turn ends before it runs
        shown = ""  # that, said to the user in a reopened chat, when the model's words will not do
        reasons: list[tuple[str, str]] | None = None  # (why, shown) for each call, when they differ
        unseen = False  # the turn ended before the last answer's calls were shown
        while True:
            generated: Outcome[Generation | None] = Outcome(None)
            draft = Draft(self, session, SAVE_EVERY_S)
            async for event in self._generate(session, stats, generated):
                yield event  # first on screen, then saved: saving never delays the first word
                if isinstance(event, TextDelta):
                    draft.grow(event.text)
            # A save that failed while the answer streamed is told after it: told at once, its
            # note cut the answer in two on the screen ("Hello" / note / "! What can I do"): crash review
            generation = generated.value
            if generation is None:  # the backend failed (an Error was yielded): keep what streamed, interrupted
                draft.cut()
                why = "the answer was cut off by an error before this call ran"
                for error in self._store_errors():
                    yield error
                break
            final_text = generation.visible
            wire = generation.wire if isinstance(generation, NativeGeneration) else []
            calls_meta = {"tool_calls": wire} if wire else None
            if generation.text or wire or not generation.cancelled:
                message_id = draft.finish(generation.text, calls_meta, stopped=generation.cancelled)
            for error in self._store_errors():
                yield error
            if generation.cancelled or self._cancel.is_set():
                stats.cancelled = True
                unseen = True  # stopped before its calls were proposed: none has a card
                break
            if not generation.calls:
                break
            asked = [call_key(parsed) for parsed in generation.calls]
            if asked == ran_last:
                # A small model's loop: the same call again after its result (seen: `cd /tmp`
                # six times in a row). Running it again only asks the user again; each call
                # gets a result that says so (below), so the chat's history stays well formed.
                reasons, said = repeated_calls(denied)
                yield Error(said)
                break
            if rounds >= self.config.generation.max_tool_rounds:
                why = f"the turn stopped after {rounds} tool rounds (generation.max_tool_rounds in config.yaml)"
                yield Error(
                    f"stopped after {rounds} tool rounds (generation.max_tool_rounds in config.yaml); ask again"
                )
                break
            rounds += 1
            stats.tool_rounds = rounds
            repeated = False
            denied = []
            for index, parsed in enumerate(generation.calls):
                ended = Outcome(CallOutcome("unknown", "error: no result", False, None))
                async for event in steps.handle_call(parsed, message_id, ended):
                    yield event
                name, ok = ended.value.name, ended.value.ok
                meta: dict[str, Any] = {"tool": name, "ok": ok, "call_id": ended.value.call_id}
                if wire:  # the native path: the result answers the call by the id the server was told
                    meta["tool_call_id"] = wire[index]["id"]
                    content = defuse_native(ended.value.output)
                else:
                    content = self.dialect.render_result(name, ended.value.output)
                meta["dialect"] = self.dialect.name  # which wrapper it has (see prompt.history_text)
                self._add(session, "tool", content, meta, what=f"the {name} call")
                for error in self._store_errors():
                    yield error
                if not ok:
                    key = call_key(parsed)
                    failures[key] = failures.get(key, 0) + 1
                    repeated = repeated or failures[key] >= 3
                    asked = []  # a failed call may be asked for again (up to three times, below)
                elif ended.value.how == "edited":
                    asked = []  # what ran is not what the model asked: asking for it again asks the user
                denied.append(ended.value.how == "denied")
                if self._cancel.is_set():
                    break
            if self._cancel.is_set():
                stats.cancelled = True
                break
            if repeated:
                yield Error("the model keeps repeating the same failing tool call; stopping this turn")
                break
            ran_last = asked or None
        # Every call of the answer gets a result, as a reopened chat's would (recovery.py): a call
        # left without one was answered on reopening by "thau stopped while it waited for your
        # approval", and the model's next prompt differed live and reopened (read-through review)
        closed = self._close_unanswered(session, why, shown, reasons)
        stats.calls_not_shown = closed if unseen else []
        for error in self._store_errors():
            yield error
        stats.seconds = time.perf_counter() - started
        yield TurnDone(stats, final_text)

    def _close_unanswered(
        self, session: ChatSession, why: str, shown: str, reasons: list[tuple[str, str]] | None
    ) -> list[dict[str, Any]]:
        closed = not_run_results(session.messages, self.dialect, why, shown, reasons)
        for content, meta in closed:
            self._add(session, "tool", content, meta, what=f"the {meta['tool']} call")
        return [meta for _content, meta in closed]

    def run_user_call(self, session: ChatSession, call: ToolCall) -> AsyncIterator[Event]:
        """Run a call the user asked for directly (e.g. re-run an image): no model, no
        approval round, the same events and storage as a model's call (user_call.py)."""
        return run_user_call(self, session, call, SAVE_EVERY_S)

    async def _generate(
        self, session: ChatSession, stats: TurnStats, generated: Outcome[Generation | None]
    ) -> AsyncIterator[Event]:
        """Run one generation on the model thread, yielding TextDelta as text arrives; the
        Generation goes to `generated` (left None when the backend failed: an Error says why)."""
        backend = self.backend
        assert backend is not None  # run_turn stops before a turn without one
        before = session.view_start
        prompt: str | tuple[list[dict[str, Any]], int]
        try:  # in a thread: a GGUF's template may take seconds (template_bounds.py), the screen must not
            prompt = await asyncio.to_thread(self.render_chat if self.native else self.render_prompt, session)
        except Exception as exc:
            yield Error(f"could not render the prompt: {exc}")
            return
        if session.view_start > before:
            yield HistoryTrimmed(session.view_start, len(session.messages) - session.view_start)
        tools = self.registry.tools()
        stream: LoopStream[TextDelta, Generation] = LoopStream()
        text = TextBatches(stream, TextDelta, self.text_batch_s)

        def work() -> Generation:
            try:
                if isinstance(prompt, tuple):
                    chat, size = prompt
                    return generate_native(
                        cast(NativeBackend, backend), chat, tools, self.config.generation, size, self._cancel, text.add
                    )
                return generate_reply(
                    backend, prompt, self.dialect, tools, self.config.generation, self._cancel, on_text=text.add
                )
            finally:
                text.flush()  # the text that did arrive reaches the screen and the draft, before the end

        # The thread llama.cpp runs on anyway: no hand-over per token.
        async for delta in stream.run(work, MODEL_THREAD.submit):
            yield delta
        try:
            generation = stream.result()
        except ModelLoadError as exc:  # ContextFull's advice depends on what is left of the chat
            # Counted only then: a server that broke mid-answer was asked again here, and its
            # "no server" ended the turn before the partial answer was saved (servers review).
            system = self._system_tokens() if isinstance(exc, ContextFull) else None
            yield Error(context_full(exc, session.messages, session.view_start, system))
            return
        except Exception as exc:
            yield Error(f"generation failed: {type(exc).__name__}: {exc}")
            return
        stats.tokens += generation.tokens
        stats.prompt_evaluated += generation.evaluated
        stats.prompt_tokens = generation.prompt_tokens
        stats.context_used = generation.prompt_tokens + generation.tokens
        stats.first_token_s = generation.first_token_s if stats.first_token_s is None else stats.first_token_s
        stats.decode_seconds += max(0.0, generation.seconds - (generation.first_token_s or 0.0))
        generated.value = generation
