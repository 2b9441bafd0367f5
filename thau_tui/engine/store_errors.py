"""StoreError, the one error the store raises, and what it says: what failed, and what to do."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import IO


class StoreError(Exception):
    """A database operation failed; the message says what and what to do about it.

    `kind` is "full" (the disk is full), "unwritable" (permissions, read-only, a file or
    folder in the way), "busy" (another program holds the database locked), "deleted" (the
    chat written to is gone), "gone" (the database file itself) or "failed" (anything else:
    a damaged file, one a newer thau made).
    """

    def __init__(self, message: str, kind: str = "failed", path: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path

    def unsaved(self, what: str) -> str:
        """One line for the user: `what` (e.g. "the answer") was not saved, why, what to do."""
        folder = self.path.parent if self.path else "thau's data dir"
        if self.kind == "full":
            return f"disk full: {what} was not saved (free some space on the disk that holds {folder})"
        if self.kind == "unwritable":
            return f"{what} was not saved: cannot write {folder}; set THAU_HOME or fix the permissions"
        if self.kind == "busy":
            return f"{what} was not saved: {BUSY}"
        if self.kind == "deleted":
            return f"{what} was not saved: {DELETED}"
        if self.kind == "gone":
            return f"{what} was not saved: {self}"
        return f"{what} was not saved: {self}"


DELETED = "this chat was deleted (in another thau window); nothing more of it is saved: Ctrl+N starts a new chat"
GONE = (
    "thau's chat database {path} was deleted or replaced while thau ran, so nothing more is saved; "
    "Ctrl+E exports this chat now, and thau starts a new database when it starts again"
)
SALVAGE = "to keep what can still be read, quit thau and run `thau salvage` (the damaged file is kept beside it)"
BUSY = "another program holds thau's chat database locked (another thau window saving, a backup); retry or close it"


_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL, which Python 3.10 does not have


def sqlite_kind(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL:
        return "full"
    if "disk is full" in text or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return "full"
    if "readonly" in text or "read-only" in text or "unable to open" in text or isinstance(exc, PermissionError):
        return "unwritable"
    if "database is locked" in text or "database table is locked" in text or "busy" in text:
        return "busy"
    return "failed"


def read_only(folder: Path) -> bool:
    """Whether `folder` is on a file system mounted read-only (the advice differs: crash review)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def open_mark(path: Path) -> Path:
    """The file a store holds a shared lock on while open (`hold_open`), beside the database."""
    return path.with_name(path.name + ".open")


def hold_open(path: Path) -> IO[str] | None:
    """A shared lock on `open_mark(path)` for as long as the returned file stays open; None where
    it cannot be had (no fcntl, a read-only folder): a store opens without it. StoreError (busy)
    while `thau salvage` holds it alone: the database is being renamed and rebuilt."""
    try:
        return _lock_mark(path, exclusive=False)
    except BlockingIOError:
        raise StoreError(
            f"thau salvage is rebuilding the chat database {path}: try again when it has finished", "busy", path
        ) from None


def take_alone(path: Path) -> IO[str] | None:
    """An exclusive lock on `open_mark(path)`, held until the returned file is closed; raises
    BlockingIOError while any store (a thau window, thau -m) has the database open. None where
    locks cannot be had."""
    return _lock_mark(path, exclusive=True)


def _lock_mark(path: Path, exclusive: bool) -> IO[str] | None:
    """`open_mark(path)` open and locked, never waiting: BlockingIOError while another holds it
    the other way; None where locks are not to be had (not POSIX, a read-only folder, some
    network file systems)."""
    try:
        import fcntl
    except ImportError:
        return None
    from ..paths import open_for_writing

    try:  # never through a link, nor waiting on a FIFO planted there (thau hung at start: attacker review)
        handle = open_for_writing(open_mark(path), append=True)
    except OSError:
        return None
    try:
        fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise
    except OSError:
        handle.close()
        return None
    return handle
