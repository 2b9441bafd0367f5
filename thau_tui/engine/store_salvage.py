"""`thau salvage`: what can still be read of a damaged chat database, copied into a new one.

The advice thau gave for a damaged database was `sqlite3 FILE .recover | sqlite3 ...`, and
the sqlite3 program Debian and Ubuntu ship has no `.recover` (it lacks sqlite_dbpage): the
pipe made an empty database (crash review). Here Python's own sqlite3 reads the damaged file
read-only, in row-id order, a few rows at a time where a chunk fails and past a stretch it
cannot read, into a fresh database with thau's schema; the damaged file is kept beside it
under another name, never deleted. A file that is not thau's database is refused before
anything is renamed, and a copy that fails (a full disk) is removed, the original untouched.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store import Store
from .store_errors import StoreError, open_mark

TABLES = ("sessions", "messages", "tool_calls", "decisions")
CHUNK = 256  # rows read in one query; a chunk that fails is read again in smaller ones
LOWEST, HIGHEST = -(2**63), 2**63 - 1  # SQLite's row ids


class SalvageError(Exception):
    """Nothing was salvaged, and nothing was renamed: the message says why and what to do."""


@dataclass
class Salvaged:
    path: Path  # the database in use now: what could be read
    damaged: Path  # where the damaged file was moved
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    lost: dict[str, int] = field(default_factory=dict)  # table -> row ids skipped over damage (about)
    unreadable: list[str] = field(default_factory=list)  # tables where some rows could not be read


def _read(source: sqlite3.Connection, select: str, after: int) -> list[tuple[Any, ...]] | None:
    """The rows after row id `after`, as many as can be read at once; None when not even the
    next one can."""
    for limit in (CHUNK, 16, 1):
        try:
            return source.execute(select, (after, limit)).fetchall()
        except sqlite3.DatabaseError:
            continue
    return None


def _past_damage(source: sqlite3.Connection, select: str, after: int) -> int | None:
    """The lowest row id past `after` from which rows can be read again (found by doubling
    the jump, then halving back), or None when nothing after it can be."""
    step = 1
    while after + step < HIGHEST and _read(source, select, after + step) is None:
        step *= 2
    if after + step >= HIGHEST:
        return None
    low, high = after + step // 2, after + step  # unreadable from low (or low is `after`), readable from high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _read(source, select, middle) is not None else (middle, high)
    return high


def _copy_table(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> tuple[int, int, bool]:
    """(rows copied, row ids skipped over damage, whether any damage was met): walked in
    row-id order, never by counting ids one by one (a row id of 2**62 made that endless:
    re-review)."""
    columns = [row[1] for row in target.execute(f"PRAGMA table_info({table})")]
    insert = f"INSERT OR IGNORE INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    select = f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    copied = lost = 0
    damaged = False
    try:  # where the walk starts: just below the first row (negative row ids too)
        first = source.execute(f"SELECT MIN(rowid) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        first, damaged = None, True
    after = LOWEST if first is None or first <= LOWEST else first - 1
    if first is None:  # unreadable or empty: jumps from 0 find the rows of an ordinary table
        after = 0
    while True:
        rows = _read(source, select, after)
        if rows is None:
            damaged = True
            resume = _past_damage(source, select, after)
            if resume is None:
                break
            rows = _read(source, select, resume) or []
            lost += (rows[0][0] - after - 1) if rows else 0
        if not rows:
            break
        target.executemany(insert, [row[1:] for row in rows])
        copied += len(rows)
        after = rows[-1][0]
    return copied, lost, damaged


def _read_only(path: Path) -> sqlite3.Connection:
    """The damaged file, read only. writable_schema: a file cut short (its header counts more
    pages than it holds) refused even its list of tables, "database disk image is malformed",
    and salvage said nothing could be saved though every chat was still readable
    (reliability review). It skips that check; nothing is written through this connection."""
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    source.execute("PRAGMA writable_schema=ON")
    return source


def _tables(path: Path) -> list[str]:
    """thau's tables the file holds; SalvageError when it is not a database thau made."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise SalvageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if header != b"SQLite format 3\x00":
        raise SalvageError(f"{path} is not an SQLite database at all; move it away and thau starts a new one")
    try:
        source = _read_only(path)
        try:
            found = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise SalvageError(
            f"the list of tables in {path} cannot be read ({exc}): nothing can be salvaged; "
            "move it away and thau starts a new one"
        ) from exc
    tables = [table for table in TABLES if table in found]
    if "sessions" not in tables and "messages" not in tables:
        raise SalvageError(f"{path} is not thau's chat database (it has no sessions or messages table); left as it is")
    return tables


def looks_healthy(path: Path) -> str:
    """What SQLite's own check says of a file it finds nothing wrong with; "" when it finds
    damage or cannot run (then salvage is what to do)."""
    try:
        _tables(path)  # thau's own file, or salvage says what it is
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = source.execute("PRAGMA integrity_check(1)").fetchone()
        finally:
            source.close()
    except (sqlite3.Error, SalvageError, OSError):
        return ""
    return "passes SQLite's integrity check" if verdict and verdict[0] == "ok" else ""


def salvage(path: Path) -> Salvaged:
    """Copy what can be read of the database at `path` into a new file, then put the new file
    in its place and the damaged one beside it (`NAME.damaged-TIME`). SalvageError, with
    nothing renamed and no copy left behind, when that cannot be done."""
    tables = _tables(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = path.with_name(f"{path.name}.salvaged-{stamp}")
    result = Salvaged(path, path.with_name(f"{path.name}.damaged-{stamp}"))
    try:
        Store(fresh).close()  # thau's schema, nothing in it
        open_mark(fresh).unlink(missing_ok=True)  # its lock file: nobody else knows of the copy
        source = _read_only(path)
        target = sqlite3.connect(str(fresh), isolation_level=None)
        try:
            target.execute("BEGIN")
            for table in tables:
                result.rows[table], result.lost[table], damaged = _copy_table(source, target, table)
                if damaged:
                    result.unreadable.append(table)
            target.execute("COMMIT")
        finally:
            source.close()
            target.close()
    except (OSError, sqlite3.Error, StoreError) as exc:
        for leftover in (fresh, *(fresh.with_name(fresh.name + end) for end in ("-wal", "-shm", ".open"))):
            if leftover.is_file():
                leftover.unlink()
        full = "full" in str(exc).lower() or getattr(exc, "kind", "") == "full"
        why = (
            f"the disk is full: the copy needs room beside {path.name} (about {path.stat().st_size // 2**20 + 1} MB)"
            if full
            else f"the copy could not be written ({exc})"
        )
        raise SalvageError(f"{why}; nothing was changed, {path} is as it was") from exc
    path.rename(result.damaged)
    for suffix in ("-wal", "-shm"):  # the damaged file's journal goes with it
        journal = path.with_name(path.name + suffix)
        if journal.exists():
            journal.rename(result.damaged.with_name(result.damaged.name + suffix))
    fresh.rename(path)
    return result
