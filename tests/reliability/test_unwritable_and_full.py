"""An unwritable data dir and a full disk: a plain message that names the folder and what to
do, no traceback, and a turn that still ends."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import Error, TextDelta, TurnDone
from thau_tui.engine.store import Store, StoreError
from thau_tui.tools import ToolRegistry

ROOT = Path(__file__).resolve().parents[2]
DISK_FULL = sqlite3.OperationalError("database or disk is full")


class FullDisk:
    """A real connection whose writes fail like SQLite's on a full disk, once `full` is set."""

    WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN", "CREATE", "REPLACE")

    def __init__(self, db: sqlite3.Connection, full: bool = False) -> None:
        self._db, self.full = db, full

    def execute(self, sql: str, args=()):
        if self.full and sql.lstrip().upper().startswith(self.WRITES):
            raise DISK_FULL
        return self._db.execute(sql, args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def thau(*args: str, home: Path, prelude: str = "", timeout: int = 300) -> subprocess.CompletedProcess:
    """`thau ARGS` in a child process with THAU_HOME=home; `prelude` runs first (to fill the disk)."""
    code = f"import sys\n{prelude}\nfrom thau_tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    env = {**os.environ, "THAU_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )


def small_config(tmp_path: Path) -> str:
    config = tmp_path / "config.yaml"
    config.write_text("generation:\n  max_tokens: 16\n  temperature: 0.0\n")
    return str(config)


def test_message_with_a_file_where_the_data_dir_should_be(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "data").write_text("not a folder")
    done = thau("--config", small_config(tmp_path), "--message", "hi", home=home)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot write thau's data dir {home / 'data'}" in done.stderr
    assert "a file is in the way" in done.stderr and "THAU_HOME" in done.stderr


def test_message_with_a_folder_where_the_database_should_be(tmp_path):
    home = tmp_path / "home"
    (home / "data" / "sessions.sqlite3").mkdir(parents=True)
    done = thau("--config", small_config(tmp_path), "--message", "hi", home=home)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot write thau's data dir {home / 'data'}" in done.stderr
    assert "a folder is where the database file should be" in done.stderr and "THAU_HOME" in done.stderr


def test_message_with_a_data_dir_nobody_may_write(tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data").chmod(0)
    try:
        if os.geteuid() == 0:  # root writes through chmod 000: make the folder read-only for real
            assert shutil.which("bwrap"), "this test needs bubblewrap when run as root (CI installs it)"
            data = str(home / "data")
            code = "import sys\nfrom thau_tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"
            done = subprocess.run(
                [
                    "bwrap",
                    "--bind",
                    "/",
                    "/",
                    "--dev",
                    "/dev",
                    "--proc",
                    "/proc",
                    "--ro-bind",
                    data,
                    data,
                    sys.executable,
                    "-c",
                    code,
                    "--config",
                    small_config(tmp_path),
                    "--message",
                    "hi",
                ],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "THAU_HOME": str(home)},
                cwd=ROOT,
            )
        else:
            done = thau("--config", small_config(tmp_path), "--message", "hi", home=home)
    finally:
        (home / "data").chmod(0o755)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"cannot write thau's data dir {home / 'data'}" in done.stderr and "THAU_HOME" in done.stderr
    assert "free some disk space" not in done.stderr  # that advice was for a full disk (crash review)
    if os.geteuid() == 0:  # a read-only mount is named as such, not "permission denied"
        assert "its file system is read-only" in done.stderr, done.stderr


def test_a_full_disk_at_open_says_to_free_space(tmp_path):
    """The advice for a full disk at open said to fix the permissions, and the one for a
    folder nobody may write said to free disk space: swapped (crash review)."""
    store = Store.__new__(Store)
    store.path = tmp_path / "data" / "sessions.sqlite3"
    store.path.parent.mkdir()
    error = store._open_error(sqlite3.OperationalError("database or disk is full"))
    assert error.kind == "full" and "the disk is full" in str(error) and "free some disk space" in str(error)
    assert "permissions" not in str(error)


async def test_a_chat_deleted_in_another_window_is_not_written_to_and_the_user_is_told(tmp_path):
    """Window A kept writing to a chat window B had deleted: its messages went into rows no
    chat holds, none of them reachable again, and nothing said so (crash review)."""
    path = tmp_path / "db.sqlite3"
    here, there = Store(path), Store(path)
    agent = Agent(Config(), ToolRegistry(), store=here, backend=ScriptedBackend(["one", "two"]), workspace=tmp_path)
    session = agent.new_session()
    async for _ in agent.run_turn(session, "first"):
        pass
    there.delete_session(session.id)  # the other window
    events = [event async for event in agent.run_turn(session, "Remember: the code word is PINEAPPLE.")]
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and "this chat was deleted" in errors[0] and "Ctrl+N" in errors[0], errors
    assert isinstance(events[-1], TurnDone)  # the turn itself goes on
    orphans = here._db.execute("SELECT COUNT(*) FROM messages WHERE session_id=?", (session.id,)).fetchone()[0]
    assert orphans == 0
    with pytest.raises(StoreError) as raised:
        here.add_message(session.id, "user", "again")
    assert raised.value.kind == "deleted"


def test_message_on_a_full_disk(tmp_path):
    prelude = (
        "import sqlite3\n"
        "from thau_tui.engine import store\n"
        "class FullDiskStore(store.Store):\n"
        "    def __init__(self, path):\n"
        "        super().__init__(path)\n"
        "        db = self._db\n"
        "        class Full:\n"
        "            def execute(self, sql, args=()):\n"
        "                if sql.lstrip().upper().startswith(('INSERT', 'UPDATE', 'BEGIN')):\n"
        "                    raise sqlite3.OperationalError('database or disk is full')\n"
        "                return db.execute(sql, args)\n"
        "            def __getattr__(self, name):\n"
        "                return getattr(db, name)\n"
        "        self._db = Full()\n"
        "store.Store = FullDiskStore\n"
    )
    home = tmp_path / "home"
    done = thau("--config", small_config(tmp_path), "--message", "hi", home=home, prelude=prelude)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert "disk full" in done.stderr and str(home / "data") in done.stderr and "free some space" in done.stderr


async def test_a_full_disk_mid_answer_says_the_answer_was_not_saved_and_the_turn_ends(tmp_path, monkeypatch):
    from thau_tui.engine import saving

    monkeypatch.setattr(saving, "RETRY_S", 0.0)  # the next turn tries again at once
    store = Store(tmp_path / "db.sqlite3")
    disk = FullDisk(store._db)
    store._db = disk
    agent = Agent(
        Config(), ToolRegistry(), store=store, backend=ScriptedBackend(["A fine answer, unsaved."]), workspace=tmp_path
    )
    session = agent.new_session()
    events = []
    async for event in agent.run_turn(session, "question"):
        events.append(event)
        if isinstance(event, TextDelta):
            disk.full = True  # the question was saved; the disk fills while the answer streams
    errors = [e.message for e in events if isinstance(e, Error)]
    assert len(errors) == 1 and errors[0].startswith("disk full: the answer was not saved")
    assert str(tmp_path) in errors[0]
    # told after the answer, not in the middle of it (the note cut it in two: crash review)
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Error") > max(i for i, kind in enumerate(kinds) if kind == "TextDelta")
    assert isinstance(events[-1], TurnDone) and events[-1].text == "A fine answer, unsaved."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "A fine answer, unsaved."
    # what was stored stays, and once there is space again the answer that waited is saved
    # first, in its place: nothing of the chat is lost
    disk.full = False
    assert [m["content"] for m in store.messages(session.id)] == ["question"]
    async for _ in agent.run_turn(session, "again"):
        pass
    assert [m["content"] for m in store.messages(session.id)][:3] == ["question", "A fine answer, unsaved.", "again"]
    assert [m["role"] for m in store.messages(session.id)] == ["user", "assistant", "user", "assistant"]


async def test_a_real_sqlite_full_error_on_a_long_answer(tmp_path):
    """SQLite's own SQLITE_FULL: the database may not grow past its pages (max_page_count)."""
    store = Store(tmp_path / "db.sqlite3")
    answer = "long answer " * 2000  # 24 KB: overflow pages the database may not add
    agent = Agent(
        Config(), ToolRegistry(), store=store, backend=ScriptedBackend([answer], chunk=400, delay=0), workspace=tmp_path
    )
    session = agent.new_session()
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    events = [e async for e in agent.run_turn(session, "write a lot")]
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and errors[0].startswith("disk full: the answer was not saved"), errors
    assert isinstance(events[-1], TurnDone)
    assert store.messages(session.id)[0]["content"] == "write a lot"
    store._db.execute("PRAGMA max_page_count = 1073741823")
    store.add_message(session.id, "user", "the connection still works")


def test_store_errors_name_the_folder(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file")
    with pytest.raises(StoreError, match="a file is in the way.*THAU_HOME"):
        Store(blocked / "data" / "sessions.sqlite3")


def test_the_chat_with_a_file_where_the_data_dir_should_be(tmp_path):
    """The TUI says what is wrong before it takes the screen, instead of a traceback."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "data").write_text("not a folder")
    done = thau("--config", small_config(tmp_path), home=home, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert f"cannot write thau's data dir {home / 'data'}" in done.stderr


async def test_the_database_deleted_while_thau_runs_is_said_and_not_written_blind(tmp_path):
    """`rm sessions.sqlite3*` while thau ran: every later message went into the unlinked file,
    answered as usual, and at the next start the chats were gone with no word said (crash
    review). The next save says so, and how to keep this chat."""
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    agent = Agent(Config(), ToolRegistry(), store=store, backend=ScriptedBackend(["one", "two"]), workspace=tmp_path)
    session = agent.new_session()
    async for _ in agent.run_turn(session, "first"):
        pass
    for leftover in tmp_path.glob("db.sqlite3*"):
        leftover.unlink()
    events = [event async for event in agent.run_turn(session, "Say hello")]
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and "was deleted or replaced while thau ran" in errors[0] and "Ctrl+E" in errors[0], errors
    assert isinstance(events[-1], TurnDone) and events[-1].text == "two"
    assert [m["content"] for m in store.messages(session.id)][:2] == ["first", "one"]  # still readable for Ctrl+E
    Store(path).close()  # another file now stands at the path: still not the one opened
    with pytest.raises(StoreError) as raised:
        store.add_message(session.id, "user", "again")
    assert raised.value.kind == "gone"


async def test_a_question_not_saved_under_a_lock_is_saved_before_its_answer(tmp_path, monkeypatch):
    """Another program held the database locked: the question was not saved, the answer was
    (the lock had gone by then), and the reopened chat showed an answer to nothing (crash
    review). What failed waits, in order, and is saved before anything after it."""
    from thau_tui.engine import saving

    monkeypatch.setattr(saving, "RETRY_S", 0.0)
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    agent = Agent(
        Config(), ToolRegistry(), store=store, backend=ScriptedBackend(["Bye! What do you need?"]), workspace=tmp_path
    )
    session = agent.new_session()
    other = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # a backup, another program
    events = []
    async for event in agent.run_turn(session, "Say bye"):
        events.append(event)
        if isinstance(event, TextDelta) and other.in_transaction:
            other.execute("COMMIT")  # the lock goes while the answer streams
    other.close()
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and errors[0].startswith("your question was not saved") and "locked" in errors[0]
    assert [(m["role"], m["content"]) for m in Store(path).messages(session.id)] == [
        ("user", "Say bye"),
        ("assistant", "Bye! What do you need?"),
    ]


async def test_an_answers_final_text_that_failed_to_save_waits_and_is_saved_in_order(tmp_path, monkeypatch):
    """Its growing draft row was saved, then a lock came: the final text's update failed and
    was never tried again, so the chat kept "partial answ..." marked interrupted (re-review)."""
    from thau_tui.engine import saving
    from thau_tui.engine.draft import Draft

    monkeypatch.setattr(saving, "RETRY_S", 0.0)
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    agent = Agent(Config(), ToolRegistry(), store=store, backend=ScriptedBackend([]), workspace=tmp_path)
    session = agent.new_session()
    agent._add(session, "user", "question 1")
    draft = Draft(agent, session, save_every_s=0.0)
    draft.grow("partial answ")  # the growing row, saved
    other = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    draft.finish("partial answer, and the rest of it")
    other.execute("COMMIT")
    other.close()
    agent._add(session, "user", "question 2")
    saved = [(m["role"], m["content"], m["meta"].get("interrupted")) for m in store.messages(session.id)]
    assert saved == [
        ("user", "question 1", None),
        ("assistant", "partial answer, and the rest of it", None),
        ("user", "question 2", None),
    ]
