"""The typed events one turn yields. The UI matches on these and nothing else."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from ..tools.base import ToolCall, ToolResult

DecisionKind = Literal["once", "session", "always", "deny", "cancel"]


@dataclass
class Decision:
    """The user's answer to an approval request. `arguments` is set when they edited the call."""

    kind: DecisionKind
    reason: str | None = None
    arguments: dict[str, Any] | None = None
    by: str = "user"

    @property
    def allowed(self) -> bool:
        return self.kind in ("once", "session", "always")


@dataclass
class TurnStats:
    tokens: int = 0  # generated
    seconds: float = 0.0
    first_token_s: float | None = None
    prompt_tokens: int = 0  # the whole prompt at the last generation step
    prompt_evaluated: int = 0  # prompt tokens the model actually had to read (not cached), summed over steps
    context_used: int = 0
    n_ctx: int = 0
    tool_rounds: int = 0
    cancelled: bool = False
    decode_seconds: float = 0.0  # summed over the turn's generation steps, each after its first token
    # the not-run results (their meta) of calls the answer wrote that no card showed: Esc while
    # the model wrote them; the chat says so, as a reopened chat does (new-user review)
    calls_not_shown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed: tokens over the time the model spent writing them. Prompt reading,
        tools running and the user's time on a card are not in it (`seconds` is the whole turn)."""
        return self.tokens / self.decode_seconds if self.decode_seconds > 0 else 0.0


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolCallProposed:
    call: ToolCall
    risk: str


@dataclass
class ToolCallInvalid:
    call: ToolCall | None
    errors: list[str]
    raw: str = ""


@dataclass
class ApprovalRequested:
    """The engine waits on `future`; the card resolves it with a Decision."""

    call: ToolCall
    risk: str
    future: asyncio.Future[Decision] = field(repr=False)
    note: str = ""  # why it asks although an approval was remembered (approvals.why_asking_again)
    not_held: str = ""  # why remembering it would not hold (approvals.why_not_held): the card says so


@dataclass
class QuestionAsked:
    """ask_user: the engine waits on `future` for the user's answer (a str; a Decision when
    the turn was cancelled)."""

    call: ToolCall
    question: str
    future: asyncio.Future[str | Decision] = field(repr=False)


@dataclass
class ToolDenied:
    call: ToolCall
    reason: str
    decision: Decision | None = None


@dataclass
class ToolStarted:
    call: ToolCall
    decision: Decision | None = None


@dataclass
class ToolOutput:
    call_id: str
    chunk: str


@dataclass
class ToolProgress:
    call_id: str
    done: float
    total: float
    label: str = ""


ToolStatus = Literal["done", "failed", "cancelled"]


@dataclass
class ToolFinished:
    call: ToolCall
    result: ToolResult
    status: ToolStatus = "done"
    seconds: float = 0.0


@dataclass
class Error:
    message: str


@dataclass
class MessageRefused(Error):
    """The question was not added to the chat (`message` says why: too long even alone); the
    UI gives `text` back to the prompt. An Error, so what matches errors still shows it."""

    text: str = ""


@dataclass
class HistoryTrimmed:
    """Older messages left the model's view to make room (the store keeps them all)."""

    dropped: int  # messages out of view in this chat so far
    kept: int  # messages the model still sees


@dataclass
class TurnDone:
    stats: TurnStats
    text: str = ""


Event = (
    TextDelta
    | ToolCallProposed
    | ToolCallInvalid
    | ApprovalRequested
    | QuestionAsked
    | ToolDenied
    | ToolStarted
    | ToolOutput
    | ToolProgress
    | ToolFinished
    | Error
    | HistoryTrimmed
    | TurnDone
)
