"""SQLite store: sessions, messages, tool calls and decisions, saved as they happen.

WAL mode, one short transaction per write, so a crash loses at most the
message being generated. Export to Markdown and to JSONL (the training format).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions(
    id TEXT PRIMARY KEY, title TEXT, created REAL, updated REAL, model TEXT, meta TEXT);
CREATE TABLE IF NOT EXISTS messages(
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, seq INTEGER, role TEXT,
    content TEXT, created REAL, meta TEXT);
CREATE INDEX IF NOT EXISTS messages_session ON messages(session_id, seq);
CREATE TABLE IF NOT EXISTS tool_calls(
    id TEXT PRIMARY KEY, session_id TEXT, message_id INTEGER, name TEXT, arguments TEXT,
    status TEXT, result TEXT, created REAL, updated REAL);
CREATE TABLE IF NOT EXISTS decisions(
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, call_id TEXT, kind TEXT, by TEXT,
    reason TEXT, arguments TEXT, created REAL);
"""


@dataclass
class SessionInfo:
    id: str
    title: str
    created: float
    updated: float
    model: str
    messages: int = 0


class Store:
    """The conversation database. Safe to use from the UI thread and workers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    # --- sessions ----------------------------------------------------------------
    def create_session(self, title: str = "New chat", model: str = "") -> str:
        sid = uuid.uuid4().hex[:12]
        now = time.time()
        self._run(
            "INSERT INTO sessions(id, title, created, updated, model, meta) VALUES (?,?,?,?,?,?)",
            (sid, title, now, now, model, "{}"),
        )
        return sid

    def rename_session(self, sid: str, title: str) -> None:
        self._run("UPDATE sessions SET title=?, updated=? WHERE id=?", (title, time.time(), sid))

    def delete_session(self, sid: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for table in ("messages", "tool_calls", "decisions"):
                self._db.execute(f"DELETE FROM {table} WHERE session_id=?", (sid,))
            self._db.execute("DELETE FROM sessions WHERE id=?", (sid,))
            self._db.execute("COMMIT")

    def get_session(self, sid: str) -> SessionInfo | None:
        row = self._run(
            "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id=s.id) AS n FROM sessions s WHERE id=?",
            (sid,),
        ).fetchone()
        return self._info(row) if row else None

    @staticmethod
    def _info(row: sqlite3.Row) -> SessionInfo:
        return SessionInfo(row["id"], row["title"], row["created"], row["updated"], row["model"] or "", row["n"])

    def list_sessions(self, search: str = "", limit: int = 200) -> list[SessionInfo]:
        """Newest first; `search` matches titles and message text."""
        sql = "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id=s.id) AS n FROM sessions s"
        args: tuple = ()
        if search:
            like = f"%{search}%"
            sql += (
                " WHERE s.title LIKE ? OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id=s.id"
                " AND m.role IN ('user','assistant') AND m.content LIKE ?)"
            )
            args = (like, like)
        sql += " ORDER BY s.updated DESC LIMIT ?"
        return [self._info(r) for r in self._run(sql, args + (limit,)).fetchall()]

    def last_session(self) -> SessionInfo | None:
        found = self.list_sessions(limit=1)
        return found[0] if found else None

    # --- messages ----------------------------------------------------------------
    def add_message(self, sid: str, role: str, content: str, meta: dict[str, Any] | None = None) -> int:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            seq = self._db.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE session_id=?", (sid,)
            ).fetchone()[0]
            cur = self._db.execute(
                "INSERT INTO messages(session_id, seq, role, content, created, meta) VALUES (?,?,?,?,?,?)",
                (sid, seq, role, content, now, json.dumps(meta or {})),
            )
            self._db.execute("UPDATE sessions SET updated=? WHERE id=?", (now, sid))
            self._db.execute("COMMIT")
            return int(cur.lastrowid)

    def messages(self, sid: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT * FROM messages WHERE session_id=? ORDER BY seq", (sid,)).fetchall()
        return [
            {"id": r["id"], "role": r["role"], "content": r["content"], "meta": json.loads(r["meta"] or "{}")}
            for r in rows
        ]

    # --- tool calls and decisions --------------------------------------------------
    def record_call(self, sid: str, call_id: str, name: str, arguments: Any, status: str,
                    message_id: int | None = None, result: str | None = None) -> None:
        now = time.time()
        self._run(
            "INSERT INTO tool_calls(id, session_id, message_id, name, arguments, status, result, created, updated)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status,"
            " result=COALESCE(excluded.result, tool_calls.result), updated=excluded.updated",
            (call_id, sid, message_id, name, json.dumps(arguments, ensure_ascii=False), status, result, now, now),
        )

    def record_decision(self, sid: str, call_id: str, kind: str, by: str = "user",
                        reason: str | None = None, arguments: Any = None) -> None:
        self._run(
            "INSERT INTO decisions(session_id, call_id, kind, by, reason, arguments, created) VALUES (?,?,?,?,?,?,?)",
            (sid, call_id, kind, by, reason, json.dumps(arguments) if arguments is not None else None, time.time()),
        )

    def tool_calls(self, sid: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT * FROM tool_calls WHERE session_id=? ORDER BY created", (sid,)).fetchall()
        return [dict(r) for r in rows]

    def decisions(self, sid: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT * FROM decisions WHERE session_id=? ORDER BY id", (sid,)).fetchall()
        return [dict(r) for r in rows]

    # --- export ------------------------------------------------------------------
    def export_markdown(self, sid: str) -> str:
        info = self.get_session(sid)
        title = info.title if info else sid
        lines = [f"# {title}", ""]
        for m in self.messages(sid):
            if m["role"] == "system":
                continue
            heading = {"user": "You", "assistant": "thau", "tool": "Tool result"}.get(m["role"], m["role"])
            lines += [f"## {heading}", ""]
            body = m["content"]
            lines += [f"```\n{body}\n```" if m["role"] == "tool" else body, ""]
        return "\n".join(lines)

    def export_jsonl(self, sid: str) -> str:
        """One line: {"id", "messages": [...]} in the training data's format."""
        messages = [{"role": m["role"], "content": m["content"]} for m in self.messages(sid)]
        return json.dumps({"id": sid, "messages": messages}, ensure_ascii=False) + "\n"

    def iter_all_sessions(self) -> Iterator[SessionInfo]:
        yield from self.list_sessions(limit=1_000_000)
