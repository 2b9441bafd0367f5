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


def test_a_repository_made_at_a_submodule_path_stops_approvals_of_git(tmp_path):
    """`git status` enters a submodule whose `.git` exists, and runs that repository's
    core.fsmonitor; a tool made one (a `.git` file pointing at a folder it wrote) while git
    stood approved for the chat. Now git asks while such a repository is in the workspace."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    commit = "git -c user.email=a@b -c user.name=a commit -q"
    setup = bash(
        f"git init -q && {commit} --allow-empty -m init && "
        "git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),vendor/lib && "
        f"{commit} -m submodule && mkdir -p vendor/lib",
        workspace,
    )
    assert setup.returncode == 0, setup.stderr
    book = ApprovalBook(None)
    status = shell("git status --short")
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"  # the book sees the workspace
    assert book.remember(status, "exec", Decision("session"), SESSION)
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "auto"

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
    assert why is not None and "here: notes is a repository made during this chat" in why, why
    bash("git status --short", workspace)  # what the approval would have let run
    assert (workspace / "vendor" / "lib" / "PWNED").exists(), "git status ran the made repository's fsmonitor"


def test_a_submodule_deeper_than_the_repository_scan_counts_too(tmp_path):
    """The scan for repositories stops three levels down; git enters a submodule however deep.
    The index's submodule paths are looked at too."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    deep = "third_party/a/b/c/lib"
    commit = "git -c user.email=a@b -c user.name=a commit -q"
    setup = bash(
        f"git init -q && {commit} --allow-empty -m init && "
        f"git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),{deep} && {commit} -m sub && mkdir -p {deep}",
        workspace,
    )
    assert setup.returncode == 0, setup.stderr
    book = ApprovalBook(None)
    status = shell("git status")
    book.decide(status, "exec", SESSION, workspace, str(workspace))
    assert book.remember(status, "exec", Decision("session"), SESSION)
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "auto"
    (workspace / deep / ".git").write_text("gitdir: ../../../../../notes\n")
    assert book.decide(status, "exec", SESSION, workspace, str(workspace)) == "ask"
    why = book.why_not_held(status, SESSION, workspace, str(workspace))
    assert why is not None and f"{deep}/.git is a repository made during this chat" in why, why


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
