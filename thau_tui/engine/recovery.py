"""What a resumed chat gets for the calls a crash cut short.

The store marks calls left waiting for approval or running as interrupted; here every call
of the chat's last answer that never got a result gets one that says so (with the end of the
output captured before the crash), so the next prompt never carries a call without a response.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic_core import from_json

from .dialects import Dialect, ParsedCall
from .store import Store

# The most of a running tool's output the model reads back after a crash interrupted the call.
INTERRUPTED_OUTPUT_CHARS = 2_000


def unanswered_calls(messages: list[dict[str, Any]], dialect: Dialect) -> list[dict[str, Any]]:
    """The calls of the last answer that have no result yet, in order: each a dict with its
    tool's name, its arguments when they could be read, and (native calls) the server's id.
    Results follow their answer one per call, in the order of its calls."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None or any(m["role"] != "tool" for m in messages[last + 1 :]):
        return []
    answered = len(messages) - last - 1
    wire = (messages[last].get("meta") or {}).get("tool_calls") or []
    if wire:  # the native path: the calls are the server's, in the answer's meta
        return [{"name": w.get("name") or "unknown", "tool_call_id": w.get("id")} for w in wire[answered:]]
    return [
        {"name": p.call.name, "arguments": p.call.arguments} if p.call else {"name": _named(p.raw)}
        for p in dialect.parse_calls(messages[last]["content"])[answered:]
    ]


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _named(raw: str) -> str:
    """The tool a call cut short was for ("unknown" unless its name was written whole), for the
    note a reopened chat shows: "unknown: not run" said nothing (re-review). Only the call's
    own "name" key counts: one inside its arguments named another tool (attacker review). The
    cut JSON is read by pydantic's parser, which keeps what was written whole."""
    start = raw.find("{")
    try:
        value = from_json(raw[start:], allow_partial=True) if start >= 0 else None
    except ValueError:
        value = None
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) and _NAME.fullmatch(name) else "unknown"


# What the model reads for a call it asked for again right after it ran, or was denied.
REPEATED_CALL = "it is the call you just ran, and its result is above; answer the user with it"
REPEATED_DENIED = "the user denied this same call just before; do not ask for it again, answer without it"


def repeated_calls(denied: list[bool]) -> tuple[list[tuple[str, str]], str]:
    """What each call asked again right after the last round gets (why for the model, and for
    the user), and the turn's error, from whether the user denied each call of that round, by
    its place: a denied call is not said to have run, also when the round mixed a call that ran
    with one the user denied (read-through review, re-review), nor a call that ran said to be
    denied when the round held the same call twice (attacker review)."""
    reasons = [
        (REPEATED_DENIED, "the model asked for it again right after you denied it")
        if was_denied
        else (REPEATED_CALL, "the model asked for it again right after it ran")
        for was_denied in denied
    ]
    if all(denied):
        said = "the model asked again for the call you had just denied; thau did not ask again"
    elif any(denied):
        said = "the model asked again for the calls it had just made (run or denied by you); thau ended the turn"
    else:
        said = "the model asked again for the call it had just run; thau ran it once and ended the turn"
    return reasons, said


def not_run_results(
    messages: list[dict[str, Any]],
    dialect: Dialect,
    why: str,
    shown: str = "",
    reasons: list[tuple[str, str]] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(content, meta) of a result for each call of the last answer that a live turn ended
    without running (Esc, the round limit, an error), saying why (`shown`: in other words
    for the user); the meta keeps the call's arguments, when short, for the chat's note."""
    results = []
    for index, call in enumerate(unanswered_calls(messages, dialect)):
        if reasons is not None and index < len(reasons):  # each call its own (the repeat rule)
            why, shown = reasons[index]
        meta: dict[str, Any] = {"tool": call["name"], "ok": False, "not_run": shown or why, "dialect": dialect.name}
        if len(json.dumps(call.get("arguments") or {}, ensure_ascii=False)) <= 2_000:
            meta["arguments"] = call.get("arguments") or {}
        if call.get("tool_call_id"):  # native: the server's id, the text unwrapped
            meta["tool_call_id"] = call["tool_call_id"]
            results.append((f"not run: {why}.", meta))
        else:
            results.append((dialect.render_result(call["name"], f"not run: {why}."), meta))
    return results


def close_interrupted(store: Store, dialect: Dialect, sid: str) -> int:
    """Close what a crash left open in `sid`; return how many tool results were added.

    Nothing happens while a live thau process runs a turn in `sid`. A store error is
    raised: the caller (`Agent.close_interrupted`) keeps the chat opening regardless.
    """
    if store.turn_running(sid):
        return 0
    rows = store.interrupt_calls(sid)
    stored = store.messages(sid)
    missing = unanswered_calls(stored, dialect)
    if not missing:
        return 0
    answer_id = next(m["id"] for m in reversed(stored) if m["role"] == "assistant")
    left = [r for r in rows if r["message_id"] == answer_id]
    for call in missing:
        name = call["name"]
        row = next((r for r in left if r["name"] == name), None)
        if row is not None:
            left.remove(row)
        call_id = row["id"] if row else None
        meta = {"tool": name, "ok": False, "interrupted": True, "call_id": call_id, "dialect": dialect.name}
        meta["was"] = row["status"] if row else "proposed"  # waiting or running: the chat says which
        text = interrupted_result(row)
        if call.get("tool_call_id"):  # a native call's result answers the server's id, unwrapped
            meta["tool_call_id"] = call["tool_call_id"]
            store.add_message(sid, "tool", text, meta)
        else:
            store.add_message(sid, "tool", dialect.render_result(name, text), meta)
    return len(missing)


def interrupted_result(row: dict[str, Any] | None) -> str:
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


def call_key(parsed: ParsedCall) -> str:
    """What makes two calls the same call: the tool and its arguments (the raw text when unreadable)."""
    if parsed.call is None:
        return f"?:{parsed.raw}"
    return f"{parsed.call.name}:{json.dumps(parsed.call.arguments, sort_keys=True)}"
