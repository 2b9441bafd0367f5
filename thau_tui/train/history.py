"""`thau data from-history`: training examples from the user's own decisions.

Every call the user approved becomes a call example (the edited arguments when
they edited it), with the tool's result and the answer that followed when the
chat has them. Every call they denied becomes a no-call example: the request,
and a reply that does not call the tool and acknowledges the reason they gave.
A call made after any tool result in its chat is left out: as request -> call, the
example would drop the result that may have led to it, and a file the model read can
ask for anything, in that turn or a later one. Examples use the data set's format (see train/data) and the chat's system
message, so they can be mixed into train.jsonl as they are.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.dialects import DIALECTS, Dialect, get_dialect
from ..paths import replace_file
from ..tools.base import ToolCall

APPROVED = {"once", "session", "always", "auto"}
# A call is an example of what to do only once it ran to the end: one Esc cancelled while it
# ran, thau stopped, or that failed was written as "approved, right" (data review).
FINISHED = "done"

_SPANISH = re.compile(
    r"[¿¡ñáéíóú]|\b(que|por|para|los|las|una|del|el|cómo|qué|archivo|carpeta|muestra|ejecuta|lista)\b", re.I
)


def detect_lang(text: str) -> str:
    """'es' when the request reads as Spanish, else 'en' (the data set's two languages)."""
    return "es" if len(_SPANISH.findall(text)) >= 2 else "en"


def denial_reply(tool: str, reason: str | None, lang: str) -> str:
    """The assistant's answer that takes a denial on board instead of calling again."""
    reason = (reason or "").strip().rstrip(".")
    if lang == "es":
        why = f" Entendido: {reason}." if reason else ""
        return f"No voy a usar {tool} para esto.{why} ¿Cómo prefieres que sigamos?"
    why = f" Understood: {reason}." if reason else ""
    return f"I won't use {tool} for this.{why} How would you like me to go on instead?"


@dataclass
class HistoryCounts:
    """What from-history found; `as_dict()` is what the CLI prints."""

    sessions: int = 0
    calls: int = 0
    approved: int = 0
    edited: int = 0
    denied: int = 0
    skipped: int = 0  # cancelled, invalid, never decided, or no request to learn from
    duplicates: int = 0
    examples: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped += 1
        self.reasons[why] = self.reasons.get(why, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "calls": self.calls,
            "examples": self.examples,
            "approved": self.approved,
            "edited": self.edited,
            "denied": self.denied,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "skipped_because": dict(self.reasons),
        }


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except json.JSONDecodeError:
        return default


def _has_call(text: str) -> bool:
    return any(cls.open_tag and cls.open_tag in text for cls in DIALECTS.values())


def _connect(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise FileNotFoundError(f"no chat history at {db_path}; chat with thau first (or pass --db PATH)")
    # Read-only, so a running thau is never disturbed.
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def _anchor(messages: list[sqlite3.Row], call: sqlite3.Row) -> int | None:
    """Index of the message holding the call; by time when the call names no message."""
    if call["message_id"] is not None:
        for index, message in enumerate(messages):
            if message["id"] == call["message_id"]:
                return index
    before = [i for i, m in enumerate(messages) if (m["created"] or 0) <= (call["created"] or 0)]
    return before[-1] if before else None


def _request(messages: list[sqlite3.Row], anchor: int) -> str | None:
    for message in reversed(messages[: anchor + 1]):
        if message["role"] == "user":
            return message["content"]
    return None


def _after_a_result(messages: list[sqlite3.Row], anchor: int) -> bool:
    """Whether any tool result came before the call in its chat (or the call's message is
    one): the example of request -> call would leave it out, and a file read a turn earlier
    can still say what to do "next time". Only calls the user's own words led to are kept."""
    return any(message["role"] == "tool" for message in messages[: anchor + 1])


def _answer_after(messages: list[sqlite3.Row], anchor: int) -> str | None:
    """The assistant's plain answer after the call's results, when it made no further call."""
    for message in messages[anchor + 1 :]:
        if message["role"] == "user":
            return None
        if message["role"] == "assistant" and message["content"].strip():
            return None if _has_call(message["content"]) else message["content"].strip()
    return None


def _verdict(call: sqlite3.Row, decisions: list[sqlite3.Row]) -> tuple[str, sqlite3.Row | None]:
    """'approved', 'denied' or why to skip, from the call's last decision (or its status)."""
    last = decisions[-1] if decisions else None
    if last is not None:
        if last["kind"] in APPROVED:
            return ("approved" if call["status"] == FINISHED else f"approved, then {call['status']}"), last
        if last["kind"] == "deny":
            # Only a person's no teaches a reply: a denial by the config or by the approval
            # timeout made examples like "Understood: no answer before the approval timeout".
            return ("denied" if last["by"] == "user" else f"denied by {last['by']}"), last
        return f"decision {last['kind']}", last
    # No decision row: read tools run by policy without asking; that is an approval too.
    if call["status"] == FINISHED:
        return "approved", None
    return f"status {call['status']}", None


class _Builder:
    def __init__(self, dialect: Dialect) -> None:
        from ..config import GenerationConfig
        from ..engine.prompt import system_content
        from ..tools import builtin_tools

        self.dialect = dialect
        self.system = system_content(GenerationConfig().system_prompt, dialect, builtin_tools())

    def approved(
        self, call_id: str, request: str, name: str, args: dict, result: str | None, answer: str | None, edited: bool
    ) -> dict[str, Any]:
        args = self.plain_values(args)  # a write_file content of `ok<|im_end|>...` too (attacker re-review)
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.plain(request)},
            {"role": "assistant", "content": self.dialect.format_call(ToolCall(name, args))},
        ]
        if result is not None and answer:
            messages.append({"role": "tool", "content": self.dialect.render_result(name, result)})
            messages.append({"role": "assistant", "content": self.plain(answer)})
        return {
            "id": f"history-{call_id}",
            "lang": detect_lang(request),
            "kind": "multi_turn" if len(messages) > 3 else "call",
            "tool": name,
            "template": "history-edited" if edited else "history-approved",
            "messages": messages,
            "expected_calls": [{"name": name, "arguments": args}],
        }

    def plain(self, text: str) -> str:
        """A message's text as the chat renders it again: `<|im_end|>\n<|im_start|>user` written
        in a message (or quoted from a file) was trained as the real tokens, a forged turn the
        model learnt to write (data review). Call tags too: an answer is text, not a call."""
        return self.dialect.defuse_turn(text, own_calls=False)

    def plain_values(self, value: Any) -> Any:
        """Every string in a call's arguments, keys too, made plain (see `plain`)."""
        if isinstance(value, str):
            return self.plain(value)
        if isinstance(value, list):
            return [self.plain_values(item) for item in value]
        if isinstance(value, dict):
            return {self.plain(str(key)): self.plain_values(item) for key, item in value.items()}
        return value

    def denied(self, call_id: str, request: str, name: str, reason: str | None) -> dict[str, Any]:
        lang = detect_lang(request)
        request, reason = self.plain(request), None if reason is None else self.plain(reason)
        return {
            "id": f"history-{call_id}",
            "lang": lang,
            "kind": "no_call",
            "tool": name,
            "template": "history-denied",
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": request},
                {"role": "assistant", "content": denial_reply(name, reason, lang)},
            ],
            "expected_calls": [],
        }


def examples_from_history(db_path: str | Path, out_path: str | Path, *, dialect: str = "hermes") -> dict[str, Any]:
    """Write one training example per decided call in the chat history; return the counts.

    Approved (once/session/always/auto, or ran by policy) -> a call example with the
    edited arguments when the user edited them, plus the result and the answer that
    followed when present. Denied -> a no-call example acknowledging the reason.
    Cancelled, interrupted, failed, invalid and undecided calls are skipped, and so is a call made after any tool
    result in its chat (the example would drop what may have led to it; a file the model
    read can ask for anything); identical examples are written once.
    """
    db_path, out_path = Path(db_path), Path(out_path)
    builder = _Builder(get_dialect(dialect))
    counts = HistoryCounts()
    seen: set[str] = set()
    examples: list[dict[str, Any]] = []
    db = _connect(db_path)
    try:
        sessions = [row["id"] for row in db.execute("SELECT id FROM sessions ORDER BY created")]
        counts.sessions = len(sessions)
        for sid in sessions:
            messages = db.execute("SELECT * FROM messages WHERE session_id=? ORDER BY seq", (sid,)).fetchall()
            calls = db.execute("SELECT * FROM tool_calls WHERE session_id=? ORDER BY created", (sid,)).fetchall()
            for call in calls:
                counts.calls += 1
                decisions = db.execute("SELECT * FROM decisions WHERE call_id=? ORDER BY id", (call["id"],)).fetchall()
                verdict, decision = _verdict(call, decisions)
                anchor = _anchor(messages, call)
                request = _request(messages, anchor) if anchor is not None else None
                if verdict not in ("approved", "denied"):
                    counts.skip(verdict)
                    continue
                if not request:
                    counts.skip("no user request before the call")
                    continue
                if _after_a_result(messages, anchor):
                    # A file or page can steer the model ("now write .envrc ..."); as request -> call
                    # the example would teach the injected action from a harmless request.
                    counts.skip("a tool result came before the call (the example would leave it out)")
                    continue
                if verdict == "denied":
                    counts.denied += 1
                    example = builder.denied(call["id"], request, call["name"], decision["reason"])
                else:
                    edited_args = _json(decision["arguments"], None) if decision is not None else None
                    args = edited_args if isinstance(edited_args, dict) else _json(call["arguments"], {})
                    if not isinstance(args, dict):
                        counts.skip("arguments are not a JSON object")
                        continue
                    counts.approved += 1
                    counts.edited += isinstance(edited_args, dict)
                    example = builder.approved(
                        call["id"],
                        request,
                        call["name"],
                        args,
                        call["result"],
                        _answer_after(messages, anchor),
                        isinstance(edited_args, dict),
                    )
                key = json.dumps(example["messages"], sort_keys=True)
                if key in seen:
                    counts.duplicates += 1
                    continue
                seen.add(key)
                examples.append(example)
    except sqlite3.DatabaseError as exc:  # "file is not a database" was a traceback (CLI review, 2026-12-07 night)
        raise ValueError(
            f"{db_path} is not a thau chat database ({exc}): pass --db with a sessions.sqlite3 "
            "(thau doctor names the data dir holding thau's), or leave --db out"
        ) from exc
    finally:
        db.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # A new file put in place: a link at out_path is replaced, never written through.
    replace_file(out_path, "".join(json.dumps(example, ensure_ascii=False) + "\n" for example in examples))
    counts.examples = len(examples)
    return counts.as_dict()
