"""What a resumed chat gets for the calls a crash cut short.

The store marks calls left waiting for approval or running as interrupted; here every call
of the chat's last answer that never got a result gets one that says so (with the end of the
output captured before the crash), so the next prompt never carries a call without a response.
"""

from __future__ import annotations

from typing import Any

from .dialects import Dialect
from .store import Store

# The most of a running tool's output the model reads back after a crash interrupted the call.
INTERRUPTED_OUTPUT_CHARS = 2_000


def close_interrupted(store: Store, dialect: Dialect, sid: str) -> int:
    """Close what a crash left open in `sid`; return how many tool results were added.

    Nothing happens while a live thau process runs a turn in `sid`. A store error is
    raised: the caller (`Agent.close_interrupted`) keeps the chat opening regardless.
    """
    if store.turn_running(sid):
        return 0
    rows = store.interrupt_calls(sid)
    stored = store.messages(sid)
    last = max((i for i, m in enumerate(stored) if m["role"] == "assistant"), default=None)
    if last is None or any(m["role"] != "tool" for m in stored[last + 1 :]):
        return 0
    answer = stored[last]
    missing = dialect.parse_calls(answer["content"])[len(stored) - last - 1 :]
    left = [r for r in rows if r["message_id"] == answer["id"]]
    for parsed in missing:
        name = parsed.call.name if parsed.call else "unknown"
        row = next((r for r in left if r["name"] == name), None)
        if row is not None:
            left.remove(row)
        call_id = row["id"] if row else None
        meta = {"tool": name, "ok": False, "interrupted": True, "call_id": call_id, "dialect": dialect.name}
        meta["was"] = row["status"] if row else "proposed"  # waiting or running: the chat says which
        store.add_message(sid, "tool", dialect.render_result(name, interrupted_result(row)), meta)
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
