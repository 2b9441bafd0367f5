"""run_python: a real isolated subprocess with time and memory limits."""

from __future__ import annotations

import signal

from thau_tui.tools.python import TOOLS, run_python


def test_prints_output_and_exit_status(ctx, workspace):
    result = run_python({"code": "import os\nprint('hi', os.getcwd())"}, ctx)
    assert result.ok and result.data["exit_status"] == 0
    assert result.output == f"hi {workspace}\n[exit status 0]"
    assert "hi" in "".join(ctx.chunks)  # streamed to the card as well


def test_failure_reports_traceback_and_status(ctx):
    result = run_python({"code": "raise SystemExit(4)"}, ctx)
    assert not result.ok and result.output == "[exit status 4]"
    boom = run_python({"code": "1/0"}, ctx)
    assert "ZeroDivisionError" in boom.output and boom.output.endswith("[exit status 1]")


def test_runs_isolated(ctx, workspace, monkeypatch):
    (workspace / "shadow.py").write_text("VALUE = 'from the workspace'\n")
    monkeypatch.setenv("PYTHONPATH", str(workspace))
    monkeypatch.setenv("SERVICE_TOKEN", "hidden")
    code = "import sys, os\nprint(sys.flags.isolated, '' in sys.path, os.environ.get('SERVICE_TOKEN'))\nimport shadow"
    result = run_python({"code": code}, ctx)
    assert result.output.startswith("1 False None\n")
    assert "ModuleNotFoundError: No module named 'shadow'" in result.output


def test_stdin_is_empty_so_input_fails_fast(ctx):
    result = run_python({"code": "input('name? ')"}, ctx)
    # input() met the end of stdin at once: it did not wait for the timeout to stop it
    assert not result.data["timed_out"] and result.data["exit_status"] == 1
    assert "EOFError" in result.output


def test_timeout_kills_the_process(ctx, config):
    config.tools.python.timeout = 1
    result = run_python({"code": "import time\nprint('start', flush=True)\nwhile True: time.sleep(0.05)"}, ctx)
    assert result.data["exit_status"] == -signal.SIGKILL  # killed: the loop never ends by itself
    assert result.data["timed_out"] and not result.ok
    assert result.output == "start\n[timed out after 1 s (tools.python.timeout); the process was stopped]"


def test_memory_limit(ctx, config):
    config.tools.python.memory_mb = 128
    result = run_python({"code": "block = bytearray(400 * 1024 * 1024)\nprint('allocated')"}, ctx)
    assert "allocated" not in result.output
    assert "MemoryError" in result.output and "limit is 128 MB" in result.output


def test_cancel_stops_the_process(ctx, config):
    config.tools.python.timeout = 30  # only the cancel stops it in time
    ctx.on_output = lambda text: "running" in text and ctx.cancel_event.set()  # Esc once it runs
    result = run_python({"code": "print('running', flush=True)\nwhile True: pass"}, ctx)
    assert result.data["exit_status"] == -signal.SIGKILL and not result.data["timed_out"]
    assert result.data["cancelled"] and "cancelled by the user" in result.output


def test_tool_declaration():
    tool = TOOLS[0]
    assert (tool.name, tool.risk, tool.parameters["required"]) == ("run_python", "exec", ["code"])
    assert tool.parameters["additionalProperties"] is False


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its new parent to reap it counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_a_child_left_running_is_stopped_when_the_code_ends_without_a_sandbox(ctx, config, workspace):
    """Without bubblewrap (tools.shell.sandbox: none, or macOS) nothing stopped a process the
    code left running once the code itself exited: it went on writing the workspace after the
    user saw the result. The process group is now killed after a normal exit too (inside
    bubblewrap its PID namespace ends them all already)."""
    import time

    config.tools.shell.sandbox = "none"
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    open('pid', 'w').write(str(os.getpid()))\n"
        "    for i in range(100):\n"
        "        open('beat', 'w').write(str(i)); time.sleep(0.05)\n"
        "    os._exit(0)\n"
        "while not os.path.exists('pid'): time.sleep(0.01)\n"
        "print('parent done')\n"
    )
    result = run_python({"code": code}, ctx)
    assert result.output == "parent done\n[exit status 0]"
    pid = int((workspace / "pid").read_text())
    deadline = time.monotonic() + 2
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(pid), "the child the code left is still running"
    beat = (workspace / "beat").read_text()
    time.sleep(0.3)
    assert (workspace / "beat").read_text() == beat  # and it writes nothing more


def test_the_code_runs_under_the_shells_process_cap(ctx, config):
    """The shell's processes are capped (tools.shell.max_processes); run_python's and
    debug_code's were not, so a fork loop there was unbounded."""
    from thau_tui.tools.devtools import debug_code

    config.tools.shell.max_processes = 40
    code = "import resource\nprint(resource.getrlimit(resource.RLIMIT_NPROC))"
    assert run_python({"code": code}, ctx).output == "(40, 40)\n[exit status 0]"
    assert "(40, 40)" in debug_code({"code": code}, ctx).output


def test_a_fork_loop_stops_at_the_process_cap(ctx, config):
    """Enforced, not only set: by RLIMIT_NPROC in the sandbox's user namespace for a normal
    user, by a pids cgroup for root (the kernel does not hold root to RLIMIT_NPROC)."""
    config.tools.shell.max_processes = 20
    code = (
        "import os, time\n"
        "started = refused = 0\n"
        "for i in range(60):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        refused += 1\n"
        "        continue\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    started += 1\n"
        "print('started', started, 'refused', refused)\n"
    )
    result = run_python({"code": code}, ctx)
    assert result.ok, result.output
    started, refused = int(result.output.split()[1]), int(result.output.split()[3])
    assert started < 20 and refused == 60 - started
