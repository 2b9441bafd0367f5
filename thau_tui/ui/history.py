"""A saved chat drawn again: its messages, and each tool call as the card it ended as.

A call is drawn from its result message (every call gets one: run, denied, cancelled,
invalid, or closed as interrupted after a crash), which names the call's id; the store's
rows give its arguments, its status, its output and the user's decision (a denial's
reason, edited arguments). Before, a reopened chat showed `called run_shell {...}` for
every call, so a denied command looked as if it had run.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.widget import Widget

from ..engine.dialects import Dialect
from ..tools.base import ToolCall, ToolResult
from .widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage
from .widgets.tool_card import ToolCard

# Messages mounted together when a chat is opened (one layout for each batch).
HISTORY_BATCH = 200


def interrupted_call_note(meta: dict, row: dict | None) -> str:
    """What a resumed chat shows for a call that thau stopped while it waited or ran."""
    name = meta.get("tool") or (row or {}).get("name") or "a tool"
    output = ((row or {}).get("result") or "").strip()
    tail = "\n".join(output.splitlines()[-8:])
    return f"{name}: interrupted, it did not finish" + (f"; output so far:\n{tail}" if tail else "")


def _arguments(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"arguments": value}
    return value if isinstance(value, dict) else {}


async def draw_call(chat: ChatView, meta: dict, row: dict | None, decision: dict | None, risk_of: Callable[[str], str]):
    """One finished call's card, as it ended."""
    if row is None:  # a call the model wrote that could not be read: no id, no row
        card = ToolCard(ToolCall("(unreadable call)", {}), "exec")
        await chat.mount(card)
        card.mark_invalid(["the model's call could not be read"])
        return card
    arguments = _arguments((decision or {}).get("arguments") or row.get("arguments"))
    name = str(row.get("name") or meta.get("tool") or "unknown")
    card = ToolCard(ToolCall(name, arguments, id=str(row.get("id"))), risk_of(name))
    await chat.mount(card)
    if (decision or {}).get("arguments"):
        card.show_edited(arguments)
    status, output = row.get("status"), row.get("result") or ""
    if status == "denied":
        card.mark_denied((decision or {}).get("reason"))
    elif status == "cancelled" and not output:
        card.state = "cancelled"
    elif status == "invalid":
        card.mark_invalid(["its arguments did not match the tool's schema"])
    elif status in ("done", "failed", "cancelled"):
        if (decision or {}).get("kind") == "auto" and (decision or {}).get("reason"):
            card.set_running(str(decision["reason"]))  # "ran unasked: allowed for this chat", as it ran
        card.finish(ToolResult(output, ok=status == "done"), status)
    else:  # proposed or running when the chat was saved, and no result after
        card.state = "cancelled"
    return card


async def draw_history(
    chat: ChatView,
    messages: list[dict[str, Any]],
    dialect: Dialect,
    calls: dict[str, dict],
    decisions: dict[str, dict],
    risk_of: Callable[[str], str],
) -> None:
    """Mount a saved chat's messages into `chat`: messages gathered and mounted together, a
    layout per batch, not per message (1,000 exchanges took 31 s: reliability review); a
    card is mounted on its own, as it needs its parts to show how it ended."""
    pending: list[Widget] = []

    async def flush() -> None:
        if pending:
            await chat.mount(*pending)
            pending.clear()

    for message in messages:
        meta = message.get("meta") or {}
        if message["role"] == "user":
            pending.append(UserMessage(message["content"]))
        elif message["role"] == "assistant":
            visible = dialect.text_before_call(message["content"]).strip()
            if visible:
                pending.append(AssistantMessage(visible))
            if meta.get("interrupted"):
                pending.append(NoteMessage("interrupted: thau stopped before this answer finished", "warning"))
            elif meta.get("stopped"):  # as the turn showed it when Esc stopped it
                pending.append(NoteMessage("stopped", "warning"))
        elif message["role"] == "tool":
            call_id = str(meta.get("call_id") or "")
            row = calls.get(call_id)
            if meta.get("interrupted"):
                pending.append(NoteMessage(interrupted_call_note(meta, row), "warning"))
            else:
                await flush()
                await draw_call(chat, meta, row, decisions.get(call_id), risk_of)
        if len(pending) >= HISTORY_BATCH:
            await flush()
    await flush()
