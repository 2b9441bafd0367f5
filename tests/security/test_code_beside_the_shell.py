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
        if verdict == "auto":  # under load the typed line can reach bash after thau's own ls: again
            for _ in range(3):
                sandbox.run("ls", timeout=20)
                if (folder / "PWNED").exists():
                    break
                time.sleep(0.5)
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
        "find . -exec python3 x.py {} +",
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


@pytest.mark.parametrize(
    "command",
    [
        "sed -n 1,2p script.py",
        "sed -i 's/a/b/g' f",
        "sed '1d;$d' f",
        "awk -F: '{print $1}' f",
        "timeout 5 ls",
        "env LC_ALL=C sort f",
        "nice -n 5 grep x f",
        "find . -name '*.py' -exec grep -n TODO {} +",
        "find . -name '*.pyc' -delete",
    ],
)
def test_everyday_reading_whose_whole_program_the_card_shows_keeps_the_approvals(command):
    """`sed -n 1,2p f`, allowed once, stopped every approval of the chat: models read files
    with it all the time (skeptic review)."""
    assert shell_state_change(command) is None


@pytest.mark.parametrize(
    "command",
    [
        "sed e f",
        "sed 's/a/b/e' f",
        "sed 's/a/b/w out' f",
        "sed -n 1p -e 'e id' f",  # GNU sed reads -e after the first operand: 1p is then a file
        "sed -f script.sed f",
        "awk 'BEGIN{system(\"id\")}'",
        "awk '{print > \"out\"}' f",
        "awk -f prog.awk f",
        "timeout 5 python3 x.py",
        "env -S 'python3 x.py'",
        "nice make",
        "find . -exec sh -c 'id' {} ;",
        "find . -ok rm {} ;",
        # the attacker review of the launchers: find's {} as the program, an -exec that is
        # another option's value, env's split string and the variables that run other code
        "find /usr/bin -maxdepth 1 -name python3 -exec {} helper.py ';'",
        "find . -execdir /usr/bin/{} ';'",
        "find . -maxdepth 0 -name -exec -o -exec python3 helper.py ';'",
        "find . -name -exec ! -exec python3 helper.py ';'",
        "env --split-string='python3 helper.py' true",
        "env -vS'python3 helper.py x=1'",
        "env BASH_ENV=helper.sh ldd /bin/true",
        "env GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.fsmonitor GIT_CONFIG_VALUE_0='python3 helper.py' git status",
        "env LD_PRELOAD=./x.so ls",
        "env PATH=.:/usr/bin ls",
    ],
)
def test_a_script_or_launched_program_that_runs_unseen_code_still_counts(command):
    assert shell_state_change(command) is not None


def test_the_card_says_how_to_reset_the_shell_and_exit_is_done(workspace):
    """ "exit the shell to reset it" named no way to (the user cannot type into that shell), the
    exit card carried the same warning, and a deliberate exit showed as failed (skeptic review)."""
    from thau_tui.tools.base import ToolContext
    from thau_tui.tools.shell import run_shell

    book = book_allowing("ls -la")
    book.shell_ran(shell("python3 x.py"), SESSION, fresh=False, exited=False)
    note = book.why_asking_again(shell("ls"), SESSION) or ""
    assert "ask for `exit` (a fresh shell) or start a new chat (Ctrl+N)" in note
    assert "exit starts a fresh one" in (book.why_asking_again(shell("exit"), SESSION) or "")
    ctx = ToolContext(workspace=workspace, config=Config(), session_id=SESSION)
    try:
        assert run_shell({"command": "true"}, ctx).ok
        ended = run_shell({"command": "exit"}, ctx)
        assert ended.ok and ended.data["shell_exited"]
        assert not run_shell({"command": "exit 3"}, ctx).ok
    finally:
        shell_resource = ctx.resources.get("shell")
        if shell_resource is not None:
            shell_resource.close()
