"""The attacker review of 2026-12-08, after approvals by name became a list of safe programs.

Programs on the list could still (1) make a `.git` without the name being typed (a backup
suffix, a decompressor's suffix, split's prefix), which an approved `git status` then entered
as a submodule and ran its core.fsmonitor; (2) keep a hard link to a made repository's config,
writable after thau kept the repository read-only; (3) reach a host daemon's Unix socket
(Docker's is root) with `curl --unix-socket`, the network being off. Each attack below ran
without a card after an `a` on the harmless command beside it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import Decision
from thau_tui.tools.base import ToolCall

SESSION = "s1"
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def shell(command: str) -> ToolCall:
    return ToolCall("run_shell", {"command": command})


def bash(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("cp notes.txt notes.bak", "cp -b -S t other sub/.gi"),
        ("cp notes.txt notes.bak", "cp --backup --suffix=t other sub/.gi"),
        ("mv a.txt b.txt", "mv -b -S t other sub/.gi"),
        ("install -m 644 a.txt b.txt", "install -b -S t other sub/.gi"),
        ("ln -s notes.txt link", "ln -b -S t -s other sub/.gi"),
        ("ln -s notes.txt link", "ln notes/config cfg"),  # a hard link
        ("cp notes.txt notes.bak", "cp -l notes/config cfg"),
        ("rsync -a src/ dst/", "rsync -ab --suffix=t other sub/.gi"),
        ("rsync -a src/ dst/", "rsync -a --link-dest=../notes src/ dst/"),
        ("gzip notes.txt", "gzip -S tx sub/.gi"),
        ("gunzip notes.txt.gz", "gunzip sub/.git.gz"),
        ("xz notes.txt", "xz -d sub/.git.xz"),
        ("xz notes.txt", "xz -S tx sub/.gi"),
        ("split -l 10 notes.txt part-", "split -l 1 -a 1 lines.txt sub/.gi"),
        ("csplit notes.txt 3", "csplit -f.gi -b 't%.0d' notes.txt 2"),
        ("csplit notes.txt 3", "csplit --prefix=sub/.g notes.txt 2"),
        ("curl -sI https://example.com", "curl -s --unix-socket /var/run/docker.sock http://d/containers/json"),
        ("curl -sI https://example.com", "curl -s --abstract-unix-socket docker http://d/"),
        ("curl -sI https://example.com", "curl -x socks5h://localhost/var/tmp/s.sock http://d/"),
        # the second attacker review of the same day
        ("gunzip notes.txt.gz", "gunzip sub/.git-gz"),
        ("gunzip notes.txt.gz", "gunzip sub/.git_z"),
        ("gunzip notes.txt.gz", "gunzip sub/.git-z"),
        ("curl -sI https://example.com", "curl --expand-unix-socket /var/run/docker.sock http://d/"),
        ("curl -sI https://example.com", "curl --expand-output conftest.py file:///etc/hostname"),
    ],
)
def test_names_built_by_the_program_hard_links_and_sockets_ask(allowed, attack):
    book = ApprovalBook(None)
    assert book.remember(shell(allowed), "exec", Decision("session"), SESSION), allowed
    assert book.decide(shell(allowed), "exec", SESSION) == "auto"
    assert book.decide(shell(attack), "exec", SESSION) == "ask", attack


def test_a_backup_suffix_makes_a_git_folder_nobody_typed(tmp_path):
    """What the table entries stop, shown in bash: `.git` from `.gi` and the suffix `t`."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gi").write_text("gitdir: ../notes\n")
    (tmp_path / "other").write_text("x")
    bash("cp -b -S t other sub/.gi", tmp_path)
    assert (tmp_path / "sub" / ".git").read_text() == "gitdir: ../notes\n"
    bash("printf 'a\\nb\\n' > lines.txt && split -l 1 -a 1 lines.txt sub/.g", tmp_path)
    assert (tmp_path / "sub" / ".gb").is_file(), "split names its pieces from the prefix"


def repository_with_a_submodule_at(folder: Path, path: str) -> None:
    """A repository in `folder` whose index has a submodule at `path` (not checked out)."""
    commit = "git -c user.email=a@b -c user.name=a commit -q"
    setup = bash(
        f"git init -q && {commit} --allow-empty -m init && "
        f"git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),{path} && {commit} -m submodule",
        folder,
    )
    assert setup.returncode == 0, setup.stderr


def git_status_allowed_in(workspace: Path, command: str = "git status") -> tuple[ApprovalBook, ToolCall]:
    """A book that saw the workspace first, with `a` pressed on `command`, which then runs unasked."""
    book = ApprovalBook(None)
    status = shell(command)
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"
    assert book.remember(status, "exec", Decision("session"), SESSION)
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "auto"
    return book, status


def test_a_repository_made_at_a_submodule_path_stops_approvals_of_git(tmp_path):
    """`git status` enters a submodule whose `.git` exists, and runs that repository's
    core.fsmonitor; a tool made one (a `.git` file pointing at a folder it wrote) while git
    stood approved for the chat. Now git asks while such a repository is in the workspace."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    repository_with_a_submodule_at(workspace, "vendor/lib")
    (workspace / "vendor" / "lib").mkdir(parents=True)
    book, status = git_status_allowed_in(workspace, "git status --short")

    notes = workspace / "notes"
    (notes / "objects").mkdir(parents=True)
    (notes / "refs" / "heads").mkdir(parents=True)
    (notes / "config").write_text(
        '[core]\n\tbare = false\n\tworktree = ../vendor/lib\n\tfsmonitor = "touch PWNED; false"\n'
    )
    (notes / "HEAD").write_text("ref: refs/heads/main\n")
    (workspace / "vendor" / "lib" / ".git").write_text("gitdir: ../../notes\n")

    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"
    why = book.why_not_held(status, SESSION, workspace, str(workspace))
    assert why is not None and "here: vendor/lib/.git is a submodule's repository made since thau started" in why, why
    bash("git status --short", workspace)  # what the approval would have let run
    assert (workspace / "vendor" / "lib" / "PWNED").exists(), "git status ran the made repository's fsmonitor"


def test_a_submodule_deeper_than_the_repository_scan_counts_too(tmp_path):
    """The scan for repositories stops three levels down; git enters a submodule however deep.
    The index's submodule paths are looked at too."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    deep = "third_party/a/b/c/lib"
    repository_with_a_submodule_at(workspace, deep)
    (workspace / deep).mkdir(parents=True)
    book, status = git_status_allowed_in(workspace)
    (workspace / deep / ".git").write_text("gitdir: ../../../../../notes\n")
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"
    why = book.why_not_held(status, SESSION, workspace, str(workspace))
    assert why is not None and f"{deep}/.git is a submodule's repository made since thau started" in why, why


def test_curl_reaches_a_unix_socket_with_the_network_off(tmp_path):
    """A stand-in for a host daemon: curl talks to it through the file system alone."""
    path = str(tmp_path / "daemon.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    heard: list[bytes] = []

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            heard.append(connection.recv(4096))
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    attack = f"curl -s --unix-socket {path} http://docker/containers/create -d '{{}}'"
    result = bash(attack, tmp_path)
    thread.join(10)
    server.close()
    assert result.stdout == "ok" and heard and heard[0].startswith(b"POST /containers/create"), heard
    book = ApprovalBook(None)
    assert book.remember(shell("curl -sI https://example.com"), "exec", Decision("session"), SESSION)
    assert book.decide(shell(attack), "exec", SESSION) == "ask"


def test_git_after_a_program_that_writes_in_the_same_command_asks():
    """The approvals look before a command runs: `gunzip .git-gz && git status` made the
    repository git then read, after the look (second attacker review of 2026-12-08)."""
    book = ApprovalBook(None)
    for allowed in ("git status", "mkdir x", "echo hi | tee x", "gunzip notes.txt.gz", "cp a b"):
        assert book.remember(shell(allowed), "exec", Decision("session"), SESSION), allowed
    for attack in ("mkdir -p e && git status", "echo gitdir: e | tee .gi; git status", "cp a b && git status"):
        assert book.decide(shell(attack), "exec", SESSION) == "ask", attack
    assert book.decide(shell("git status && mkdir -p e"), "exec", SESSION) == "auto"
    # git init makes a repository, with --separate-git-dir anywhere a tool chose: asked every time
    assert not book.remember(shell("git init -q"), "exec", Decision("session"), SESSION)
    assert book.decide(shell("git init -q --separate-git-dir=a/b/c/evil"), "exec", SESSION) == "ask"


def test_git_first_and_files_beside_git_stay_covered():
    book = ApprovalBook(None)
    for command in ("git status && git diff", "git log | head -5", "cat .git-blame-ignore-revs"):
        assert book.remember(shell(command), "exec", Decision("session"), SESSION), command
        assert book.decide(shell(command), "exec", SESSION) == "auto", command


def worktree_of_a_repository_with_a_deep_submodule(tmp_path: Path, deep: str) -> Path:
    main = tmp_path / "main"
    main.mkdir()
    repository_with_a_submodule_at(main, deep)
    assert bash("git worktree add -q ../wt", main).returncode == 0
    return tmp_path / "wt"


def test_a_linked_worktree_reads_its_submodules_from_its_own_index(tmp_path):
    """The workspace's .git is a file (a linked worktree): the submodule list came back empty,
    and a repository made at a deep submodule path ran its fsmonitor at an approved git status."""
    deep = "a/b/c/d/sub"
    workspace = worktree_of_a_repository_with_a_deep_submodule(tmp_path, deep)
    (workspace / deep).mkdir(parents=True, exist_ok=True)
    book, status = git_status_allowed_in(workspace)
    (workspace / deep / ".git").write_text("gitdir: ../../../../../evil\n")
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"


def test_the_sandbox_keeps_a_submodule_deeper_than_the_scan_read_only(tmp_path):
    """A submodule with its own .git folder four levels down was trusted by the approvals but
    writable in the sandbox (the scan stops at three): a tool set its core.fsmonitor."""
    from thau_tui.tools import sandbox

    workspace = tmp_path / "ws"
    deep = workspace / "a" / "b" / "c" / "emb"
    deep.mkdir(parents=True)
    commit = "git -c user.email=a@b -c user.name=a commit -q"
    made = bash(f"git init -q && {commit} --allow-empty -m e", deep)
    assert made.returncode == 0, made.stderr
    added = bash(f"git init -q && git add a/b/c/emb 2>/dev/null; {commit} -m with-submodule", workspace)
    assert added.returncode == 0, added.stderr
    assert deep / ".git" in sandbox.git_folders(workspace)


def test_a_git_planted_on_path_in_the_workspace_never_runs_on_the_host(tmp_path, monkeypatch):
    """Reading the submodule list ran the first git on PATH, outside the sandbox (diff review):
    a project's node_modules/.bin on PATH put a tool's git there."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    assert (
        bash("git init -q && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m i", workspace).returncode
        == 0
    )
    planted = workspace / "node_modules" / ".bin"
    planted.mkdir(parents=True)
    (planted / "git").write_text(f'#!/bin/sh\ntouch {tmp_path}/HOST_PWNED\nexec /usr/bin/git "$@"\n')
    (planted / "git").chmod(0o755)
    (workspace / "x").write_text("x")
    assert bash("git add x && git -c user.email=a@b -c user.name=a commit -q -m x", workspace).returncode == 0
    monkeypatch.setenv("PATH", f"{planted}{os.pathsep}{os.environ['PATH']}")
    book = ApprovalBook(None)
    book.decide(ToolCall("read_file", {"path": "x"}), "read", SESSION, workspace, None)
    book.decide(shell("git status"), "exec", SESSION, workspace, str(workspace))
    assert not (tmp_path / "HOST_PWNED").exists()


def test_a_job_in_the_background_is_never_covered_and_stops_the_chat_s_approvals():
    """`git status & cp -r stage/. sub`: git first, but the copy ran beside it and made the
    submodule's .git while git read it (6 runs in 20, 20 in 20 with a large tracked file;
    third attacker review). A background job outlives its command, too."""
    from thau_tui.engine.shell_command import shell_state_change

    book = ApprovalBook(None)
    for allowed in ("git status", "cp a b", "sleep 1"):
        assert book.remember(shell(allowed), "exec", Decision("session"), SESSION), allowed
    for attack in ("git status & cp -r stage/. sub", "sleep 1 && cp -r stage/. sub &"):
        assert book.decide(shell(attack), "exec", SESSION) == "ask", attack
        assert shell_state_change(attack) is not None, attack


def test_an_index_that_is_no_plain_file_is_never_read_by_the_host_git(tmp_path):
    """The submodule list is read after every shell command: a FIFO for an index (a tool can make
    a workspace's .git when there was none) held the host git its whole 2 s each time."""
    import time

    from thau_tui.tools.git_hooks import submodule_gits

    assert bash("git init -q", tmp_path).returncode == 0
    (tmp_path / ".git" / "index").unlink(missing_ok=True)
    os.mkfifo(tmp_path / ".git" / "index")
    started = time.monotonic()
    assert submodule_gits(tmp_path) is None
    assert time.monotonic() - started < 0.5
