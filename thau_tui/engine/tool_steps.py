"""One tool call's steps in a turn: validate -> approve -> run -> store, as typed events.

The call's card always gets its end (ToolFinished, ToolDenied or ToolCallInvalid), and the
call's row in the store follows it: proposed, decided, running (its output so far saved as
it grows, so a crash keeps nearly all of it), then done, failed, denied or cancelled.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Generic, TypeVar

from ..tools.base import ToolCall, ToolContext, ToolError, ToolResult
from .approvals import PROGRAM_SCOPED_TOOLS
from .bridge import Latest, LoopStream, new_thread
from .destructive import destroys_in
from .dialects import ParsedCall
from .events import (
    ApprovalRequested,
    Decision,
    Error,
    Event,
    QuestionAsked,
    ToolCallInvalid,
    ToolCallProposed,
    ToolDenied,
    ToolFinished,
    ToolOutput,
    ToolProgress,
    ToolStarted,
    ToolStatus,
)
from .native_turn import UnreadableArguments
from .recovery import INTERRUPTED_OUTPUT_CHARS
from .store import storable

if TYPE_CHECKING:  # the agent builds the steps per turn; only its types are needed here
    from .agent import Agent, ChatSession

T = TypeVar("T")

# The most of a running tool's output kept in the store while it runs (the tail); after a
# crash the model reads back the end of it (recovery.INTERRUPTED_OUTPUT_CHARS).
CAPTURED_OUTPUT_CHARS = 16_000
# After Esc, how long a running tool has to stop before the turn stops waiting for it
# (a plugin's function that never looks at ctx.cancelled): the user asked to stop. Longer
# than the shell takes to bring a stubborn command back to its prompt (Ctrl-C, EOF, kill).
CANCEL_GRACE_S = 8.0
# A tool's progress reaches the card at most this often (the newest step; bridge.Latest).
PROGRESS_EVERY_S = 0.02
# How the result of a call that could not be read ends, after "error: " and why; a reopened
# chat finds the reason between the two (ui/history.py).
UNREADABLE_ENDING = ". Write the call again as valid JSON."


@dataclass
class Outcome(Generic[T]):
    """What a helper that streams events ends with: the helper sets `value`, its caller reads
    it once the events have run out (the events go to the screen, this to the next step)."""

    value: T


@dataclass
class CallOutcome:
    """One call's end, as the model reads it back: the tool, its output, whether it worked."""

    name: str
    output: str
    ok: bool
    call_id: str | None
    how: str = "ran"  # ran as asked; "edited" (ran as the user changed it) or "denied" (did not run)


@dataclass
class ToolRun:
    """A tool's result and how long it ran."""

    result: ToolResult
    seconds: float = 0.0


class ToolSteps:
    """The tool calls of an agent's turn in one chat: each one validated, approved, run in a
    thread of its own and stored, its running output saved at most every `save_every_s`."""

    def __init__(self, agent: Agent, session: ChatSession, save_every_s: float) -> None:
        self.agent, self.session = agent, session
        self.save_every_s = save_every_s
        self.cancel_grace_s = CANCEL_GRACE_S

    def _shell_folder(self) -> str | None:
        """Where this chat's shell is now (tools/shell.py `current_folder`); None before it
        starts; "?" plus why no repository git reads there can be trusted."""
        if self.agent.config.tools.files.allow_git_writes:
            return "?tools may write .git (tools.files.allow_git_writes), so its config may be theirs"
        shell = self.session.resources.get("shell")
        where = getattr(shell, "current_folder", None)
        return where() if callable(where) else None

    async def _decide(
        self, call: ToolCall, risk: str, decided: Outcome[Decision], why_risk: str = ""
    ) -> AsyncIterator[Event]:
        """Yield ApprovalRequested when asking; the Decision goes to `decided`. `why_risk`:
        why the tool asks at a higher risk than its own here (no sandbox), for the card."""
        agent = self.agent
        if agent._cancel.is_set():  # Esc came after the call was read, before its card waited
            decided.value = Decision("cancel")
            return
        folder = self._shell_folder() if call.name in PROGRAM_SCOPED_TOOLS else None  # for git approvals only
        policy = (
            agent.approvals.decide(call, risk, self.session.id, agent.workspace, folder)
            if agent.approvals
            else ("auto" if risk == "read" else "ask")
        )
        if policy == "auto":
            unasked = agent.approvals.allowed_by(call, risk) if agent.approvals else None
            decided.value = Decision("once", reason=unasked, by="auto")
            return
        if policy == "deny":
            # where to change it, said (UX review: "the configuration" named no setting)
            # "*" named as the tool's own entry, which the file did not have (docs review)
            own = agent.approvals is None or call.name in agent.approvals.policy
            entry = call.name if own else '"*"'
            why = f"the configuration denies this tool (tools.policy: {entry}: deny in config.yaml)"
            decided.value = Decision("deny", reason=why, by="config")
            return
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        agent._pending.add(future)
        if agent._cancel.is_set():  # agent.cancel() resolves the futures it finds: this one was not there yet
            future.set_result(Decision("cancel"))
        try:
            note = (
                agent.approvals.why_asking_again(call, self.session.id, agent.workspace, folder)
                if agent.approvals
                else None
            )
            not_held = (
                agent.approvals.why_not_held(call, self.session.id, agent.workspace, folder)
                if agent.approvals
                else None
            )
            # a remembered approval's own "asks again" says why already; the keys line needs the flag
            warn = destroys_in(str(call.arguments.get("command", ""))) if call.name == "run_shell" else None
            note = "; ".join(filter(None, (warn and f"⚠ {warn}", why_risk, note or not_held)))
            yield ApprovalRequested(call, risk, future, note=note, not_held=not_held or "")
            try:
                decision = await asyncio.wait_for(future, agent.config.tools.approval_timeout)
            except asyncio.TimeoutError:
                decision = Decision("deny", reason="no answer before the approval timeout", by="timeout")
            if not_held and decision.kind in ("session", "always"):  # the card said it allows it once
                decision = Decision("once", decision.reason, decision.arguments, decision.by)
        finally:
            agent._pending.discard(future)
        decided.value = decision

    async def handle_call(
        self, parsed: ParsedCall, message_id: int | None, ended: Outcome[CallOutcome]
    ) -> AsyncIterator[Event]:
        """Validate, approve and run one call; how it ended (for the model) goes to `ended`.

        Whatever goes wrong on the way, a card that was shown gets its end (ToolFinished,
        failed, with the reason): never a card left "running".
        """
        agent = self.agent
        card_ended = False
        try:
            async for event in self._call_steps(parsed, message_id, ended):
                card_ended = card_ended or isinstance(event, (ToolFinished, ToolDenied, ToolCallInvalid))
                yield event
        except Exception as exc:  # noqa: BLE001 - a bug here must end the card, not the app
            call = parsed.call
            reason = f"{type(exc).__name__}: {exc}"
            name = call.name if call else "unknown"
            output = f"{name} failed: {reason}"
            if call is not None and not card_ended:
                if agent.store:
                    agent._save(
                        f"the {name} call",
                        agent.store.record_call,
                        self.session.id,
                        call.id,
                        name,
                        call.arguments,
                        "failed",
                        result=output,
                    )
                yield ToolFinished(call, ToolResult(output, ok=False), "failed")
            elif call is None and not card_ended:
                yield ToolCallInvalid(None, [reason], parsed.raw)
            ended.value = CallOutcome(name, output, False, call.id if call else None)

    async def _call_steps(
        self, parsed: ParsedCall, message_id: int | None, ended: Outcome[CallOutcome]
    ) -> AsyncIterator[Event]:
        agent, session = self.agent, self.session
        store = agent.store
        unreadable = isinstance(parsed, UnreadableArguments)
        if isinstance(parsed, UnreadableArguments):
            # A named tool whose arguments could not be read: its card, under the tool's name with
            # the text as sent, ends invalid and never runs (native calls review).
            call = ToolCall(parsed.tool, {"arguments": parsed.arguments}, id=parsed.call_id, raw=parsed.raw)
        elif parsed.call is None:
            why = parsed.error or "the call could not be read"
            yield ToolCallInvalid(None, [why], parsed.raw)
            ended.value = CallOutcome("unknown", f"error: {why}{UNREADABLE_ENDING}", False, None)
            return
        else:
            call = parsed.call
        # JSON lets a model write lone surrogates ("\udce9"): make what the card, the store and
        # the tool see storable text.
        call.name, call.arguments = storable(call.name), _storable_value(call.arguments)
        record = functools.partial(agent._save, f"the {call.name} call")
        tool = agent.registry.get(call.name)
        risk, why_risk = tool.risk_here(agent.config) if tool else ("exec", "")
        yield ToolCallProposed(call, risk)
        errors = [parsed.error or "its arguments could not be read"] if unreadable else agent.registry.validate(call)
        if store:
            record(
                store.record_call,
                session.id,
                call.id,
                call.name,
                call.arguments,
                "invalid" if errors else "proposed",
                message_id,
                result="\n".join(errors) if errors else None,  # the reopened card shows them (native calls review)
            )
            for error in agent._store_errors():
                yield error
        if errors:
            yield ToolCallInvalid(call, errors, parsed.raw)
            said = f"error: {errors[0]}{UNREADABLE_ENDING}" if unreadable else "error: " + "; ".join(errors)
            ended.value = CallOutcome(call.name, said, False, call.id)
            return
        decided = Outcome(Decision("deny", reason="no decision was made", by="thau"))
        async for event in self._decide(call, risk, decided, why_risk):
            yield event
        decision = decided.value
        if agent._cancel.is_set() and decision.allowed:  # Esc while it was being decided: it does not start
            decision = Decision("cancel")
        if (arguments := decision.arguments) is not None:
            errors = agent.registry.validate(ToolCall(call.name, arguments, id=call.id))
            if errors:
                decision = Decision("deny", reason="edited arguments invalid: " + "; ".join(errors), by="thau")
            else:
                call.arguments = arguments
        if store:
            record(
                store.record_decision,
                session.id,
                call.id,
                decision.kind if decision.by != "auto" else "auto",
                decision.by,
                decision.reason,
                decision.arguments,
            )
        if decision.kind == "cancel":
            agent._cancel.set()
            if store:
                record(store.record_call, session.id, call.id, call.name, call.arguments, "cancelled")
            yield ToolDenied(call, "cancelled", decision)
            ended.value = CallOutcome(call.name, "the user cancelled this call", False, call.id)
            return
        if not decision.allowed:
            reason = decision.reason or "no reason given"
            if store:
                record(store.record_call, session.id, call.id, call.name, call.arguments, "denied")
            yield ToolDenied(call, reason, decision)
            # "the user denied" only when a person did: a refusal by the config or thau itself
            # read as the user's in the model's history and the export (keyboard review)
            who = "the user denied this call" if decision.by == "user" else "this call was not run"
            ended.value = CallOutcome(
                call.name, f"{who} ({reason}). Do not retry it; answer without it.", True, call.id, "denied"
            )
            return
        if agent.approvals and decision.kind in ("session", "always"):
            try:
                agent.approvals.remember(call, risk, decision, session.id, agent.workspace)
            except OSError as exc:  # a full disk or a blocked folder: the call the user allowed still runs
                yield Error(f"the approval could not be saved ({exc}); it holds until thau quits")
        yield ToolStarted(call, decision)
        ran = Outcome(ToolRun(ToolResult("no result", ok=False)))
        async for event in self.run_saving_output(call, ran):
            yield event
        result, seconds = ran.value.result, ran.value.seconds
        if agent.approvals:
            data = result.data if isinstance(result.data, dict) else {}
            agent.approvals.shell_ran(
                call, session.id, fresh=bool(data.get("fresh_shell")), exited=bool(data.get("shell_exited"))
            )
        status: ToolStatus = "done"
        if agent._cancel.is_set():
            status = "cancelled"
        elif not result.ok:
            status = "failed"
        if store:
            record(store.record_call, session.id, call.id, call.name, call.arguments, status, result=result.output)
        yield ToolFinished(call, result, status, seconds)
        for error in agent._store_errors():
            yield error
        output = result.output
        if status == "cancelled":  # what it printed before Esc, as after a crash (recovery.py)
            tail = result.output[-INTERRUPTED_OUTPUT_CHARS:].strip()
            output = "cancelled by the user" + (f"\nOutput before it stopped (the end of it):\n{tail}" if tail else "")
        if decision.arguments is not None:  # the model's own call in the history still says what it asked
            ran_as = json.dumps(call.arguments, ensure_ascii=False)
            ran_as = ran_as if len(ran_as) <= 1000 else ran_as[:1000] + " …"  # a file's content is not said twice
            output = f"(the user edited this call before it ran; it ran as {ran_as})\n{output}"
        how = "edited" if decision.arguments is not None else "ran"
        ended.value = CallOutcome(call.name, output, result.ok, call.id, how)

    async def run_saving_output(self, call: ToolCall, ran: Outcome[ToolRun]) -> AsyncIterator[Event]:
        """Run the tool with the call marked running in the store and its output so far saved
        in the call's row at most every `save_every_s`, so a crash keeps nearly all of it.
        Yields the tool's events; its result goes to `ran`."""
        agent, session = self.agent, self.session
        store = agent.store
        record = functools.partial(agent._save, f"the {call.name} call")
        if store:
            record(store.record_call, session.id, call.id, call.name, call.arguments, "running")
        captured, unsaved, saved_at = "", False, -math.inf
        later: asyncio.TimerHandle | None = None

        def save() -> None:
            nonlocal unsaved, saved_at, later
            later = None
            if store and unsaved:
                record(store.record_call, session.id, call.id, call.name, call.arguments, "running", result=captured)
                unsaved, saved_at = False, time.monotonic()

        try:
            async for event in self._run_tool(call, ran):
                yield event
                if store and isinstance(event, ToolOutput):
                    captured, unsaved = (captured + event.chunk)[-CAPTURED_OUTPUT_CHARS:], True
                    # The first output at once, then at most every save_every_s, and what came
                    # before a silence too: a command that printed early and then hung lost it
                    # all to a kill -9, as only the next chunk saved (reliability review).
                    wait = self.save_every_s - (time.monotonic() - saved_at)
                    if wait <= 0:
                        save()
                    elif later is None:
                        later = asyncio.get_running_loop().call_later(wait, save)
                for error in agent._store_errors():
                    yield error
        finally:
            if later is not None:
                later.cancel()

    async def _run_tool(self, call: ToolCall, ran: Outcome[ToolRun]) -> AsyncIterator[Event]:
        """Run the tool in a thread of its own, yielding its output, progress and questions."""
        agent, session = self.agent, self.session
        stream: LoopStream[ToolOutput | ToolProgress | QuestionAsked, ToolRun] = LoopStream()
        progress: Latest[ToolOutput | ToolProgress | QuestionAsked, ToolRun] = Latest(stream, PROGRESS_EVERY_S)

        def ask(question: str) -> str | None:
            """ask_user from the tool thread: hand a future to the UI and wait for it."""

            async def asked() -> str | Decision:
                future: asyncio.Future[str | Decision] = asyncio.get_running_loop().create_future()
                agent._pending.add(future)
                try:
                    stream.put(QuestionAsked(call, question, future))
                    return await future
                finally:
                    agent._pending.discard(future)

            answer = stream.wait_for(asked)
            if isinstance(answer, Decision) and answer.kind == "deny" and answer.reason:
                raise ToolError(answer.reason)  # nobody there to answer (thau -m without a terminal)
            return None if isinstance(answer, Decision) else answer

        resources = session.resources
        resources["ask"] = ask
        context = ToolContext(
            workspace=agent.workspace,
            config=agent.config,
            session_id=session.id,
            cancel_event=agent._cancel,
            on_output=lambda chunk: stream.post(ToolOutput(call.id, chunk)),
            on_progress=lambda done, total, label: progress.add(ToolProgress(call.id, done, total, label)),
            resources=resources,
        )
        tool = agent.registry.get(call.name)
        started = time.perf_counter()

        def work() -> ToolRun:
            # Tool.run turns a tool's exceptions into a failed result; this catches the rest,
            # so a result always follows and the card always ends.
            try:
                result = (
                    tool.run(call.arguments, context) if tool else ToolResult(f"unknown tool {call.name}", ok=False)
                )
            except BaseException as exc:  # noqa: BLE001
                result = ToolResult(f"{call.name} crashed: {type(exc).__name__}: {exc}", ok=False)
            progress.flush()  # the last step shown reaches the card before it finishes
            return ToolRun(result, time.perf_counter() - started)

        async def give_up() -> None:
            while not agent._cancel.is_set():
                await asyncio.sleep(0.05)
            await asyncio.sleep(self.cancel_grace_s)
            left = ToolResult(
                f"{call.name} did not stop within {self.cancel_grace_s:g} s of the cancel; thau stopped waiting "
                "for it (its thread may still be running in the background until it returns)",
                ok=False,
            )
            stream.finish(ToolRun(left, time.perf_counter() - started))

        watcher = asyncio.create_task(give_up())
        try:
            async for event in stream.run(work, new_thread(f"thau-tool-{call.name}")):
                yield event
        finally:
            watcher.cancel()
        ran.value = stream.result()


def _storable_value(value: Any) -> Any:
    """A JSON value with every string in it made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k): _storable_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_value(v) for v in value]
    return value
