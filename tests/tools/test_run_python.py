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
