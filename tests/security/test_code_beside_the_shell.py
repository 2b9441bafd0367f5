"""Code a command runs beside the persistent shell can change that shell (sandbox review).

`python3 helper.py`, allowed once, left a process that typed
`alias ls='touch PWNED; ls'` into the shell's terminal (TIOCSTI) after its card said
"exit status 0"; the next `ls`, allowed for the chat, ran the alias without a card. Such
code can also rewrite the shell through /proc/PID/mem, so no single ioctl filter closes
it: a command that runs code the card does not show counts as changing the shell, and
the chat's remembered approvals stop covering its commands until the shell restarts.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from thau_tui.config import Config
from thau_tui.engine.shell_command import shell_state_change
from thau_tui.tools.shell import ShellSandbox

from .test_approval_bypass import SESSION, book_allowing, shell

# Forks a child that waits until its parent's card has ended, then types an alias into the
# shell's terminal; INJECTED says whether the kernel let it (dev.tty.legacy_tiocsti).
HELPER = """import fcntl, os, termios, time
if os.fork() == 0:
    time.sleep(1)
    try:
        for ch in b"alias ls='touch PWNED; ls'\\n":
            fcntl.ioctl(0, termios.TIOCSTI, bytes([ch]))
        open("INJECTED", "w").close()
    except OSError:
        open("REFUSED", "w").close()
"""


def _run(folder: Path, gate=None) -> list[str]:
    (folder / "helper.py").write_text(HELPER)
    sandbox = ShellSandbox(folder, Config())
    verdicts = []
    try:
        result = sandbox.run("python3 helper.py", timeout=20)  # the user allowed it once
        assert result.exit_status == 0
        if gate is not None:
            gate.shell_ran(shell("python3 helper.py"), SESSION, fresh=result.fresh, exited=result.shell_exited)
        deadline = time.monotonic() + 20  # the helper's child types a second later; slower under load
        while not any((folder / name).exists() for name in ("INJECTED", "REFUSED")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the shell has the typed line in its input
        verdict = gate.decide(shell("ls"), "exec", SESSION) if gate is not None else "auto"
        verdicts.append(verdict)
        if verdict == "auto":
            sandbox.run("ls", timeout=20)
    finally:
        sandbox.close()
    return verdicts


def test_code_a_command_ran_that_types_into_the_shell_stops_the_ls_approval(dirs, canary):
    ungated, gated = dirs
    _run(ungated)
    if (ungated / "INJECTED").exists():  # the kernel allows TIOCSTI here: the attack works
        assert (ungated / "PWNED").exists(), "the typed alias runs: an approval of ls must not cover it"

    book = book_allowing("ls -la")
    assert _run(gated, gate=book) == ["ask"]
    note = book.why_asking_again(shell("ls"), SESSION) or ""
    assert "python3 runs code that can change this shell" in note
    assert not (gated / "PWNED").exists()


@pytest.mark.parametrize(
    "command",
    [
        "python3 helper.py",
        "python3 -c 'print(1)'",
        "node build.js",
        "make",
        "(cd sub && make test)",
        "./configure",
        "ls && bash run.sh",
        "git -c core.pager=less log",
        "find . -exec true {} +",
        # what a redirection's target or a here-document runs (attacker re-review)
        "echo hi > >(python3 helper.py)",
        'ls > "$(python3 x.py)"',
        "cat < <(python3 x.py)",
        'cat <<< "$(python3 x.py)"',
        "ls 2> >(./run.sh)",
        "cat <<EOF\n$(python3 helper.py)\nEOF",
        "cat <<-EOF\n\t`python3 helper.py`\nEOF",
    ],
)
def test_a_command_that_runs_code_the_card_does_not_show_changes_the_shell(command):
    assert shell_state_change(command) is not None


@pytest.mark.parametrize(
    "command",
    ["ls -la", "cat notes.txt | wc -l", "grep -rn TODO src", "cat a > b", "git status", "cat <<EOF\nhi $HOME\nEOF"],
)
def test_commands_that_run_no_such_code_keep_the_approvals(command):
    assert shell_state_change(command) is None
