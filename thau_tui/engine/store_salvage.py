"""`thau salvage`: what can still be read of a damaged chat database, copied into a new one.

The advice thau gave for a damaged database was `sqlite3 FILE .recover | sqlite3 ...`, and
the sqlite3 program Debian and Ubuntu ship has no `.recover` (it lacks sqlite_dbpage): the
pipe made an empty database (crash review). Here Python's own sqlite3 reads the damaged file
read-only, row by row where a range of rows fails, into a fresh database with thau's schema;
the damaged file is kept beside it under another name, never deleted.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from .store import Store

TABLES = ("sessions", "messages", "tool_calls", "decisions")
CHUNK = 256  # rows read in one query; a range that fails is read again one row at a time
MAX_PROBES = 2_000_000  # row ids tried at most in a table whose largest id cannot be read


@dataclass
class Salvaged:
    path: Path  # the database in use now: what could be read
    damaged: Path  # where the damaged file was moved
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    lost: dict[str, int] = field(default_factory=dict)  # table -> row ids that could not be read


def _largest_id(db: sqlite3.Connection, table: str) -> int:
    for sql in (f"SELECT MAX(rowid) FROM {table}", f"SELECT seq FROM sqlite_sequence WHERE name='{table}'"):
        try:
            row = db.execute(sql).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row and row[0] is not None:
            return int(row[0])
    return MAX_PROBES


def _copy_table(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> tuple[int, int]:
    """(rows copied, row ids in ranges that failed and could not be read one by one)."""
    columns = [row[1] for row in target.execute(f"PRAGMA table_info({table})")]
    insert = f"INSERT OR IGNORE INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE rowid BETWEEN ? AND ?"
    copied = lost = 0
    largest = _largest_id(source, table)
    for start in range(0, largest + 1, CHUNK):
        try:
            rows = source.execute(select, (start, start + CHUNK - 1)).fetchall()
        except sqlite3.DatabaseError:
            rows = []
            for rowid in range(start, start + CHUNK):
                try:
                    rows += source.execute(select, (rowid, rowid)).fetchall()
                except sqlite3.DatabaseError:
                    lost += 1
        copied += target.executemany(insert, rows).rowcount
    return copied, lost


def salvage(path: Path) -> Salvaged:
    """Copy what can be read of the database at `path` into a new file, then put the new file
    in its place and the damaged one beside it (`NAME.damaged-TIME`). Raises OSError or
    sqlite3.Error when the file cannot be opened at all."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = path.with_name(f"{path.name}.salvaged-{stamp}")
    Store(fresh).close()  # thau's schema, nothing in it
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(str(fresh), isolation_level=None)
    result = Salvaged(path, path.with_name(f"{path.name}.damaged-{stamp}"))
    try:
        target.execute("BEGIN")
        for table in TABLES:
            result.rows[table], result.lost[table] = _copy_table(source, target, table)
        target.execute("COMMIT")
    finally:
        source.close()
        target.close()
    path.rename(result.damaged)
    for suffix in ("-wal", "-shm"):  # the damaged file's journal goes with it
        journal = path.with_name(path.name + suffix)
        if journal.exists():
            journal.rename(result.damaged.with_name(result.damaged.name + suffix))
    fresh.rename(path)
    return result
