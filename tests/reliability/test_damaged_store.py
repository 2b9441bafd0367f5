"""A chats database that is damaged, locked, read-only or from a newer thau: each says what
is wrong, and the app keeps running (review). Before, a damaged page in one chat ended the
app when that chat was opened (a raw DatabaseError from a fetch outside the store's error
handling), and a database another program held locked, or one a newer thau made, ended it at
start with a traceback."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import pytest
from scripted import ScriptedBackend
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store, StoreError
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import UserMessage

PAGE = 4096


def long_chat(path) -> str:
    store = Store(path)
    sid = store.create_session("long chat")
    for i in range(60):
        store.add_message(sid, "user" if i % 2 == 0 else "assistant", f"message {i} " + "x" * 3000)
    store.create_session("another chat")
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return sid


def damaged_copies(path, tmp_path):
    """Copies of the database, each with one page of the chat's messages overwritten."""
    pages = path.stat().st_size // PAGE
    for page in range(2, pages):
        copy = tmp_path / f"damaged-{page}.sqlite3"
        shutil.copy(path, copy)
        with open(copy, "r+b") as handle:
            handle.seek(page * PAGE)
            handle.write(b"\xa5" * PAGE)
        yield copy


def test_a_damaged_page_gives_a_store_error_never_a_raw_one(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    sid = long_chat(path)
    refused = 0
    for copy in damaged_copies(path, tmp_path):
        try:
            store = Store(copy)
        except StoreError:
            refused += 1
            continue
        for read, args in ((store.messages, (sid,)), (store.list_sessions, ()), (store.tool_calls, (sid,))):
            try:
                read(*args)
            except StoreError as exc:
                assert "thau salvage" in str(exc), str(exc)
                refused += 1
        store.close()
    assert refused > 10


def app_on(store: Store, tmp_path, resume: bool = False) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    return ThauApp(ConfigResult(config, None, []), resume=resume, store=store, backend=ScriptedBackend([]), watch=False)


async def test_opening_a_damaged_chat_says_so_and_the_app_goes_on(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    sid = long_chat(path)
    copy = next(c for c in damaged_copies(path, tmp_path) if _damaged_read(c, sid))
    app = app_on(Store(copy), tmp_path)
    async with app.run_test(notifications=True) as pilot:
        await pilot.press(*"draft", "enter")
        await wait_until(pilot, lambda: app.query(UserMessage))
        await app.open_session(sid)
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("malformed" in note and "stays open" in note for note in notes), notes
        assert app.is_running and app.query(UserMessage).last().text == "draft"


def _damaged_read(path, sid) -> bool:
    """Whether SQLite finds the damage only while it fetches the chat's rows (the case that
    ended the app), not at the query itself."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT * FROM messages WHERE session_id=? ORDER BY seq", (sid,))
    except sqlite3.DatabaseError:
        return False
    try:
        rows.fetchall()
    except sqlite3.DatabaseError:
        return True
    finally:
        db.close()
    return False


async def test_a_database_a_newer_thau_made_is_named_as_such(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE decisions")  # a newer format without it: left as it is
    db.close()
    with pytest.raises(StoreError, match="made by a newer thau .format 99"):
        Store(path)
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "decisions" not in tables


async def test_a_locked_database_at_start_runs_the_chat_unsaved_and_says_why(tmp_path):
    path = tmp_path / "sessions.sqlite3"
    store = Store(path)
    holder = subprocess.Popen(  # another program holds a write lock for longer than SQLite waits
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "db.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        app = app_on(store, tmp_path)
        async with app.run_test(notifications=True) as pilot:
            await wait_until(pilot, lambda: app._notifications, timeout=20)
            notes = [(n.title, n.message) for n in app._notifications]
            assert any(title == "chats are not being saved" and "locked" in text for title, text in notes), notes
            assert app.is_running and app.session.id.startswith("unsaved-")
    finally:
        holder.kill()
        holder.wait()


def test_salvage_keeps_every_row_it_can_read_and_the_damaged_file(tmp_path, monkeypatch):
    """The advice was `sqlite3 FILE .recover | sqlite3 ...`, and Debian's sqlite3 has no
    .recover: the pipe made an empty database (crash review). `thau salvage` copies what can be
    read into a new database in its place and keeps the damaged file beside it."""
    from thau_tui.engine.store_salvage import salvage

    path = tmp_path / "sessions.sqlite3"
    sid = long_chat(path)
    whole = salvage(path)  # an undamaged file: everything, as it was
    assert whole.rows == {"sessions": 2, "messages": 60, "tool_calls": 0, "decisions": 0}
    assert sum(whole.lost.values()) == 0 and not whole.unreadable and whole.damaged.exists()
    assert [m["content"][:10] for m in Store(path).messages(sid)] == [f"message {i} "[:10] for i in range(60)]
    kept = []
    for copy in damaged_copies(path, tmp_path):
        try:
            done = salvage(copy)
        except sqlite3.DatabaseError:
            continue  # a page the file cannot be opened without
        store = Store(copy)  # opens, and every read works
        messages = store.messages(sid)
        assert len(messages) == done.rows["messages"]
        assert len(messages) == 60 or "messages" in done.unreadable  # a loss is always said
        assert done.damaged.exists()
        assert all(m["content"].startswith("message ") for m in messages)
        assert store.list_sessions()
        kept.append(len(messages))
        store.close()
    assert kept and max(kept) >= 55 and min(kept) < 60  # most rows kept; a damaged page's rows lost


def test_thau_salvage_from_the_command_line(tmp_path):
    path = tmp_path / "home" / "data" / "sessions.sqlite3"
    path.parent.mkdir(parents=True)
    long_chat(path)
    code = "import sys\nfrom thau_tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"

    def salvage(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", code, "salvage", *flags],
            capture_output=True,
            text=True,
            timeout=120,
            env={**__import__("os").environ, "THAU_HOME": str(tmp_path / "home")},
        )

    # A window with the database open: salvage went on, and the window then wrote into the
    # renamed file and said the chats were gone (first-hour review)
    window = Store(path)
    done = salvage("--force")
    assert done.returncode == 2 and "has " in done.stderr and "open: close it" in done.stderr, done.stderr
    assert not list(path.parent.glob("*.damaged-*"))
    window.close()
    # A healthy file is not swapped for a copy unless asked
    done = salvage()
    assert done.returncode == 2 and "passes SQLite's integrity check: nothing to salvage" in done.stderr
    assert not list(path.parent.glob("*.damaged-*"))
    done = salvage("--force")
    assert done.returncode == 0, done.stderr
    assert "2 chats, 60 messages, 0 tool calls" in done.stdout and "every row could be read" in done.stdout
    assert "the file as it was is kept as" in done.stdout
    damaged = [p for p in path.parent.glob("sessions.sqlite3.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(damaged) == 1 and Store(path).list_sessions()
    # A database that is a link elsewhere: the link was renamed and a new local file took its
    # place, so chats went on being saved apart from the file the link named (attacker review)
    elsewhere = tmp_path / "elsewhere" / "sessions.sqlite3"
    elsewhere.parent.mkdir()
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    done = salvage("--force")
    assert done.returncode == 2 and f"is a link to {elsewhere}" in done.stderr, done.stderr
    assert path.is_symlink() and path.resolve() == elsewhere


def test_salvage_walks_by_row_id_and_refuses_what_is_not_thaus(tmp_path, monkeypatch):
    """Re-review: a row id of 2**62 made salvage count every id up to it (it never ended); a
    file that is not SQLite, or SQLite of another program, took minutes and was swapped for
    an empty database; rows with negative ids were skipped; a copy that failed (a full disk)
    left its partial file and wrong advice."""
    import time

    from thau_tui.engine import store_salvage
    from thau_tui.engine.store_salvage import SalvageError, salvage

    path = tmp_path / "sessions.sqlite3"
    sid = long_chat(path)
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute(
        "INSERT INTO messages(id, session_id, seq, role, content, created, meta) VALUES (?,?,?,?,?,?,?)",
        (2**62, sid, 60, "user", "far away", 0.0, "{}"),
    )
    db.execute(
        "INSERT INTO messages(id, session_id, seq, role, content, created, meta) VALUES (?,?,?,?,?,?,?)",
        (-5, sid, -1, "user", "below zero", 0.0, "{}"),
    )
    db.close()
    started = time.monotonic()
    done = salvage(path)
    assert time.monotonic() - started < 10 and done.rows["messages"] == 62 and not done.unreadable
    contents = [m["content"] for m in Store(path).messages(sid)]
    assert "far away" in contents and "below zero" in contents

    for name, content in (("junk.sqlite3", b"\x00" * 100_000), ("other.sqlite3", None)):
        other = tmp_path / name
        if content is None:
            conn = sqlite3.connect(str(other))
            conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)")
            conn.execute("INSERT INTO notes(text) VALUES ('mine')")
            conn.commit()
            conn.close()
        else:
            other.write_bytes(content)
        before = other.read_bytes()
        started = time.monotonic()
        with pytest.raises(SalvageError) as refused:
            salvage(other)
        assert time.monotonic() - started < 5 and other.read_bytes() == before
        assert "not" in str(refused.value) and not list(tmp_path.glob(f"{name}.*"))

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    long_chat(tmp_path / "full.sqlite3")
    monkeypatch.setattr(store_salvage, "_copy_table", full)
    with pytest.raises(SalvageError) as refused:
        salvage(tmp_path / "full.sqlite3")
    assert "the disk is full" in str(refused.value) and "nothing was changed" in str(refused.value)
    # no partial copy left, nothing renamed (full.sqlite3.open is the file stores lock while open)
    assert [p.name for p in tmp_path.glob("full.sqlite3.*")] == ["full.sqlite3.open"]


def test_a_store_opened_while_salvage_runs_is_refused_not_split(tmp_path):
    """thau -m started while thau salvage copied a large file opened the database without a word,
    wrote into the file being renamed, and the chat ended up split between the old file and
    the new (re-review)."""
    from thau_tui.engine.store_errors import take_alone

    path = tmp_path / "sessions.sqlite3"
    long_chat(path)
    alone = take_alone(path)  # as thau salvage holds it while it copies and renames
    assert alone is not None
    try:
        with pytest.raises(StoreError) as refused:
            Store(path)
        assert refused.value.kind == "busy" and "thau salvage is rebuilding" in str(refused.value)
    finally:
        alone.close()
    Store(path).close()  # once salvage is done, it opens


def test_a_fifo_or_a_link_at_the_lock_mark_neither_hangs_nor_writes_elsewhere(tmp_path):
    """A FIFO at sessions.sqlite3.open hung thau at start without a word (the mark was opened
    to append, which waits for a reader); a dangling link there made its target (attacker
    review). The same for a training run's .trainer."""
    import os

    from thau_tui.engine.store_errors import open_mark
    from thau_tui.train.checkpoints import alone_in

    path = tmp_path / "sessions.sqlite3"
    os.mkfifo(open_mark(path))
    code = f"from thau_tui.engine.store import Store; Store({str(path)!r}).close(); print('opened')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "opened", done.stderr[-400:]
    open_mark(path).unlink()
    target = tmp_path / "elsewhere" / "made.txt"
    target.parent.mkdir()
    open_mark(path).symlink_to(target)
    Store(path).close()
    assert not target.exists()
    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / ".trainer")
    code = "from pathlib import Path; from thau_tui.train.checkpoints import alone_in\n"
    code += f"with alone_in(Path({str(run)!r})): pass"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "not a plain file" in done.stderr, done.stderr[-400:]
    (run / ".trainer").unlink()
    (run / ".trainer").symlink_to(target)
    with pytest.raises(OSError, match="not a plain file"):
        with alone_in(run):
            pass
    assert not target.exists()


def test_salvage_reads_a_file_cut_short_whose_chats_are_still_there(tmp_path):
    """A database cut in half (its header counts more pages than it holds): salvage said "the
    list of tables cannot be read ... nothing can be salvaged", yet every chat and message was
    still in the half that was left (reliability review)."""
    from thau_tui.engine.store_salvage import salvage

    path = tmp_path / "sessions.sqlite3"
    store = Store(path)
    for chat in range(3):
        sid = store.create_session(f"chat {chat}")
        for i in range(3 + chat // 2):
            store.add_message(sid, "user" if i % 2 == 0 else "assistant", f"chat {chat} message {i}")
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2 + 100)
    done = salvage(path)
    assert done.rows["sessions"] == 3 and done.rows["messages"] == 10, (size, done.rows, done.unreadable)
    again = Store(path)
    assert sorted(s.title for s in again.list_sessions()) == ["chat 0", "chat 1", "chat 2"]
    again.close()
