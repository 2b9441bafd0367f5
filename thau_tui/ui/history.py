"""A saved chat drawn again: its messages, and each tool call as the card it ended as.

A call is drawn from its result message (every call gets one: run, denied, cancelled,
invalid, or closed as interrupted after a crash), which names the call's id; the store's
rows give its arguments, its status, its output and the user's decision (a denial's
reason, edited arguments). Before, a reopened chat showed `called run_shell {...}` for
every call, so a denied command looked as if it had run.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Awaitable, Callable

from textual.widget import Widget
from textual.widgets import Static

from ..engine.chat_export import NO_ANSWER, gave_no_answer
from ..engine.dialects import Dialect
from ..engine.store import StoreError
from ..engine.tool_steps import UNREADABLE_ENDING
from ..tools.base import ToolCall, ToolResult
from .out_of_view import OutOfViewLine, mark_view_start
from .widgets.chat import AssistantMessage, ChatView, NoteMessage, UserMessage
from .widgets.tool_card import ToolCard

log = logging.getLogger(__name__)

# Messages mounted together when a chat is opened (one layout for each batch).
HISTORY_BATCH = 200
# A long chat opens at its latest messages, and the earlier ones are drawn a batch at a time
# as the user scrolls up to them: drawing all of a 1,000-exchange chat took 19 s (long use).
SHOWN_AT_OPEN = 120
UNANSWERED = "not answered: the answer never began (thau quit, Esc, or an error first)"
EARLIER_BATCH = 120
# A live chat drawn past this many messages folds its oldest into the earlier line.
FOLD_AT = 2 * SHOWN_AT_OPEN


def interrupted_call_note(meta: dict, row: dict | None) -> str:
    """What a resumed chat shows for a call that thau stopped while it waited or ran: which
    of the two (a call that waited was shown as "did not finish", though the model was told it
    never ran: crash review), with its arguments, so the user sees what was cut short."""
    name = meta.get("tool") or (row or {}).get("name") or "a tool"
    arguments = _arguments((row or {}).get("arguments") or meta.get("arguments"))
    shown = ", ".join(f"{key}: {value}" for key, value in arguments.items())
    name += f" ({shown[:117] + '...' if len(shown) > 120 else shown})" if shown else ""
    if meta.get("not_run"):  # a live turn ended before it ran (Esc, the round limit): agent.py
        return f"{name}: not run; {meta['not_run']}"
    if meta.get("was") == "proposed":
        return f"{name}: not run; thau stopped while it waited for your approval"
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


def batch_start(messages: list[dict[str, Any]], end: int, count: int) -> int:
    """Where the batch of about `count` messages before `end` starts: at a question where one
    is near (within another `count`), else at the first message that is not a call's result,
    so a result is never drawn apart from its call; 0 when the start is near anyway."""
    start = end - count
    if start <= count // 4:
        return 0
    for at in range(start, max(0, start - count), -1):
        if messages[at]["role"] == "user":
            return at
    while start > 0 and messages[start]["role"] == "tool":
        start -= 1
    return start


Draw = Callable[[list[dict[str, Any]], "Widget | None"], Awaitable[None]]


class EarlierMessages(Static):
    """The top of a long chat opened at its latest messages: how many came before, and how to
    see them. The messages not drawn yet wait here until the chat is scrolled up to it."""

    DEFAULT_CLASSES = "message note note-info earlier-messages"

    def __init__(self, messages: list[dict[str, Any]], draw: Draw) -> None:
        super().__init__(markup=False)
        self.messages = messages
        self.draw = draw  # draws messages above a widget, as draw_history does
        self.drawing = False
        self.out_of_view = 0  # how many of the oldest the model no longer sees (show_view_start)
        self.show_count()

    def show_count(self) -> None:
        count = len(self.messages)
        unseen = min(self.out_of_view, count)
        # the line where the model's view starts is not drawn while the cut is up here (long-chat review)
        seen = " (the model no longer sees them)" if 0 < unseen == count else ""
        if 0 < unseen < count:
            seen = f" (the model no longer sees the first {unseen:,})"
        plural = "s" if count != 1 else ""
        self.update(f"▲ {count:,} earlier message{plural}{seen}: scroll up (PgUp, Ctrl+Home) to draw them")


def unreadable_reason(said: str) -> str:
    """Why a call could not be read, from the result the model was sent ("error: WHY. Write
    the call again as valid JSON.", in the dialect's wrapper or none); the note it had live,
    where "the model's call could not be read" was all a reopened chat said (native calls review)."""
    start = said.find("error: ")
    end = said.rfind(UNREADABLE_ENDING)
    if start < 0 or end <= start:
        return "the model's call could not be read"
    reason = said[start + len("error: ") : end].strip()
    return reason[:MAX_REASON_CHARS] + ("…" if len(reason) > MAX_REASON_CHARS else "")


# The most of an unreadable call's reason a reopened card shows.
MAX_REASON_CHARS = 500


async def draw_call(
    chat: ChatView,
    meta: dict,
    row: dict | None,
    decision: dict | None,
    risk_of: Callable[[str], str],
    before: Widget | None = None,
    said: str = "",
):
    """One finished call's card, as it ended; `said` is the result the model was sent."""
    if row is None:  # a call the model wrote that could not be read: no id, no row
        card = ToolCard(ToolCall("(unreadable call)", {}), "exec")
        await chat.mount(card, before=before)
        card.mark_invalid([unreadable_reason(said)])
        return card
    arguments = _arguments((decision or {}).get("arguments") or row.get("arguments"))
    name = str(row.get("name") or meta.get("tool") or "unknown")
    card = ToolCard(ToolCall(name, arguments, id=str(row.get("id"))), risk_of(name))
    await chat.mount(card, before=before)
    if (decision or {}).get("arguments"):
        card.show_edited(arguments)
    status, output = row.get("status"), row.get("result") or ""
    if status == "denied" and (decision or {}).get("by") == "unavailable":  # no image model: as it showed live
        card.mark_unavailable(str((decision or {}).get("reason") or "it could not run"))
    elif status == "denied":
        card.mark_denied((decision or {}).get("reason"))
    elif status == "cancelled" and not output:
        card.state = "cancelled"
    elif status == "invalid":  # its errors as the card showed them live, where the row keeps them
        card.mark_invalid(output.splitlines() or ["its arguments did not match the tool's schema"])
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
    before: Widget | None = None,
    answering: bool = False,
) -> None:
    """Mount a saved chat's messages into `chat` (at the end, or above `before`): messages
    gathered and mounted together, a layout per batch, not per message (1,000 exchanges took
    31 s: reliability review); a card is mounted on its own, as it needs its parts to show how
    it ended."""
    pending: list[Widget] = []

    async def flush() -> None:
        if pending:
            await chat.mount(*pending, before=before)
            pending.clear()

    for index, message in enumerate(messages):
        meta = message.get("meta") or {}
        if message["role"] == "user":
            pending.append(UserMessage(message["content"]))
            # Nothing answered it: thau quit (or Esc, an error) before the answer began. Reopened,
            # the question stood there with nothing under it (first-hour review). A batch ends just
            # before a question, so only the chat's very last one can still be being answered.
            following = messages[index + 1]["role"] if index + 1 < len(messages) else None
            if following == "user" or (following is None and (before is not None or not answering)):
                pending.append(NoteMessage(UNANSWERED, "warning"))
        elif message["role"] == "assistant":
            visible = dialect.text_before_call(message["content"]).strip()
            if visible:
                pending.append(AssistantMessage(visible))
            elif gave_no_answer(message):  # stored empty: the chat showed nothing at all (long-chat review)
                pending.append(NoteMessage(f"({NO_ANSWER})", "info"))
            if meta.get("interrupted"):
                pending.append(NoteMessage("interrupted: thau stopped before this answer finished", "warning"))
            elif meta.get("stopped"):  # as the turn showed it when Esc stopped it
                pending.append(NoteMessage("stopped", "warning"))
        elif message["role"] == "tool":
            call_id = str(meta.get("call_id") or "")
            row = calls.get(call_id)
            if meta.get("interrupted") or meta.get("not_run"):
                pending.append(NoteMessage(interrupted_call_note(meta, row), "warning"))
            else:
                await flush()
                await draw_call(chat, meta, row, decisions.get(call_id), risk_of, before, message["content"])
        if len(pending) >= HISTORY_BATCH:
            await flush()
    await flush()


async def draw_chat(chat: ChatView, messages: list[dict[str, Any]], draw: Draw) -> None:
    """A saved chat drawn from its latest messages: at most about SHOWN_AT_OPEN of them, and
    above them an EarlierMessages that holds the rest."""
    start = batch_start(messages, len(messages), SHOWN_AT_OPEN)
    if start:
        await chat.mount(EarlierMessages(messages[:start], draw))
    await draw(messages[start:], None)


async def fold_earliest(
    chat: ChatView, messages: list[dict[str, Any]], draw: Draw, keep: int | None = None, limit: int | None = None
) -> int:
    """A live chat drawn past `limit` messages gives its oldest back to the EarlierMessages
    line (made if there is none), as a chat opened at its latest would hold them, so a long
    session keeps about `keep` messages' widgets, not every one (each exchange's widgets stayed:
    ~70 MB more per 100 exchanges, soak review). The cut falls before a question. Nothing is
    touched, and 0 returned, when the questions drawn do not match the chat's, one for one, or
    the earlier line is drawing; otherwise returns how many messages were folded."""
    keep, limit = SHOWN_AT_OPEN if keep is None else keep, FOLD_AT if limit is None else limit
    earlier = next(iter(chat.query_children(EarlierMessages)), None)
    if earlier is not None and earlier.drawing:
        return 0
    first = len(earlier.messages) if earlier is not None else 0
    drawn = messages[first:]
    if len(drawn) <= limit:
        return 0
    questions = [at for at, message in enumerate(drawn) if message["role"] == "user"]
    shown = list(chat.query_children(UserMessage))
    if len(questions) != len(shown) or any(w.text != drawn[at]["content"] for w, at in zip(shown, questions)):
        return 0
    kept = next((n for n, at in enumerate(questions) if at >= len(drawn) - keep), None)
    if not kept:  # no question in the last `keep` messages, or the first drawn one
        return 0
    cut = shown[kept]
    children = list(chat.children)
    # the line where the model's view starts stays (SavedChats.show_view_start puts it after)
    gone = [w for w in children[: children.index(cut)] if w is not earlier and not isinstance(w, OutOfViewLine)]
    folded = first + questions[kept]
    # Both asked for before either is awaited: a turn sent meanwhile cancels this worker, and
    # the earlier line with the widgets still there would draw those messages twice.
    mounting = chat.mount(EarlierMessages(messages[:folded], draw), before=gone[0] if gone else cut)
    removing = chat.remove_children(gone if earlier is None else [*gone, earlier])
    await mounting
    await removing
    return folded - first


async def show_view_start(chat: ChatView, messages: list[dict[str, Any]], view_start: int) -> None:
    """The line above the first message the model sees (out_of_view.py), or, while that
    message is among the earlier ones not drawn yet, the earlier line saying how many of them
    the model no longer sees."""
    earlier = next(iter(chat.query_children(EarlierMessages)), None)
    first = len(earlier.messages) if earlier is not None else 0
    if earlier is not None and earlier.out_of_view != min(view_start, first):
        earlier.out_of_view = min(view_start, first)
        earlier.show_count()
    await mark_view_start(chat, messages, view_start, first)


async def draw_earlier(
    chat: ChatView, keep_place: bool = True, drawn: Callable[[], Awaitable[None]] | None = None
) -> None:
    """The next batch of a long chat's earlier messages, drawn above the ones shown; the view
    kept on the message that was at the top (so scrolling on up draws the next), or at the
    top (Ctrl+Home: each press a batch further back). `drawn`: what to do once the batch is in
    (the line where the model's view starts may fall in it), before the view is kept."""
    earlier = next(iter(chat.query_children(EarlierMessages)), None)
    if earlier is None or earlier.drawing:
        return
    earlier.drawing = True
    try:
        messages = earlier.messages
        start = batch_start(messages, len(messages), EARLIER_BATCH)
        index = chat.children.index(earlier)
        first = chat.children[index + 1] if index + 1 < len(chat.children) else None
        await earlier.draw(messages[start:], first)
        earlier.messages = messages[:start]
        if start:
            earlier.show_count()
        else:
            await earlier.remove()
        if isinstance(first, OutOfViewLine):  # the view stays on the message, wherever the line goes
            after = chat.children.index(first) + 1
            first = chat.children[after] if after < len(chat.children) else None
        if drawn is not None:
            await drawn()
        if first is not None and keep_place:
            chat.call_after_refresh(chat.scroll_to_widget, first, top=True, animate=False)
    finally:
        earlier.drawing = False


class SavedChats:
    """Mixin for the app: a chat's saved messages drawn (its earlier ones as the user scrolls
    up to them), and a long live chat's oldest folded back into the earlier line."""

    def saved_drawer(self, sid: str, calls: dict | None = None, decisions: dict | None = None, answering=False):
        """What draws chat `sid`'s saved messages (history.Draw); an earlier batch reads the
        store's call rows again, as a live chat folds calls made after it was opened."""
        calls, decisions = calls if calls is not None else {}, decisions if decisions is not None else {}

        def risk_of(name: str) -> str:
            tool = self.agent.registry.get(name)
            return tool.risk_here(self.agent.config)[0] if tool else "exec"

        async def draw(messages: list[dict], before: Widget | None) -> None:
            if before is not None and self.store:
                with contextlib.suppress(StoreError):
                    calls.update((row["id"], row) for row in self.store.tool_calls(sid))
                    decisions.update((row["call_id"], row) for row in self.store.decisions(sid))
            await draw_history(self.chat, messages, self.agent.dialect, calls, decisions, risk_of, before, answering)
            if before is None and self.session is not None and self.session.id == sid:  # a chat opened
                await self.show_view_start()

        return draw

    async def show_view_start(self) -> None:
        """Where the model's view of this chat starts, shown (history.show_view_start): when it
        is opened, when a turn moved the view (turn.py), when earlier messages are drawn or folded."""
        if self.session is None:
            return
        try:
            await show_view_start(self.chat, self.session.messages, self.session.view_start)
        except Exception:  # a line, not the turn: the answer is not called broken for it
            log.exception("the line where the model's view starts could not be drawn")

    async def fold_long_chat(self) -> None:
        """After a turn, a long live chat at its bottom folds its oldest messages into the
        earlier line (history.fold_earliest); not while they wait to be saved: the earlier
        line draws them from the store."""
        session, chat = self.session, self.chat
        if self.store is None or self.agent.saving.waiting_for(session.id) or chat.scroll_y < chat.max_scroll_y - 1:
            return
        try:
            if await fold_earliest(chat, list(session.messages), self.saved_drawer(session.id)):
                await self.show_view_start()  # the line went with the folded messages, or sits above them
        except Exception:  # the chat stays as it is, every widget kept
            log.exception("the chat's oldest messages could not be folded")

    def on_chat_view_reached_top(self, message: ChatView.ReachedTop) -> None:
        drawing = draw_earlier(self.chat, message.keep_place, self.show_view_start)
        self.run_worker(drawing, group="earlier", exit_on_error=False)
