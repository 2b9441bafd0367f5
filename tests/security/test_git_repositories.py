"""An approval of `git` must not run a repository's config that a tool wrote.

git runs commands named in the config of the repository it finds from the current
folder (core.fsmonitor on `git status`, core.pager, filter and diff drivers). The
sandbox keeps the workspace's own .git read-only, but a tool can make another
repository (`git init sub`, a `cp` or `tar -x` into sub/.git, or one in the
sandbox's /tmp) and `cd` there. So an approval of git holds only while the shell
is in the workspace and the repository git finds is the workspace's own, or one
outside it; `cd ... && git ...` in one command asks.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from thau_tui.config import Config
from thau_tui.engine.approvals import ApprovalBook, programs_of
from thau_tui.engine.events import ApprovalRequested, Decision
from thau_tui.engine.git_repository import git_repository_risk, looks_like_git_dir

from .test_approval_bypass import SESSION, book_allowing, shell
from .test_shell_state import call, chat_agent

EVIL = '[core]\n\tfsmonitor = "touch PWNED; false"\n'


def nested_repository(workspace: Path) -> Path:
    """What a tool could leave: sub/.git whose config runs a command on `git status`."""
    subprocess.run(["git", "init", "-q", str(workspace / "sub")], check=True)
    with open(workspace / "sub" / ".git" / "config", "a") as fh:
        fh.write(EVIL)
    return workspace / "sub"


def test_git_in_a_repository_a_tool_wrote_runs_its_config(tmp_path):
    """Why it matters: plain `git status` in such a folder runs the planted command."""
    sub = nested_repository(tmp_path)
    subprocess.run(["git", "status"], cwd=sub, capture_output=True, timeout=30, check=False)
    assert (sub / "PWNED").exists()


@pytest.mark.parametrize("command", ["cd sub && git status", "cd sub; git log", "pushd sub && git diff"])
def test_git_after_cd_in_one_command_asks(command):
    book = book_allowing("git status", "cd sub")
    assert programs_of(command) is None
    assert book.decide(shell(command), "exec", SESSION) == "ask"
    assert programs_of("git status && cd sub") == ["git status", "cd"]  # cd after git changes nothing for it


def test_which_folders_let_a_git_approval_hold(workspace, tmp_path):
    book = book_allowing("git status")
    sub = nested_repository(workspace)
    (sub / "deeper").mkdir()
    (workspace / "plain").mkdir()
    for folder in (None, str(workspace), str(workspace / "plain")):
        assert git_repository_risk(folder, workspace) is None, folder
        assert book.decide(shell("git status"), "exec", SESSION, workspace, folder) == "auto", folder
    for folder, says in (
        (str(sub), f"git would read the repository in {sub}"),
        (str(sub / "deeper"), f"git would read the repository in {sub}"),
        (str(tmp_path), "outside the workspace"),
        ("?where the shell is cannot be told (no /proc)", "cannot be told (no /proc)"),
    ):
        assert book.decide(shell("git status"), "exec", SESSION, workspace, folder) == "ask", folder
        note = book.why_asking_again(shell("git status"), SESSION, workspace, folder) or ""
        assert note.startswith("asks again: ") and says in note, note
    # other programs are not held back by where git would look
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)
    assert book.decide(shell("ls"), "exec", SESSION, workspace, str(sub)) == "auto"


def test_in_the_chat_git_in_a_planted_repository_asks(workspace, tmp_path, canary):
    """End to end: scripted model, real sandboxed shell. git and cd are allowed for the
    session; after `cd sub` into a repository a tool wrote, `git status` asks."""
    sub = nested_repository(workspace)
    replies = [call("git status"), "Clean.", call("cd sub"), "Moved.", call("git status"), "Checked."]
    agent = chat_agent(replies, workspace, tmp_path)
    session = agent.new_session()
    asked: list[ApprovalRequested] = []

    async def turn(text: str) -> None:
        async for event in agent.run_turn(session, text):
            if isinstance(event, ApprovalRequested):
                asked.append(event)
                event.future.set_result(Decision("session") if len(asked) < 3 else Decision("deny", reason="no"))

    async def chat() -> None:
        for text in ("status?", "go into sub", "status there?"):
            await turn(text)

    try:
        asyncio.run(chat())
    finally:
        session.close()
    assert [e.call.arguments["command"] for e in asked] == ["git status", "cd sub", "git status"]
    assert f"git would read the repository in {sub}" in asked[-1].note
    assert not (sub / "PWNED").exists()


def test_a_workspace_git_made_during_the_chat_is_not_trusted(workspace):
    """No .git when the chat began: the sandbox kept none read-only, so a tool could `git
    init` the workspace and write its config; the one there at the start stays trusted."""
    book = book_allowing("git status")
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"  # the first call: no .git yet
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    assert book.decide(shell("git status"), "exec", SESSION, workspace) == "ask"
    note = book.why_asking_again(shell("git status"), SESSION, workspace) or ""
    assert "is not the one there when this chat began" in note

    trusted = workspace.parent / "trusted"
    subprocess.run(["git", "init", "-q", str(trusted)], check=True)
    other = book_allowing("git status")
    assert other.decide(shell("git status"), "exec", SESSION, trusted) == "auto"
    assert other.decide(shell("git status"), "exec", SESSION, trusted, str(trusted)) == "auto"


def test_with_git_writes_allowed_git_is_never_approved_by_name(workspace, tmp_path, canary):
    config = Config()
    config.tools.files.allow_git_writes = True  # tools may write .git: its config may be theirs
    replies = [call("git status"), "Checked.", call("git status"), "Checked again."]
    agent = chat_agent(replies, workspace, tmp_path, config)
    session = agent.new_session()
    asked: list[ApprovalRequested] = []

    async def chat() -> None:
        for text in ("status?", "again?"):
            async for event in agent.run_turn(session, text):
                if isinstance(event, ApprovalRequested):
                    asked.append(event)
                    event.future.set_result(Decision("session"))

    try:
        asyncio.run(chat())
    finally:
        session.close()
    assert len(asked) == 2
    assert "tools.files.allow_git_writes" in asked[1].note


def test_clone_config_runs_a_command_and_now_asks(dirs):
    """`git clone -c` sets the new repository's config before it fetches: with the ext
    transport allowed, the URL is a command."""
    attack = "git clone -c protocol.ext.allow=always 'ext::sh -c touch% PWNED' d"
    ungated, gated = dirs
    subprocess.run(["bash", "-c", attack], cwd=ungated, capture_output=True, timeout=30, check=False)
    assert (ungated / "PWNED").exists()
    book = book_allowing("git status")
    assert book.decide(shell(attack), "exec", SESSION) == "ask"
    assert not (gated / "PWNED").exists()


def test_git_subcommands_from_a_workspace_folder_on_path_ask(workspace, monkeypatch):
    """git runs `git-NAME` from PATH for a subcommand it lacks: with a project's .venv/bin
    on PATH, a tool-written git-hello ran under the approval of git."""
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    helper = venv_bin / "git-hello"
    helper.write_text("#!/bin/sh\ntouch PWNED\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(["git", "hello"], cwd=workspace, capture_output=True, timeout=30, check=False)
    assert (workspace / "PWNED").exists()
    (workspace / "PWNED").unlink()
    book = book_allowing("git status", "git hello")
    assert book.decide(shell("git hello"), "exec", SESSION, workspace) == "ask"
    note = book.why_asking_again(shell("git hello"), SESSION, workspace) or ""
    assert f"PATH looks in {venv_bin}, inside the workspace" in note


# --- repositories git finds by their layout (helper's attacker review, 2026-12-04) ---------------
def test_write_file_does_not_complete_a_bare_repository(workspace, tmp_path):
    """HEAD, objects/, refs/ and a config with core.fsmonitor written at the top of the
    workspace made it a bare repository: the user's own `git status` there ran the command."""
    from thau_tui.tools import build_registry
    from thau_tui.tools.base import ToolContext

    write = build_registry().get("write_file")
    context = ToolContext(workspace=workspace, config=Config())
    marker = tmp_path / "outside-marker"
    evil = f'[core]\n\trepositoryformatversion = 0\n\tbare = true\n\tfsmonitor = "touch {marker}; false"\n'
    results = [
        write.run({"path": path, "content": content}, context)
        for path, content in (
            ("config", evil),
            ("objects/info/.keep", ""),
            ("HEAD", "ref: refs/heads/main\n"),
            ("refs/heads/.keep", ""),  # the last piece: refused
        )
    ]
    assert [r.ok for r in results] == [True, True, True, False], [r.output for r in results]
    assert "a git repository's own folder ('.')" in results[-1].output
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "status"], cwd=workspace, capture_output=True, timeout=30, check=False, env=env)
    assert not marker.exists()


@pytest.mark.parametrize("last", ["HEAD", "commondir"])
def test_write_file_does_not_make_a_worktree_layout_repository(workspace, tmp_path, last):
    """HEAD and a `commondir` file naming a folder with objects/, refs/ and a config made the
    workspace a repository too (git's worktree layout): the user's own `git branch` there
    ran the config's pager (second attacker review). The second of the two is refused."""
    from thau_tui.tools import build_registry
    from thau_tui.tools.base import ToolContext

    write = build_registry().get("write_file")
    context = ToolContext(workspace=workspace, config=Config())
    marker = tmp_path / "outside-marker"
    evil = f'[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch {marker}; false"\n'
    pieces = [("evil/config", evil), ("evil/objects/info/keep", ""), ("evil/refs/heads/keep", "")]
    pair = [("HEAD", "ref: refs/heads/main\n"), ("commondir", "evil\n")]
    pieces += pair if last == "commondir" else pair[::-1]
    results = [write.run({"path": path, "content": content}, context) for path, content in pieces]
    assert [r.ok for r in results] == [True, True, True, True, False], [r.output for r in results]
    assert "a git repository's own folder ('.')" in results[-1].output
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "status"], cwd=workspace, capture_output=True, timeout=30, check=False, env=env)
    assert not marker.exists()
    planted = tmp_path / "planted"  # one a shell command made: git there asks
    planted.mkdir()
    (planted / "HEAD").write_text("ref: refs/heads/main\n")
    (planted / "commondir").write_text("../evil\n")
    assert looks_like_git_dir(planted)


def test_a_repository_behind_a_gitdir_file_is_protected_like_dot_git(workspace, tmp_path):
    """`git init --separate-git-dir .repo/app.git`: .git is a file naming the real folder,
    whose config write_file and the sandboxed shell both changed."""
    from thau_tui.tools import build_registry
    from thau_tui.tools.base import ToolContext
    from thau_tui.tools.sandbox import git_folders

    (workspace / ".repo").mkdir()
    subprocess.run(
        ["git", "init", "-q", "--separate-git-dir", str(workspace / ".repo" / "app.git"), str(workspace)], check=True
    )
    assert (workspace / ".repo" / "app.git").resolve() in git_folders(workspace)  # mounted read-only
    written = (
        build_registry()
        .get("write_file")
        .run(
            {"path": ".repo/app.git/config", "content": EVIL, "mode": "append"},
            ToolContext(workspace=workspace, config=Config()),
        )
    )
    assert not written.ok and "a git repository's own folder ('.repo/app.git')" in written.output
    assert "fsmonitor" not in (workspace / ".repo" / "app.git" / "config").read_text()


def test_a_bare_repository_in_the_workspace_is_read_only_in_the_sandbox(workspace):
    """repos/app.git (git init --bare): write_file refused its hooks, but the sandboxed shell
    wrote them, and they run at the user's next git push to it (attacker review)."""
    from thau_tui.tools import build_registry, sandbox
    from thau_tui.tools.base import ToolContext

    subprocess.run(["git", "init", "-q", "--bare", str(workspace / "repos" / "app.git")], check=True)
    assert (workspace / "repos" / "app.git") in sandbox.git_folders(workspace)
    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # the folder list above is what the other sandboxes take too
    context = ToolContext(workspace=workspace, config=config)
    ran = (
        build_registry()
        .get("run_shell")
        .run({"command": "echo 'touch PWNED' >> repos/app.git/hooks/post-receive"}, context)
    )
    context.resources["shell"].close()
    assert "Read-only file system" in ran.output
    assert not (workspace / "repos" / "app.git" / "hooks" / "post-receive").exists()


def test_the_sandbox_keeps_a_mercurial_folder_read_only(workspace):
    """The sandboxed shell wrote .hg/hgrc, whose hooks run at the user's next hg command
    outside the sandbox (attacker review)."""
    from thau_tui.tools import build_registry, sandbox
    from thau_tui.tools.base import ToolContext

    (workspace / "proj" / ".hg").mkdir(parents=True)
    (workspace / "proj" / ".hg" / "requires").write_text("store\n")
    assert (workspace / "proj" / ".hg") in sandbox.git_folders(workspace)
    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # macOS's profile: test_the_macos_profile_keeps_every_version_control_folder_in_any_case
    context = ToolContext(workspace=workspace, config=config)
    ran = (
        build_registry()
        .get("run_shell")
        .run({"command": "printf '[hooks]\\npre-status = touch PWNED\\n' >> proj/.hg/hgrc"}, context)
    )
    context.resources["shell"].close()
    assert "Read-only file system" in ran.output
    assert not (workspace / "proj" / ".hg" / "hgrc").exists()


def test_tools_run_git_without_bare_repository_discovery():
    from thau_tui.tools.workspace import scrubbed_environment

    env = scrubbed_environment()
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == (
        "1",
        "safe.bareRepository",
        "explicit",
    )


def test_reading_a_dot_git_file_never_blocks_on_a_fifo(workspace):
    """git_folders reads `.git` files at each shell start; one swapped for a FIFO after it
    was listed would have held the start in open() forever."""
    import threading

    from thau_tui.tools.workspace import gitdir_of

    os.mkfifo(workspace / ".git")
    answers = []
    reader = threading.Thread(target=lambda: answers.append(gitdir_of(workspace / ".git")), daemon=True)
    reader.start()
    reader.join(5)
    assert answers == [None]


def test_a_repository_found_once_stays_read_only_when_the_scan_runs_out(tmp_path, monkeypatch):
    """Second attacker review: the scan for repositories stops after _GIT_SCAN_FOLDERS folders,
    and folders that approved `mkdir`s made used it up; the next shell then left the user's
    nested proj/.git writable (a hook there runs outside at their next git command)."""
    from thau_tui.tools import sandbox
    from thau_tui.tools.shell import ShellSandbox

    workspace = tmp_path / "ws"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace / "proj")], check=True)
    assert workspace / "proj" / ".git" in sandbox.git_folders(workspace)  # the chat's first shell
    monkeypatch.setattr(sandbox, "_GIT_SCAN_FOLDERS", 1)  # as if thousands of folders came first
    assert workspace / "proj" / ".git" in sandbox.git_folders(workspace)
    shell_ = ShellSandbox(workspace, Config())
    try:
        result = shell_.run("echo '#!/bin/sh' > proj/.git/hooks/post-checkout && echo wrote", timeout=30)
    finally:
        shell_.close()
    assert "wrote" not in result.output
    assert not (workspace / "proj" / ".git" / "hooks" / "post-checkout").exists()


def test_the_scan_reads_shallow_folders_before_deep_ones(tmp_path, monkeypatch):
    """Breadth first: folders deep in one tree cannot use up the scan before a repository
    one level down is read."""
    from thau_tui.tools import sandbox

    workspace = tmp_path / "ws"
    for i in range(40):
        (workspace / "a" / f"{i}" / "x").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(workspace / "z")], check=True)
    monkeypatch.setattr(sandbox, "_GIT_SCAN_FOLDERS", 4)  # the root, a and z: enough breadth first
    assert sandbox.git_folders(workspace) == [workspace / "z" / ".git"]


def bare_layout(folder: Path) -> None:
    """What tools can write without a .git: a folder git takes for a bare repository itself,
    whose config runs a command at every `git status` there."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "objects").mkdir()
    (folder / "refs").mkdir()
    (folder / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "config").write_text(
        '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n\tfsmonitor = "touch PWNED; false"\n'
    )


@pytest.mark.parametrize("where", [".", "vendor/lib"], ids=["the workspace", "a subfolder"])
def test_git_in_a_folder_laid_out_as_a_bare_repository_asks(workspace, where):
    """From the approvals review: only a .git was looked for, but git also takes a folder
    with HEAD, objects/ and refs/ for a repository. With `git status` allowed for the session,
    it ran unasked there and its core.fsmonitor ran (shown here without thau)."""
    folder = (workspace / where).resolve()
    bare_layout(folder)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "status"], cwd=folder, env=env, capture_output=True, timeout=30, check=False)
    assert (folder / "PWNED").exists(), "git reads the config of the folder's own layout"
    book = book_allowing("git status")
    shell_folder = None if where == "." else str(folder)
    assert book.decide(shell("git status"), "exec", SESSION, workspace, shell_folder) == "ask"  # before: auto
    note = book.why_asking_again(shell("git status"), SESSION, workspace, shell_folder) or ""
    assert "bare repository" in note or f"git would read the repository in {folder}" in note, note


def test_the_card_says_an_approval_of_git_would_not_hold_in_a_repository_a_tool_wrote(workspace):
    """The first card of `git status` in sub/ offered "allow for the session", and the next
    one asked again (attacker review): git reads sub's config there."""
    sub = nested_repository(workspace)
    book = ApprovalBook(None)
    status = shell("git status")
    not_held = book.why_not_held(status, "s1", workspace, str(sub)) or ""
    assert "does not hold here" in not_held and "sub" in not_held
    book.remember(status, "exec", Decision("session"), "s1", workspace)
    assert book.decide(status, "exec", "s1", workspace, str(sub)) == "ask"
    assert book.why_not_held(status, "s1", workspace, str(workspace)) is None


def test_the_macos_profile_keeps_every_version_control_folder_in_any_case(tmp_path):
    """sandbox-exec's profile kept .git read-only by a case-sensitive regex, on a disk that
    opens .GIT/config as .git/config, and left .hg and .jj writable (review of the diff).
    Its rule is read here as the POSIX regex it is (checked on any platform)."""
    import re

    from thau_tui.tools.sandbox import _seatbelt_profile

    profile = _seatbelt_profile(tmp_path, False)
    rules = re.findall(r'\(deny file-write\* \(regex #"(.*?)"\)\)', profile)
    assert len(rules) == 1, profile
    rule = re.compile(rules[0].replace("\\\\", "\\"))
    for kept in (".git/config", ".GIT/config", "sub/.hg/hgrc", ".Hg/hgrc", "a/b/.jj/repo/config.toml", ".hg"):
        assert rule.search(f"{tmp_path}/{kept}"), kept
    for free in ("my.git/config", ".github/workflows/ci.yml", "hg/x", ".jjx/y", "docs/.gitignore"):
        assert not rule.search(f"{tmp_path}/{free}"), free


def test_a_repository_made_during_the_chat_is_read_only_from_the_next_command(workspace, tmp_path):
    """The shell review of 2026-12-07: the sandbox bound read-only only the repositories it
    found when the shell started, so after `git init tools` (allowed for the chat) an approval
    of cp covered `cp settings.ini tools/.git/config`, whose core.fsmonitor ran on the host at
    the user's next `git status` there. The command that makes one now says so, and the next
    one runs in a fresh shell that keeps it read-only."""
    from thau_tui.tools import build_registry, sandbox
    from thau_tui.tools.base import ToolContext

    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # macOS's profile keeps every .git read-only by name, made before or after
    (workspace / "settings.ini").write_text(f"[core]\n\tfsmonitor = touch {tmp_path}/HOSTPWNED; false\n")
    context = ToolContext(workspace=workspace, config=config)
    run_shell = build_registry().get("run_shell")
    try:
        made = run_shell.run({"command": "git init -q tools && cd tools"}, context)
        assert "this command made tools/.git" in made.output, made.output
        again = run_shell.run({"command": "cp settings.ini tools/.git/config; pwd"}, context)
    finally:
        context.resources["shell"].close()
    assert "a repository was made, which the new shell keeps read-only" in again.output
    assert "Read-only file system" in again.output and str(workspace) in again.output  # cd was reset
    assert "fsmonitor" not in (workspace / "tools" / ".git" / "config").read_text()
    quiet = ToolContext(workspace=workspace, config=config)  # a new chat's shell: nothing new, no note
    try:
        plain = run_shell.run({"command": "echo plain"}, quiet)
    finally:
        quiet.resources["shell"].close()
    assert "made" not in plain.output and plain.output.splitlines() == ["plain", "[exit status 0]"]


def test_a_kept_repository_cannot_be_swapped_by_renaming_its_folder(workspace, tmp_path):
    """The attacker re-review of 2026-12-07: `.git` was read-only but its folder was not, so
    `mv tools tools.old && mkdir tools && cp -a tools.old/. tools/` put a writable copy where
    the kept one was, and `git -C tools config core.fsmonitor ...` ran on the host at the
    user's next git status; the note named tools.old/.git, the real one, only moved. The
    folders above a kept repository are mount points now, which cannot be renamed."""
    from thau_tui.tools import sandbox
    from thau_tui.tools.shell import ShellSandbox

    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # macOS's profile keeps every .git read-only by name, wherever it is
    subprocess.run(["git", "init", "-q", str(workspace / "proj" / "tools")], check=True)
    shell = ShellSandbox(workspace, config)
    try:
        swap = shell.run(
            "cd proj && mv tools tools.old && mkdir tools && cp -a tools.old/. tools/"
            f" && git -C tools config core.fsmonitor 'touch {tmp_path}/PWNED'; echo tried",
            timeout=30,
        )
    finally:
        shell.close()
    assert "tried" in swap.output and "busy" in swap.output.lower(), swap.output
    assert not (workspace / "proj" / "tools.old").exists()
    fsmonitor = subprocess.run(
        ["git", "-C", str(workspace / "proj" / "tools"), "config", "core.fsmonitor"], capture_output=True, text=True
    )
    assert fsmonitor.stdout == "", fsmonitor.stdout


def test_a_repository_put_where_a_kept_one_was_is_named(workspace):
    """By path alone, a copy put where a kept repository had been passed for it; the check
    compares each one's device and inode now."""
    import shutil

    from thau_tui.tools.shell_spawn import repositories_made, repository_ids

    subprocess.run(["git", "init", "-q", str(workspace / "proj")], check=True)
    kept = repository_ids(workspace)
    assert repositories_made(workspace, Config(), kept) == ""
    shutil.move(str(workspace / "proj"), str(workspace / "proj.old"))
    shutil.copytree(workspace / "proj.old", workspace / "proj")
    said = repositories_made(workspace, Config(), kept)
    assert "this command made proj/.git" in said and "proj.old/.git" in said, said
