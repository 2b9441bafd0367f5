"""The persistent shell closed while a command runs in it (headless review): a second Ctrl+C
in `thau -m`, or a chat closed mid-command, closes the session's shell while the tool
thread still reads its pty. That read ended in "the run_shell tool crashed" and an
`OSError: [Errno 9] Bad file descriptor` traceback; the command now just stops."""

from __future__ import annotations

import threading
import time

from thau_tui.config import Config
from thau_tui.tools.shell import ShellSandbox


def test_a_shell_closed_under_a_running_command_ends_it_without_an_error(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shell = ShellSandbox(workspace, Config())
    ended: dict[str, object] = {}
    output: list[str] = []

    def run() -> None:
        try:
            ended["result"] = shell.run("echo started; sleep 30", timeout=60, on_output=output.append)
        except BaseException as exc:  # noqa: BLE001 - what the test is about
            ended["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while "started" not in "".join(output) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "started" in "".join(output), "the command never started"
    shell.close()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the command went on after its shell was closed"
    assert "error" not in ended, repr(ended.get("error"))
    assert ended["result"].shell_exited  # type: ignore[attr-defined]  # said as an ended shell, not a crash
