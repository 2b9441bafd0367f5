"""The persistent shell remembers what earlier commands did to it; approvals must too.

Three ways a program the user allowed for the session (`printf`, `ls`) came to
run code the user never saw, each shown first against the real sandboxed shell
(the attack works: PWNED appears) and then gated the way thau gates a call:

- an assigning builtin an approval covered: `printf -v PROMPT_COMMAND ...`
  sets the code bash runs before every later prompt;
- a command allowed once that redefines `ls` (a function, alias or PATH);
  afterwards a covered `ls` ran the new definition without asking;
- an `ls` planted in a workspace folder that is on PATH (a project's venv).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import ApprovalRequested, Decision, ToolFinished, ToolStarted
from thau_tui.engine.shell_command import program_location, shell_state_change
from thau_tui.engine.store import Store
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolCall
from thau_tui.tools.shell import ShellSandbox

from .test_approval_bypass import SESSION, book_allowing, shell


def run_commands(workspace: Path, commands: list[str], gate: ApprovalBook | None = None) -> list[str]:
    """Run each command in one real sandboxed shell; with `gate`, only those it auto-approves
    (and note what ran, as thau does). Returns the verdicts."""
    sandbox = ShellSandbox(workspace, Config())
    verdicts = []
    try:
        for command in commands:
            verdict = gate.decide(shell(command), "exec", SESSION, workspace) if gate else "auto"
            verdicts.append(verdict)
            if verdict == "auto":
                result = sandbox.run(command, timeout=20)
                if gate:
                    gate.shell_ran(shell(command), SESSION, fresh=result.fresh, exited=result.shell_exited)
    finally:
        sandbox.close()
    return verdicts


PROMPT_ATTACKS = [
    "printf -v PROMPT_COMMAND %s 'touch PWNED'",
    "printf -vPROMPT_COMMAND 'touch PWNED'",
    "printf -v PS1 '%s' '$(touch PWNED)> '",
]


@pytest.mark.parametrize("attack", PROMPT_ATTACKS, ids=["printf-v", "printf-v-joined", "printf-ps1"])
def test_printf_v_runs_code_at_the_next_prompt_and_now_asks(attack, dirs, canary):
    ungated, gated = dirs
    run_commands(ungated, [attack, "echo next"])
    assert (ungated / "PWNED").exists(), "bash runs the planted prompt code: an approval of printf must not cover it"

    book = book_allowing("printf 'hello\\n'")
    assert book.decide(shell("printf '%s\\n' hi"), "exec", SESSION) == "auto"  # the approval still works
    verdicts = run_commands(gated, [attack, "printf 'next\\n'"], gate=book)
    assert verdicts == ["ask", "auto"]
    assert not (gated / "PWNED").exists()


ASSIGNING = [
    "read PATH",
    "getopts a PATH -a",
    "wait -p PATH",
    "printf -v PATH %s /x",
    "test -v 'DIRSTACK[PATH=0]'",
    "'[' -v 'DIRSTACK[PATH=0]' ']'",
    "jobs -x export PATH=0",
]


@pytest.mark.parametrize("command", ASSIGNING)
def test_assigning_builtins_are_never_covered(command):
    book = book_allowing("printf 'x'", "wait", "test -d src", "jobs")
    assert shell_state_change(command) is not None, "allowed once, it changes what later commands run"
    assert book.decide(shell(command), "exec", SESSION) == "ask"
    assert book.remember(shell(command), "exec", Decision("session"), SESSION) == []


REDEFINITIONS = [
    "ls() { touch PWNED; }",
    "alias ls='touch PWNED'; shopt -s expand_aliases",
    "mkdir -p bin && printf '#!/bin/sh\\ntouch PWNED\\n' > bin/ls && chmod +x bin/ls && export PATH=$PWD/bin:$PATH",
    # a {name} redirection on a builtin sets PATH to the new descriptor's number, 10 or so, and
    # ./10/ls then runs as ls (attacker review; its ls writes without touch: PATH is 10 there)
    "mkdir -p 10 11 12 13 14 15 16 17 18 19 && printf '#!/bin/sh\\necho pwned > PWNED\\n' | tee 1{0..9}/ls"
    " > /dev/null && chmod +x 1{0..9}/ls && : {PATH}>/dev/null",
    # an indexed array's subscript is arithmetic: `a[PATH=1]=2` sets PATH to 1, and bashlex
    # reads the assignment as a program's name, so it counted as a command that changes nothing
    "mkdir -p 1 && printf '#!/bin/sh\\necho pwned > PWNED\\n' > 1/ls && chmod +x 1/ls && a[PATH=1]=2",
]


@pytest.mark.parametrize("redefinition", REDEFINITIONS, ids=["function", "alias", "path", "fd-variable", "subscript"])
def test_a_command_allowed_once_that_redefines_ls_stops_the_ls_approval(redefinition, dirs, canary):
    ungated, gated = dirs
    run_commands(ungated, [redefinition, "ls"])
    assert (ungated / "PWNED").exists(), "the redefined ls runs: an approval of ls must not cover it"

    book = book_allowing("ls -la")
    sandbox = ShellSandbox(gated, Config())
    try:
        result = sandbox.run(redefinition, timeout=20)  # the user allowed this one once
        book.shell_ran(shell(redefinition), SESSION, fresh=result.fresh, exited=result.shell_exited)
        assert book.decide(shell("ls"), "exec", SESSION) == "ask"
        note = book.why_asking_again(shell("ls"), SESSION)
        assert note is not None and "changed this chat's shell" in note
        assert not (gated / "PWNED").exists()
        # `exit` ends that shell; the next command starts a clean one, and the approval holds again
        result = sandbox.run("exit", timeout=20)
        book.shell_ran(shell("exit"), SESSION, fresh=result.fresh, exited=result.shell_exited)
        assert book.decide(shell("ls"), "exec", SESSION) == "auto"
        result = sandbox.run("ls", timeout=20)
        assert result.fresh and result.exit_status == 0
    finally:
        sandbox.close()
    assert not (gated / "PWNED").exists()


def test_after_a_change_every_shell_card_of_that_chat_says_so(workspace):
    """Not only the calls a remembered approval covered: `cat` may be an alias now too."""
    book = ApprovalBook(None)
    for command in ("cat notes.txt", "ls $(x)", "make"):
        assert book.why_asking_again(shell(command), SESSION) is None
    book.shell_ran(shell("alias cat='touch PWNED'"), SESSION, fresh=False, exited=False)
    for command in ("cat notes.txt", "ls $(x)", "make"):
        note = book.why_asking_again(shell(command), SESSION) or ""
        assert "changed this chat's shell (alias changes the shell)" in note, command
    assert book.why_asking_again(shell("cat notes.txt"), "s2") is None  # another chat, another shell
    assert book.why_asking_again(ToolCall("read_file", {"path": "x"}), SESSION) is None
    book.shell_ran(shell("exit"), SESSION, fresh=False, exited=True)
    assert book.why_asking_again(shell("cat notes.txt"), SESSION) is None


def test_other_sessions_and_harmless_commands_keep_their_approvals(workspace):
    book = book_allowing("ls")
    book.remember(shell("ls"), "exec", Decision("session"), "s2")
    for harmless in ("ls *.py | wc -l", "echo $HOME", "cat > notes.txt <<EOF\nhi\nEOF"):
        book.shell_ran(shell(harmless), SESSION, fresh=False, exited=False)
        assert book.decide(shell("ls"), "exec", SESSION) == "auto", harmless
    book.shell_ran(shell("export PATH=/x:$PATH"), SESSION, fresh=False, exited=False)
    assert book.decide(shell("ls"), "exec", SESSION) == "ask"
    assert book.decide(shell("ls"), "exec", "s2") == "auto"  # another chat has its own shell


@pytest.mark.parametrize(
    ("command", "changes"),
    [
        ("ls -la", False),
        ("ls *.py | wc -l", False),
        ("python3 script.py", True),  # its code can type into the shell (test_code_beside_the_shell)
        ("echo $(date) $HOME", False),
        ("(cd sub && make)", True),
        ("(cd sub && ls)", False),
        ("f() { ls; }", True),
        ("alias ll='ls -l'", True),
        ("\\alias ls=x", True),
        ("export PATH=bin:$PATH", True),
        ("PATH=bin ls", True),
        ("x=1", True),
        ("source env.sh", True),
        (". ./env.sh", True),
        ('eval "$(tool init)"', True),
        ("for PATH in a; do :; done", True),
        ("echo ${x:=1}", True),
        ("((x=2))", True),
        ("if true; then trap 'touch PWNED' DEBUG; fi", True),
        ('"$(echo alias)" ls=x', True),
        ("set -o posix", True),
        ("enable -n echo", True),
        ("hash -p ./evil ls", True),
        ("[[ -f x ]] && ls", True),  # bashlex cannot read it: counts as a change
        # a {name} redirection sets name to the new descriptor's number (attacker review)
        ("echo checking {HOME}>/dev/null", True),
        (": {PATH}>&2", True),
        ("cd src {HOME}</dev/null", True),
        ("caller {PS1[0]}>>log", True),
        ("{PATH}>/dev/null", True),
        ("echo listing {x[a[PATH=0]]}>/dev/null", True),  # a nested subscript assigns PATH (fourth review)
        # the same text quoted, or not right before a redirection, sets nothing (read-through review)
        ("echo '<p>{name}</p>' > index.html", False),
        ("grep -n '{title}<' src/*.jsx", False),
        ("echo '{PATH}>x'", False),
        ("echo {a} >b", False),
        # sixth attacker review: what bashlex reads as a program, or not at all
        (">/dev/null PATH=.", True),  # an assignment after a redirection
        (">/dev/null PROMPT_COMMAND='. x'", True),
        ("2>&1 LD_PRELOAD=/tmp/x.so", True),
        ("\"a\"'lias' ls=x", True),  # bash runs alias; bashlex said a'lias'
        ("\"sh\"'opt' -s expand_aliases", True),
        ("stty kill Q", True),  # the terminal then drops the start of thau's next command line
        ("tset -k Q", True),
        ("(( PATH = 1 ))", True),  # with spaces bashlex saw no assignment
        ("((X++))", True),
        ("compgen -W x z", True),  # -W's words are expanded again, in this shell
        ("al\\\nias ls=x", True),  # bash drops a backslash-newline before it reads words
        (">/dev/null PA\\\nTH=.", True),
        ("nice stty kill Q", True),  # behind a launcher
        ("timeout 5 stty raw", True),
        ("sort f.txt 2>&1", False),
    ],
)
def test_what_counts_as_changing_the_shell(command, changes):
    assert (shell_state_change(command) is not None) is changes


def test_an_ls_planted_in_a_workspace_folder_on_path_asks(workspace, canary, monkeypatch):
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    book = ApprovalBook(None)
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)  # while ls was the system's
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "auto"
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")

    planted = venv_bin / "ls"
    planted.write_text("#!/bin/sh\ntouch PWNED\n")
    planted.chmod(0o755)
    run_commands(workspace, ["ls"])
    assert (workspace / "PWNED").exists(), "the shell finds the planted ls first"
    (workspace / "PWNED").unlink()

    where = program_location("ls", workspace=workspace)
    assert where == f"?{planted} is in the workspace, where a tool can rewrite it"
    assert run_commands(workspace, ["ls"], gate=book) == ["ask"]
    assert not (workspace / "PWNED").exists()
    note = book.why_asking_again(shell("ls"), SESSION, workspace)
    assert note is not None and f"PATH looks in {venv_bin}, inside the workspace" in note
    # allowing it again does not make it hold while PATH looks in the workspace
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"
    planted.unlink()
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"  # PATH still looks there
    monkeypatch.setenv("PATH", os.environ["PATH"].split(os.pathsep, 1)[1])
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"  # the last approval was given there
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "auto"  # the system's ls again


def test_the_card_says_a_remembered_approval_would_not_hold_while_path_looks_in_the_workspace(
    workspace, tmp_path, monkeypatch
):
    """Before, the first card offered "allow for the session" with no word that it would not
    hold: the next `ls` asked again. The engine now says so on the request."""
    assert ApprovalBook(None).why_not_held(shell("ls"), SESSION, workspace) is None
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    agent = chat_agent([call("ls"), "Listed."], workspace, tmp_path)
    assert agent.approvals is not None
    assert agent.approvals.why_not_held(ToolCall("read_file", {"path": "x"}), SESSION, workspace) is None
    asked = asked_in_a_turn(agent, "list", Decision("deny", reason="no"))
    assert len(asked) == 1 and f"PATH looks in {venv_bin}, inside the workspace" in asked[0].not_held
    assert asked[0].note.count("PATH looks in") == 1  # said once on the card


def test_a_helper_an_approved_program_runs_from_a_workspace_folder_on_path_asks(workspace, canary, monkeypatch):
    """From the approvals review: `tar -tf a.tar` allowed for the session covered `tar -tzf
    a.tgz`, and tar ran gzip from PATH, a planted .venv/bin/gzip. Only the approved program's
    own place was checked (git's git-NAME helpers alone were). While PATH looks in a
    workspace folder tools can write, no remembered shell approval holds."""
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    gzip = venv_bin / "gzip"
    gzip.write_text("#!/bin/sh\ntouch PWNED\n")
    gzip.chmod(0o755)
    book = ApprovalBook(None)
    book.remember(shell("tar -tf a.tar"), "exec", Decision("session"), SESSION, workspace)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    assert book.decide(shell("tar -tzf a.tgz"), "exec", SESSION, workspace) == "ask"  # before: auto
    assert "PATH looks in" in (book.why_asking_again(shell("tar -tzf a.tgz"), SESSION, workspace) or "")
    (workspace / "a.tgz").write_bytes(b"\x1f\x8b not really")
    run_commands(workspace, ["tar -tzf a.tgz"])  # what it would have run unasked
    assert (workspace / "PWNED").exists()


def test_a_program_in_the_workspace_rewritten_after_its_approval_asks(workspace, canary, monkeypatch):
    """A project's .venv/bin/fmt, allowed by name: a later write (write_file, `cp`) changes
    what it runs but not where it is, so the approval must not hold even at the same place."""
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    tool = venv_bin / "fmt-tool"
    tool.write_text("#!/bin/sh\necho formatted\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    book = ApprovalBook(None)
    book.remember(shell("fmt-tool"), "exec", Decision("session"), SESSION, workspace)
    tool.write_text("#!/bin/sh\ntouch PWNED\n")
    run_commands(workspace, ["fmt-tool"])
    assert (workspace / "PWNED").exists(), "the rewritten tool runs: the approval must not cover it"
    (workspace / "PWNED").unlink()
    assert run_commands(workspace, ["fmt-tool"], gate=book) == ["ask"]
    assert not (workspace / "PWNED").exists()
    # an approvals file from before where-binding (no `where`) does not hold there either
    file = workspace.parent / "approvals.json"
    file.write_text(json.dumps({"version": 1, "approvals": [{"tool": "run_shell", "program": "fmt-tool"}]}))
    assert ApprovalBook(file).decide(shell("fmt-tool"), "exec", SESSION, workspace) == "ask"


def test_a_temporary_folder_on_path_means_asking(tmp_path, workspace, monkeypatch):
    """The sandbox's /tmp is its own: an ls planted in a /tmp folder on PATH cannot be seen
    from outside, so no approval by name holds while PATH looks there first."""
    private = tmp_path / "bin"  # under the temp folder, outside the workspace
    private.mkdir()
    monkeypatch.setenv("PATH", f"{private}{os.pathsep}{os.environ['PATH']}")
    book = ApprovalBook(None)
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"
    note = book.why_asking_again(shell("ls"), SESSION, workspace) or ""
    assert f"PATH looks in {private}, a temporary folder tools can write in" in note
    # and the first card of another program says so before it is allowed (attacker review)
    not_held = book.why_not_held(shell("wc -l notes.txt"), SESSION, workspace) or ""
    assert f"PATH looks in {private}, a temporary folder tools can write in" in not_held


def test_the_card_says_so_when_the_configuration_asks_every_time(workspace):
    book = ApprovalBook(None, {"run_shell": "ask"})
    book.remember(shell("ls"), "exec", Decision("session"), SESSION, workspace)
    assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"
    assert "the configuration asks before every run_shell call" in (
        book.why_not_held(shell("ls"), SESSION, workspace) or ""
    )
    assert ApprovalBook(None).why_not_held(shell("ls"), SESSION, workspace) is None


def test_a_relative_path_entry_means_asking(monkeypatch):
    monkeypatch.setenv("PATH", f"bin{os.pathsep}{os.environ['PATH']}")
    book = book_allowing("ls")
    assert book.decide(shell("ls"), "exec", SESSION) == "ask"
    assert "relative entry 'bin'" in (book.why_asking_again(shell("ls"), SESSION) or "")


def test_always_approvals_keep_their_place_in_the_file(tmp_path):
    path = tmp_path / "approvals.json"
    book = ApprovalBook(path)
    book.remember(shell("ls"), "exec", Decision("always"), None)
    rows = json.loads(path.read_text())["approvals"]
    assert rows[0]["program"] == "ls" and rows[0]["where"] == program_location("ls")
    assert ApprovalBook(path).decide(shell("ls"), "exec", "any") == "auto"
    # a file written before approvals kept the place still approves by name
    path.write_text(json.dumps({"version": 1, "approvals": [{"tool": "run_shell", "program": "ls"}]}))
    assert ApprovalBook(path).decide(shell("ls"), "exec", "any") == "auto"


def call(command: str) -> str:
    return "<tool_call>" + json.dumps({"name": "run_shell", "arguments": {"command": command}}) + "</tool_call>"


def chat_agent(replies: list[str], workspace: Path, tmp_path: Path, config: Config | None = None) -> Agent:
    """The real agent loop with a scripted model, the real tools and a fresh approval book."""
    return Agent(
        config or Config(),
        build_registry(),
        approvals=ApprovalBook(None),
        store=Store(tmp_path / "db.sqlite3"),
        backend=ScriptedBackend(replies),
        workspace=workspace,
    )


def asked_in_a_turn(agent: Agent, text: str, decision: Decision) -> list[ApprovalRequested]:
    """One turn of a fresh chat, each card answered with `decision`: the requests it made."""
    session = agent.new_session()
    asked: list[ApprovalRequested] = []

    async def turn() -> None:
        async for event in agent.run_turn(session, text):
            if isinstance(event, ApprovalRequested):
                asked.append(event)
                event.future.set_result(decision)

    try:
        asyncio.run(turn())
    finally:
        session.close()
    return asked


def test_in_the_chat_a_redefined_ls_asks_with_the_reason_on_the_card(workspace, tmp_path, canary):
    """The agent loop end to end: scripted model, real tools, real sandboxed shell."""
    replies = [call("ls"), "Listed.", call("ls() { touch PWNED; }"), "Defined.", call("ls"), "Listed again."]
    replies += [call("wc -l notes.txt"), "Counted."]  # never allowed before: the card warns all the same
    agent = chat_agent(replies, workspace, tmp_path)
    session = agent.new_session()
    asked: list[ApprovalRequested] = []

    async def turn(text: str, decision: Decision) -> list:
        events = []
        async for event in agent.run_turn(session, text):
            events.append(event)
            if isinstance(event, ApprovalRequested):
                asked.append(event)
                event.future.set_result(decision)
        return events

    async def chat() -> None:
        await turn("list the files", Decision("session"))
        await turn("define ls", Decision("once"))
        events = await turn("list again", Decision("deny", reason="no"))
        assert not any(isinstance(e, ToolFinished) for e in events)
        await turn("count its lines", Decision("deny", reason="no"))

    try:
        asyncio.run(chat())
    finally:
        session.close()
    commands = [e.call.arguments["command"] for e in asked]
    assert commands == ["ls", "ls() { touch PWNED; }", "ls", "wc -l notes.txt"]
    assert asked[0].note == asked[1].note == ""
    for event in asked[2:]:
        assert event.note.startswith("an earlier command changed this chat's shell (it defines a function)")
    assert not (workspace / "PWNED").exists()


def test_an_arithmetic_subscript_in_test_v_sets_path_and_now_asks(dirs, canary):
    """Second attacker review: `test -v 'DIRSTACK[PATH=0]'` (no `$`, quoted brackets) was
    covered by an approval of `test`, and assigned PATH=0; a planted ./0/ls then ran as the
    covered `ls`."""
    plant = "mkdir -p 0 && printf '#!/bin/sh\\necho pwned > PWNED\\n' > 0/ls && chmod +x 0/ls"  # PATH is 0
    ungated, gated = dirs
    run_commands(ungated, [plant, "test -v 'DIRSTACK[PATH=0]'", "ls"])
    assert (ungated / "PWNED").exists(), "bash assigns PATH in the subscript: the planted ls runs"

    book = book_allowing("test -d src", "ls")
    verdicts = run_commands(gated, [plant, "test -v 'DIRSTACK[PATH=0]'", "ls"], gate=book)
    assert verdicts == ["ask", "ask", "auto"]  # the plant was never allowed; `test -v` asks now
    assert not (gated / "PWNED").exists()


def test_an_empty_path_entry_keeps_approvals_from_holding(workspace, monkeypatch):
    """From the read-through: an empty PATH entry (PATH=$EXTRA:$PATH with EXTRA unset) is the
    shell's current folder; with `tar -tf` allowed, `tar -tf x.tar.lz` ran ./lzip from there."""
    book = ApprovalBook(None)
    book.remember(shell("tar -tf x.tar"), "exec", Decision("session"), SESSION, workspace)
    monkeypatch.setenv("PATH", os.environ["PATH"] + os.pathsep)
    assert book.decide(shell("tar -tf x.tar.lz"), "exec", SESSION, workspace) == "ask"  # before: auto
    assert "an empty entry" in (book.why_asking_again(shell("tar -tf x.tar.lz"), SESSION, workspace) or "")


def test_a_command_a_remembered_approval_runs_says_which_on_its_card(workspace, tmp_path):
    """The second `ls` ran without a card asking, and nothing told it from one the user
    had just allowed: its start now carries which approval let it run."""
    agent = chat_agent([call("ls"), "Listed.", call("ls"), "Listed again."], workspace, tmp_path)
    session = agent.new_session()

    async def turn(text: str) -> list[ToolStarted]:
        started = []
        async for event in agent.run_turn(session, text):
            if isinstance(event, ApprovalRequested):
                event.future.set_result(Decision("session"))
            if isinstance(event, ToolStarted):
                started.append(event)
        return started

    try:
        first, second = asyncio.run(turn("list")), asyncio.run(turn("list again"))
    finally:
        session.close()
    assert first[0].decision.by == "user" and first[0].decision.kind == "session"
    assert second[0].decision.by == "auto"
    assert second[0].decision.reason == "allowed for this chat"


def test_the_card_of_a_command_that_deletes_warns_first(workspace, tmp_path):
    agent = chat_agent([call("rm -rf src"), "Removed."], workspace, tmp_path)
    asked = asked_in_a_turn(agent, "clean up", Decision("deny", reason="no"))
    assert asked[0].note.startswith("⚠ rm -r deletes folders and everything in them")


def test_a_on_a_card_whose_approval_would_not_hold_remembers_nothing(workspace, tmp_path, monkeypatch):
    """The card says `a` allows it once too (PATH looks in the workspace), but the session
    entry was saved all the same and held later, once PATH was clean (fifth review)."""
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    agent = chat_agent([call("ls"), "Listed."], workspace, tmp_path)
    assert agent.approvals is not None
    asked = asked_in_a_turn(agent, "list", Decision("session"))
    assert len(asked) == 1 and asked[0].not_held
    assert agent.approvals.entries() == []


@pytest.mark.parametrize(
    "change",
    ["stty intr Q quit W", "stty kill Q", "python3 -c \"import os; os.system('stty intr Q')\""],
    ids=["intr", "kill", "through-python"],
)
def test_a_terminal_character_set_by_one_command_never_splits_the_next(change, workspace, canary):
    """Read-through of the stty fix: any program allowed once (python3 running stty, not only
    stty by name) could make a letter the terminal's interrupt or kill character, and the text
    of the next command after that letter ran on its own: `ls 'xQ touch PWNED #'` touched."""
    sandbox = ShellSandbox(workspace, Config())
    try:
        sandbox.run(change, timeout=20)
        result = sandbox.run("echo 'xQ touch PWNED #'", timeout=20)
        assert "xQ touch PWNED #" in result.output
    finally:
        sandbox.close()
    assert not (workspace / "PWNED").exists()
