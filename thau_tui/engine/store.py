"""SQLite store: sessions, messages, tool calls and decisions, saved as they happen.

WAL mode, one short transaction per write. The answer being generated and a
running tool's output are saved as they grow (the agent does that), so a crash
loses about a second of them. Every text goes through `storable` first, and a
failed write rolls back and raises StoreError, so one odd string or a full disk
never leaves the connection stuck in a transaction. Export to Markdown and to
JSONL (the training format).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

# The one gate for text that crosses into the store, the prompt or the screen. It lives with
# the tools because tools may not import the engine (pyproject's import-linter contracts).
from ..tools.base import storable
from . import chat_search
from .session import NEW_CHAT
from .store_errors import BUSY, DELETED, GONE, SALVAGE, StoreError, hold_open, read_only, sqlite_kind
from .store_turns import _TURNS_HERE, _alive, _owner

__all__ = ["SessionInfo", "Store", "StoreError", "storable"]

# How long a write waits for a lock another thau (milliseconds) or program holds: the writes
# of a turn run on the event loop, and SQLite's default 5 s a write froze the screen while a
# backup held the file (crash review); what is not saved waits in order (engine/saving.py).
BUSY_WAIT_S = 1.0


def _json(value: Any) -> str:
    return storable(json.dumps(value, ensure_ascii=False, default=str))


FORMAT = 1  # PRAGMA user_version: a database a newer thau made is named as such, not misread
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
        self._lock = threading.Lock()
        self._open: IO[str] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # before the database opens: `thau salvage` renaming it meanwhile (it holds the mark
            # alone) split a chat between the old file and the new (re-review): StoreError, busy
            self._open = hold_open(self.path)
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=BUSY_WAIT_S
            )
            self._db.row_factory = sqlite3.Row
            # search beyond ASCII: SQLite's LIKE folds A-Z only ("RÉSUMÉ" found nothing: chats review)
            chat_search.register(self._db)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            made_by = self._db.execute("PRAGMA user_version").fetchone()[0]  # before SCHEMA touches it
            if made_by <= FORMAT:
                self._db.executescript(SCHEMA)
            if made_by == 0:  # new, or from a thau before the number: this format
                with contextlib.suppress(sqlite3.Error):  # a read-only file still opens to read
                    self._db.execute(f"PRAGMA user_version = {FORMAT}")
            self._file = self._identity()
        except (OSError, sqlite3.Error) as exc:
            raise self._open_error(exc) from None
        if made_by > FORMAT:
            self._db.close()
            raise StoreError(
                f"thau's chat database {self.path} was made by a newer thau (format {made_by}; this one "
                f"reads {FORMAT}): update thau (pip install -U thau), or set THAU_HOME to another folder",
                "failed",
                self.path,
            )

    def _open_error(self, exc: BaseException) -> StoreError:
        kind = sqlite_kind(exc)
        advice = "set THAU_HOME to a writable folder or fix the permissions"
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            blocker = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
            reason = f"a file is in the way ({blocker})" if blocker else "a file is in the way"
            advice = "move that file away or set THAU_HOME to another folder"
        elif self.path.is_dir():
            reason = "a folder is where the database file should be"
            advice = "move that folder away or set THAU_HOME to another folder"
        elif kind == "busy":
            return StoreError(f"cannot open {self.path}: {BUSY}", kind, self.path)
        elif kind == "full":
            reason = "the disk is full"
            advice = "free some disk space or set THAU_HOME to a folder on another disk"
        elif read_only(self.path.parent):
            reason = "its file system is read-only"
            advice = "set THAU_HOME to a folder on a writable disk"
        elif not os.access(self.path.parent, os.W_OK | os.X_OK):
            reason = "permission denied"
        elif kind == "failed":  # not a folder problem: e.g. "file is not a database"
            return StoreError(
                f"cannot open thau's chat database {self.path}: {exc}; {SALVAGE}, or move it away to start "
                "afresh, or set THAU_HOME to another folder",
                kind,
                self.path,
            )
        else:
            reason = getattr(exc, "strerror", None) or str(exc)
        return StoreError(
            f"cannot write thau's data dir {self.path.parent} ({self.path.name}): {reason}; {advice}",
            "full" if kind == "full" else "unwritable",
            self.path,
        )

    def _error(self, exc: BaseException) -> StoreError:
        if isinstance(exc, StoreError):
            return exc
        kind = sqlite_kind(exc)
        if kind == "full":
            message = f"disk full: cannot save to {self.path}; free some disk space"
        elif kind == "unwritable":
            message = f"cannot write {self.path}: {exc}; set THAU_HOME or fix the permissions"
        elif kind == "busy":
            message = f"{self.path}: {BUSY}"
        else:
            message = f"the chat database {self.path} failed: {type(exc).__name__}: {exc}"
            if "malformed" in str(exc):  # the sqlite3 program's .recover is missing on Debian: crash review
                message += f"; {SALVAGE}"
        return StoreError(message, kind, self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._open is not None:
                self._open.close()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """One statement on its own (SQLite makes it atomic), and its rows, fetched here: SQLite
        finds a damaged page while stepping through rows, and a raw DatabaseError ended the app."""
        with self._lock:
            try:
                if not sql.lstrip().upper().startswith("SELECT"):
                    self._check_file()
                self._rollback_leftover()
                return self._db.execute(sql, args).fetchall()
            except (sqlite3.Error, ValueError, OSError) as exc:
                raise self._error(exc) from exc

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self._run(sql, args)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements as one; any error rolls back, so the connection stays usable."""
        with self._lock:
            try:
                self._check_file()
                self._rollback_leftover()
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                if isinstance(exc, (sqlite3.Error, ValueError, OSError)):
                    raise self._error(exc) from exc
                raise

    def _identity(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_dev, info.st_ino)

    def _check_file(self) -> None:
        """Before a write: the file opened is still the one at self.path. Deleted while thau
        ran, every later message went into the unlinked file and was gone at the next start,
        with no word said (crash review)."""
        if self._identity() != self._file:
            raise StoreError(GONE.format(path=self.path), "gone", self.path)

    def _rollback_leftover(self) -> None:
        # A transaction left open (say, a COMMIT that failed on a full disk) would make every
        # later BEGIN fail with "cannot start a transaction within a transaction".
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # --- sessions ----------------------------------------------------------------
    def create_session(self, title: str = NEW_CHAT, model: str = "") -> str:
        sid = uuid.uuid4().hex[:12]
        now = time.time()
        self._run(
            "INSERT INTO sessions(id, title, created, updated, model, meta) VALUES (?,?,?,?,?,?)",
            (sid, storable(title), now, now, storable(model), _json({"opened": _owner()})),
        )
        return sid

    def prune_abandoned(self) -> int:
        """Delete the empty chats that a process now gone left behind (thau closed with its
        terminal before the first message: no cleanup ran) and return how many. A chat with
        a message, or one a live process on this machine still has open, stays."""
        rows = self._run(
            "SELECT id, meta FROM sessions s WHERE title=? "  # one the user named is kept, empty or not
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.session_id=s.id)",
            (NEW_CHAT,),
        )
        gone = 0
        for row in rows:
            owner = _meta(row["meta"]).get("opened")
            if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
                continue
            pid = owner.get("pid")
            if isinstance(pid, int) and pid != os.getpid() and not _alive(pid):
                self.delete_session(row["id"])
                gone += 1
        return gone

    def rename_session(self, sid: str, title: str) -> None:
        # not `updated`: a renamed old chat went to the top of the list, and --resume opened it
        # instead of the chat the user was in (chats review)
        self._run("UPDATE sessions SET title=? WHERE id=?", (storable(title), sid))

    def delete_session(self, sid: str) -> None:
        with self._transaction() as db:
            for table in ("messages", "tool_calls", "decisions"):
                db.execute(f"DELETE FROM {table} WHERE session_id=?", (sid,))
            db.execute("DELETE FROM sessions WHERE id=?", (sid,))

    # --- whose turn: a crash leaves the owner behind ----------------------------------
    def _session_meta(self, sid: str) -> dict[str, Any]:
        row = self._one("SELECT meta FROM sessions WHERE id=?", (sid,))
        try:
            meta = json.loads(row["meta"] or "{}") if row else {}
        except ValueError:
            meta = {}
        return meta if isinstance(meta, dict) else {}

    def begin_turn(self, sid: str) -> None:
        """Note that this process is running a turn in `sid` (see `turn_running`)."""
        _TURNS_HERE.add((str(self.path), sid))
        meta = self._session_meta(sid)
        meta["turn"] = _owner()
        self._run("UPDATE sessions SET meta=? WHERE id=?", (_json(meta), sid))

    def claim_turn(self, sid: str) -> bool:
        """begin_turn unless another live process's turn is marked in `sid`, atomically: two windows
        sending at one instant interleaved their turns (reliability review). A dead one's is taken."""
        owner = _owner()
        taken = self._run(
            "UPDATE sessions SET meta=json_set(CASE WHEN json_valid(meta) THEN meta ELSE '{}' END, '$.turn', json(?))"
            " WHERE id=? AND (NOT json_valid(meta) OR json_extract(meta, '$.turn.pid') IS NULL"
            " OR json_extract(meta, '$.turn.pid')=? OR json_extract(meta, '$.turn.host')!=?) RETURNING id",
            (_json(owner), sid, owner["pid"], owner["host"]),
        )
        if taken:  # the statement set the mark: this process only notes it runs the turn
            _TURNS_HERE.add((str(self.path), sid))
            return True
        if self.turn_state(sid) == "left" or self.get_session(sid) is None:
            self.begin_turn(sid)  # a dead window's mark taken over (a chat not saved has none)
            return True
        return False

    def end_turn(self, sid: str, view_start: int | None = None, budget: int | None = None) -> None:
        """The turn in `sid` is over; `view_start`: where the model's view of the chat starts now
        (Agent.render_prompt moves it when the chat outgrows the context) for a prompt of
        `budget` tokens, kept for reopening."""
        _TURNS_HERE.discard((str(self.path), sid))
        meta = self._session_meta(sid)
        moved = view_start is not None and (meta.get("view", 0), meta.get("view_budget")) != (view_start, budget)
        if moved:
            meta["view"], meta["view_budget"] = view_start, budget
        if meta.pop("turn", None) is not None or moved:
            self._run("UPDATE sessions SET meta=? WHERE id=?", (_json(meta), sid))

    def view_start(self, sid: str) -> tuple[int, int | None]:
        """Where the model's view of `sid` started when its last turn ended (0: the whole chat),
        and for what room (tokens; None: not known)."""
        meta = self._session_meta(sid)
        view, budget = meta.get("view", 0), meta.get("view_budget")
        view = view if isinstance(view, int) and view >= 0 else 0
        return view, budget if isinstance(budget, int) and budget > 0 else None

    def turn_running(self, sid: str) -> bool:
        """Whether a live process (this one or another on this machine) runs a turn in `sid`.

        Another machine's turn counts as running: thau cannot tell whether it is alive.
        """
        return self.turn_state(sid) in ("running", "other host")

    def turn_state(self, sid: str) -> str:
        """Whose turn mark `sid` carries: "" (none), "running" (a live process on this machine,
        this one included), "left" (its process is gone: a crash) or "other host" (unknown)."""
        owner = self._session_meta(sid).get("turn")
        if not isinstance(owner, dict):
            return ""
        if owner.get("host") != socket.gethostname():
            return "other host"
        pid = owner.get("pid")
        if pid == os.getpid():
            return "running" if (str(self.path), sid) in _TURNS_HERE else "left"
        return "running" if isinstance(pid, int) and _alive(pid) else "left"

    def get_session(self, sid: str) -> SessionInfo | None:
        row = self._one(
            "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id=s.id) AS n FROM sessions s WHERE id=?",
            (sid,),
        )
        return self._info(row) if row else None

    @staticmethod
    def _info(row: sqlite3.Row) -> SessionInfo:
        return SessionInfo(row["id"], row["title"], row["created"], row["updated"], row["model"] or "", row["n"])

    def list_sessions(self, search: str = "", limit: int = 200) -> list[SessionInfo]:
        """Newest first; `search` matches titles and message text."""
        sql = "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id=s.id) AS n FROM sessions s"
        args: tuple[Any, ...] = ()
        if search:  # what was typed, literally: % and _ matched every chat (review)
            clause, args = chat_search.search_clause(search)  # casefolded: "STRASSE" finds "Straße"
            sql += f" WHERE {clause}"
        sql += " ORDER BY s.updated DESC LIMIT ?"
        return [self._info(r) for r in self._run(sql, args + (limit,))]

    def last_session(self) -> SessionInfo | None:
        """The newest chat with a message (--resume): an empty one a killed window left (Ctrl+N,
        then the terminal closed) was reopened instead of the chat before it (soak review)."""
        row = self._one(
            "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id=s.id) AS n FROM sessions s"
            " WHERE EXISTS (SELECT 1 FROM messages m WHERE m.session_id=s.id) ORDER BY s.updated DESC LIMIT 1"
        )
        return self._info(row) if row is not None else None

    # --- messages ----------------------------------------------------------------
    def add_message(self, sid: str, role: str, content: str, meta: dict[str, Any] | None = None) -> int:
        now = time.time()
        with self._transaction() as db:
            # A chat deleted in another window took its rows, and this one went on writing
            # messages no chat holds, none of them reachable again (crash review).
            if db.execute("UPDATE sessions SET updated=? WHERE id=?", (now, sid)).rowcount == 0:
                raise StoreError(DELETED, "deleted", self.path)
            seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE session_id=?", (sid,)).fetchone()[0]
            cur = db.execute(
                "INSERT INTO messages(session_id, seq, role, content, created, meta) VALUES (?,?,?,?,?,?)",
                (sid, seq, role, storable(content), now, _json(meta or {})),
            )
        if cur.lastrowid is None:  # never after an INSERT
            raise StoreError("the new message has no row id")
        return cur.lastrowid

    def update_message(self, message_id: int, content: str, meta: dict[str, Any] | None = None) -> None:
        """Replace a message's text and meta in place (the answer growing as it streams)."""
        self._run(
            "UPDATE messages SET content=?, meta=? WHERE id=?", (storable(content), _json(meta or {}), message_id)
        )

    def messages(self, sid: str) -> list[dict[str, Any]]:
        """The session's messages in order: id, role, content and meta.

        meta["interrupted"] is true for an answer that was still being written when thau
        stopped (saved as it grew), and for the tool result thau gave the model in place
        of a call that a crash interrupted.
        """
        rows = self._run("SELECT * FROM messages WHERE session_id=? ORDER BY seq", (sid,))
        return [{"id": r["id"], "role": r["role"], "content": r["content"], "meta": _meta(r["meta"])} for r in rows]

    # --- tool calls and decisions --------------------------------------------------
    def record_call(
        self,
        sid: str,
        call_id: str,
        name: str,
        arguments: Any,
        status: str,
        message_id: int | None = None,
        result: str | None = None,
    ) -> None:
        """Insert or update a call. A running call's `result` holds its output so far."""
        now = time.time()
        self._run(
            "INSERT INTO tool_calls(id, session_id, message_id, name, arguments, status, result, created, updated)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status,"
            " arguments=excluded.arguments,"  # what ran: the user may have edited the call
            " result=COALESCE(excluded.result, tool_calls.result), updated=excluded.updated",
            (
                call_id,
                sid,
                message_id,
                storable(name),
                _json(arguments),
                status,
                None if result is None else storable(result),
                now,
                now,
            ),
        )

    def interrupt_calls(self, sid: str) -> list[dict[str, Any]]:
        """Mark the session's calls left `proposed` or `running` as `interrupted`; return them
        as they were (their old status, and any output captured so far in `result`)."""
        with self._transaction() as db:
            rows = [
                dict(r)
                for r in db.execute(
                    "SELECT * FROM tool_calls WHERE session_id=? AND status IN ('proposed','running') ORDER BY created",
                    (sid,),
                ).fetchall()
            ]
            db.execute(
                "UPDATE tool_calls SET status='interrupted', updated=? "
                "WHERE session_id=? AND status IN ('proposed','running')",
                (time.time(), sid),
            )
        return rows

    def record_decision(
        self, sid: str, call_id: str, kind: str, by: str = "user", reason: str | None = None, arguments: Any = None
    ) -> None:
        self._run(
            "INSERT INTO decisions(session_id, call_id, kind, by, reason, arguments, created) VALUES (?,?,?,?,?,?,?)",
            (
                sid,
                call_id,
                kind,
                storable(by),
                None if reason is None else storable(reason),
                _json(arguments) if arguments is not None else None,
                time.time(),
            ),
        )

    def tool_calls(self, sid: str) -> list[dict[str, Any]]:
        """The session's calls, oldest first. `status` is proposed, invalid, denied, cancelled,
        running, done, failed or interrupted (thau stopped while it waited or ran; `result`
        then holds the output captured before it stopped)."""
        rows = self._run("SELECT * FROM tool_calls WHERE session_id=? ORDER BY created", (sid,))
        return [dict(r) for r in rows]

    def decisions(self, sid: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT * FROM decisions WHERE session_id=? ORDER BY id", (sid,))
        return [dict(r) for r in rows]

    # --- export ------------------------------------------------------------------
    def iter_all_sessions(self) -> Iterator[SessionInfo]:
        yield from self.list_sessions(limit=1_000_000)


def _meta(text: str | None) -> dict[str, Any]:
    try:
        meta = json.loads(text or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
