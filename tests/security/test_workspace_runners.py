"""An approval by name must not cover code a tool call can rewrite.

`make`, `pytest`, `npm`, `cargo`, ... run what files in the workspace say (the
Makefile, conftest.py, package.json), and `./build.sh` is such a file itself. A
tool call can rewrite those files between two runs (write_file, a shell command,
run_python), so "allow `make` for this session" would have allowed whatever the
Makefile says at each later run, code the user never saw. None of them is
remembered now: each call asks, the card saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.code_running import WORKSPACE_RUNNERS, workspace_code
from thau_tui.engine.events import Decision

from .test_approval_bypass import SESSION, assert_never_remembered, shell


def run_in_bash(command: str, cwd: Path) -> None:
    subprocess.run(["bash", "-c", command], cwd=cwd, env={**os.environ, "HOME": str(cwd)}, timeout=30, check=False)


def test_a_rewritten_script_does_not_run_on_the_approval_of_the_old_one(dirs):
    ungated, gated = dirs
    for folder in dirs:
        script = folder / "build.sh"
        script.write_text("#!/bin/sh\necho built\n")
        script.chmod(0o755)
    book = ApprovalBook(None)
    # The user saw `./build.sh` print "built" and pressed `a`: it is not remembered.
    assert book.remember(shell("./build.sh"), "exec", Decision("session"), SESSION) == []
    for folder in dirs:  # a later write_file (or `cp`) rewrites the script
        (folder / "build.sh").write_text("#!/bin/sh\n: > PWNED\n")
    run_in_bash("./build.sh", ungated)
    assert (ungated / "PWNED").exists(), "the rewritten script runs: an approval of the old one must not cover it"
    verdict = book.decide(shell("./build.sh"), "exec", SESSION)
    if verdict == "auto":
        run_in_bash("./build.sh", gated)
    assert verdict == "ask"
    assert not (gated / "PWNED").exists()


RUNNERS = [
    "make",
    "make test",
    "pytest -q",
    "py.test tests",
    "npm test",
    "npm run build",
    "yarn start",
    "cargo build",
    "go test ./...",
    "pip install .",
    "uv sync",
    "tox -e py311",
    "gradle build",
    "pre-commit run --all-files",
    "mypy src",
    "pylint pkg",
    "eslint .",
    "sphinx-build docs out",
    "hg status",
    "jj log",
    "./build.sh",
    "bin/run",
    "../x",
    "~/bin/tool",
    "/tmp/tool",
    "/usr/../tmp/tool",
    "ls && make",
    "git status; ./deploy",
    "Make test",
    "pixi run test",
    "rye run app",
    "doit",
    "snakemake -j1",
    "papermill in.ipynb out.ipynb",
    "jupyter-nbconvert --execute x.ipynb",
    "pyinstaller app.spec",
    "xdoctest pkg",
    "locust -f locustfile.py",
    "task build",
]


@pytest.mark.parametrize("command", RUNNERS)
@pytest.mark.parametrize("kind", ["session", "always"])
def test_workspace_runners_are_never_remembered(command, kind, tmp_path):
    scope = assert_never_remembered(command, kind, tmp_path)
    assert "this call only" in scope and "a tool can rewrite" in scope, scope


def test_runners_in_an_old_approvals_file_approve_nothing(tmp_path):
    """A file written before this fix may hold `make` or `./build.sh`: they cover nothing now."""
    path = tmp_path / "approvals.json"
    rows = [{"tool": "run_shell", "program": name} for name in ("make", "./build.sh", "pytest", "ls")]
    path.write_text(json.dumps({"version": 1, "approvals": rows}))
    book = ApprovalBook(path)
    assert book.decide(shell("ls -la"), "exec", SESSION) == "auto"
    for command in ("make", "./build.sh", "pytest -x", "ls && make test"):
        assert book.decide(shell(command), "exec", SESSION) == "ask", command


@pytest.mark.parametrize("command", ["/usr/bin/ls -la", "/bin/echo hi", "git status", "wc -l README.md"])
def test_system_programs_and_ordinary_ones_stay_covered(command):
    book = ApprovalBook(None)
    assert book.remember(shell(command), "exec", Decision("session"), SESSION)
    assert book.decide(shell(command), "exec", SESSION) == "auto"


def test_the_reason_says_what_runs():
    assert workspace_code("make") == "make runs the Makefile's recipes, which a tool can rewrite"
    assert workspace_code("pytest") == "pytest runs the tests and their conftest.py, which a tool can rewrite"
    assert workspace_code("./build.sh") == "./build.sh is a file a tool can rewrite"
    assert workspace_code("ls") is None and workspace_code("/usr/bin/ls") is None
    assert all(name == name.lower() and "/" not in name for name in WORKSPACE_RUNNERS)
