"""The persistent shell: real bash through pexpect, inside bubblewrap when it is there."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest

from thau_tui.config import Config
from thau_tui.tools import shell as shell_module
from thau_tui.tools.sandbox import sandbox_status
from thau_tui.tools.shell import TOOLS, ShellSandbox

HAS_BWRAP = shutil.which("bwrap") is not None


@pytest.fixture(autouse=True)
def quick_input_checks(monkeypatch):
    """The shell asks "is the command waiting for input?" after 1.5 s without output, a pace
    for real use. These commands are silent from their start, so here it asks after 0.3 s:
    the verdict (read from /proc) is what the tests check, not the pace."""
    monkeypatch.setattr(shell_module, "_IDLE_BEFORE_CHECK", 0.3)


@pytest.fixture
def shell(workspace, config):
    sandbox = ShellSandbox(workspace, config)
    yield sandbox
    sandbox.close()


def test_cd_and_variables_persist_between_commands(shell, workspace):
    (workspace / "sub").mkdir()
    assert shell.run("cd sub && GREETING=hello && export COLOUR=blue").exit_status == 0
    result = shell.run("pwd; echo $GREETING $COLOUR")
    assert result.output.splitlines()[:2] == [str(workspace / "sub"), "hello blue"]


def test_the_shell_says_where_it_is(shell, workspace):
    """What approvals read to tell which repository git would find (None: not started yet)."""
    assert shell.current_folder() is None
    (workspace / "sub").mkdir()
    shell.run("cd sub", timeout=20)
    assert shell.current_folder() == str((workspace / "sub").resolve())
    shell.run("cd /", timeout=20)
    assert shell.current_folder() == "/"
    shell.close()
    assert shell.current_folder() is None


def test_exit_status_is_reported(shell):
    failed = shell.run("false")
    assert failed.exit_status == 1
    assert failed.output.endswith("[exit status 1]")
    assert shell.run("sh -c 'exit 7'").exit_status == 7
    ok = shell.run("echo fine")
    assert (ok.exit_status, ok.output) == (0, "fine\n[exit status 0]")


def test_multiline_quotes_heredoc_and_long_commands(shell):
    script = 'for i in 1 2; do\n  echo "n=$i"\ndone\ncat <<\'EOF\'\nit\'s a \\ "test"\nEOF'
    assert shell.run(script).output == 'n=1\nn=2\nit\'s a \\ "test"\n[exit status 0]'
    long = "echo " + "x" * 5000 + " | wc -c"  # longer than one terminal line
    assert shell.run(long).output.splitlines()[0] == "5001"


def test_output_streams_while_the_command_runs(shell, workspace):
    # The command goes on only when 'first' has reached the callback (which creates `go`):
    # had the output been held back until the command ended, it would have timed out.
    shown: list[str] = []

    def on_output(chunk: str) -> None:
        shown.append(chunk)
        if "first" in "".join(shown):
            (workspace / "go").touch()

    result = shell.run("echo first; until [ -e go ]; do sleep 0.05; done; echo second", timeout=20, on_output=on_output)
    assert not result.timed_out and result.output == "first\nsecond\n[exit status 0]"
    assert "".join(shown).startswith("first\n")


def test_ansi_colours_are_stripped(shell):
    assert shell.run(r"printf '\033[31mred\033[0m plain\n'").output.startswith("red plain\n")


def test_timeout_sends_ctrl_c_and_keeps_the_shell(shell):
    shell.run("KEEP=me")
    result = shell.run("sleep 30", timeout=1)
    assert result.timed_out and result.interrupted
    # the Ctrl-C alone brought bash back: the sleep was interrupted, nothing had to be killed
    assert result.output.endswith("[timed out after 1 s (tools.shell.timeout); sent Ctrl-C]")
    after = shell.run("echo $KEEP")  # same shell: the variable survived
    assert after.output.startswith("me\n") and not after.restarted


def test_a_command_that_ignores_ctrl_c_stops_with_the_rest_of_its_line(shell, workspace):
    """Killing the command bash waited on let bash run the rest of the line: after a timeout (or
    Esc) of `trap "" INT; sleep 30; touch after.txt`, after.txt was made (diff review). bash is
    held before its command is killed, and the shell starts afresh."""
    result = shell.run('trap "" INT; sleep 30; touch after.txt', timeout=1)
    assert result.timed_out and "nothing after it ran" in result.output, result.output
    time.sleep(1.0)
    assert not (workspace / "after.txt").exists()
    after = shell.run("echo fresh")
    assert "the last command ignored Ctrl-C" in after.output and "\nfresh\n" in after.output and after.restarted


def test_cancel_event_interrupts(shell):
    cancel = threading.Event()
    # Esc once the command runs
    result = shell.run("echo started; sleep 30", cancel_event=cancel, on_output=lambda c: cancel.set())
    assert result.interrupted and not result.timed_out
    assert "cancelled by the user" in result.output


@pytest.mark.parametrize("command", ["python3", "read answer", "cat", "python3 -c 'input()'"])
def test_commands_waiting_for_input_are_interrupted(shell, command):
    result = shell.run(command, timeout=20)
    assert result.waiting_for_input and not result.timed_out  # seen waiting, not left to time out
    assert "waiting for input; interactive commands are not supported" in result.output
    assert shell.run("echo still here").output.startswith("still here")


def test_a_quiet_sleep_is_not_mistaken_for_waiting(shell):
    result = shell.run("sleep 1.5; echo done", timeout=20)  # silent through several checks
    assert not result.waiting_for_input
    assert result.output == "done\n[exit status 0]"


def test_long_output_keeps_head_and_tail(workspace):
    config = Config()
    config.tools.shell.output_limit = 200
    sandbox = ShellSandbox(workspace, config)
    try:
        result = sandbox.run("seq 1 20000")
    finally:
        sandbox.close()
    lines = result.output.splitlines()
    assert lines[:3] == ["1", "2", "3"]
    assert lines[-2:] == ["20000", "[exit status 0]"]
    assert result.truncated and any("characters cut ..." in line for line in lines)
    assert len(result.output) < 400


def test_secrets_are_scrubbed_from_the_environment(shell, monkeypatch):
    for name in ("OPENAI_API_KEY", "GITHUB_TOKEN", "DB_password", "MY_SECRET"):
        monkeypatch.setenv(name, "hidden")
    monkeypatch.setenv("THAU_PLAIN", "visible")
    monkeypatch.setenv("THAU_NOT_LISTED", "visible")
    shell.config.tools.shell.env_passthrough = ["THAU_PLAIN"]
    shell.close()  # the environment is read when bash starts
    output = shell.run("env").output
    assert "THAU_PLAIN=visible" in output  # named in tools.shell.env_passthrough
    assert "THAU_NOT_LISTED" not in output  # an allow-list: what is not named stays out
    assert "hidden" not in output


def test_exit_restarts_the_shell_on_the_next_command(shell):
    shell.run("MARK=1")
    gone = shell.run("exit 3")
    assert gone.shell_exited and gone.exit_status == 3
    assert "the shell exited" in gone.output
    back = shell.run("echo ${MARK:-unset}")
    assert back.restarted and "started a fresh shell" in back.output
    assert "unset\n" in back.output


def test_run_shell_tool_keeps_one_shell_per_session(ctx):
    tool = TOOLS[0]
    assert tool.name == "run_shell" and tool.risk == "exec" and tool.summary
    first = tool.run({"command": "NAME=thau"}, ctx)
    assert first.ok and first.data["exit_status"] == 0
    second = tool.run({"command": "echo $NAME; exit_code_test() { return 4; }; exit_code_test"}, ctx)
    assert "thau" in second.output and second.data["exit_status"] == 4 and not second.ok
    assert "thau" in "".join(ctx.chunks)
    assert isinstance(ctx.resources["shell"], ShellSandbox)


def test_sandbox_status_says_what_is_in_force():
    config = Config()
    config.tools.shell.sandbox = "none"
    assert sandbox_status(config).startswith("none: turned off")
    if HAS_BWRAP:
        status = sandbox_status(Config())
        assert status.startswith(
            "bubblewrap: workspace writable, .git read-only, rest read-only, "
            "credentials and /run hidden, network off; processes <= 256"
        )
        assert status.endswith("memory <= 4096 MB a process")


@pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed (CI installs it)")
def test_bubblewrap_refuses_writes_outside_the_workspace(shell, workspace, tmp_path):
    outside = Path("/var/tmp") / f"thau-probe-{uuid.uuid4().hex}"  # writable here, read-only in there
    result = shell.run(f"echo x > {outside}; echo status=$?; echo y > inside.txt; echo z > {tmp_path}/t.txt")
    assert "Read-only file system" in result.output and "status=1" in result.output
    assert not outside.exists()
    assert (workspace / "inside.txt").read_text() == "y\n"
    # /tmp is the sandbox's own tmpfs: the write succeeded in there and never reached the host
    assert shell.run(f"cat {tmp_path}/t.txt").output.startswith("z")
    assert not (tmp_path / "t.txt").exists()
    network = shell.run("python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)\"")
    assert network.exit_status != 0 and "unreachable" in network.output.lower()


def test_without_a_sandbox_the_shell_still_detects_input_waits(workspace):
    config = Config()
    config.tools.shell.sandbox = "none"
    sandbox = ShellSandbox(workspace, config)
    try:
        result = sandbox.run("cat", timeout=20)
        assert result.waiting_for_input
        assert sandbox.run("pwd").output.startswith(str(workspace))
    finally:
        sandbox.close()


def test_ctrl_c_works_even_when_thau_ignores_sigint(workspace, config):
    # An ignored SIGINT is inherited across fork and exec: bash's commands then shrug off
    # Ctrl-C and a timeout had to kill them (a full CI run). The shell resets it in the child.
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    shell = ShellSandbox(workspace, config)
    try:
        result = shell.run("sleep 30", timeout=1)
        assert result.timed_out and "Ctrl-C" in result.output and "killed" not in result.output
    finally:
        signal.signal(signal.SIGINT, previous)
        shell.close()
