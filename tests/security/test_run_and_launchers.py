"""Approvals by name against what the attacker review of 2026-12-07 (night) found: a program
planted in the sandbox's own /run (NixOS's /run/wrappers/bin is on PATH), and pdb, an
interpreter approvable by name. Each runs for real in the sandbox, ungated then gated."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from thau_tui.engine.approvals import ApprovalBook
from thau_tui.engine.events import Decision

from .test_approval_bypass import SESSION, shell
from .test_shell_state import run_commands


def test_a_program_planted_in_the_sandboxs_run_on_path_means_asking(workspace, canary, monkeypatch):
    """NixOS puts /run/wrappers/bin first on PATH. The sandbox's /run is its own, empty and
    writable: `mkdir` and `cp` there planted an `ls` that bash found first, while from here
    PATH still led to the real one, so the approval of ls held (attacker review, 2026-12-07 night)."""
    planted = "/run/thau-test-wrappers/bin"
    (workspace / "notes.sh").write_text("#!/bin/sh\necho PLANTED-LS-RAN; touch PWNED\n")
    (workspace / "notes.sh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{planted}{os.pathsep}{os.environ['PATH']}")
    plant = [f"mkdir -p {planted}", f"cp notes.sh {planted}/ls", "ls"]
    run_commands(workspace, plant)
    assert (workspace / "PWNED").exists(), "bash in the sandbox runs the planted ls"
    (workspace / "PWNED").unlink()
    book = ApprovalBook(None)
    for command in ("ls", "mkdir -p x", "cp a b"):
        book.remember(shell(command), "exec", Decision("session"), SESSION, workspace)
    assert run_commands(workspace, plant, gate=book)[-1] == "ask"  # before: auto, and it ran
    assert not (workspace / "PWNED").exists()
    note = book.why_asking_again(shell("ls"), SESSION, workspace) or ""
    assert f"PATH looks in {planted}, a temporary folder tools can write in" in note


def test_pdb_runs_the_workspaces_code_and_is_never_approved_by_name(workspace, canary):
    """`a` on `pdb3 --help` covered `pdb3 -c continue evil.py`, which runs evil.py: pdb is a
    Python interpreter (attacker review, 2026-12-07 night)."""
    if shutil.which("pdb3") is None:
        pytest.fail("pdb3 (Debian's python3 package) is missing: the test needs the real program")
    (workspace / "evil.py").write_text("open('PWNED', 'w').close()\n")
    run_commands(workspace, ["pdb3 -c continue evil.py < /dev/null"])
    assert (workspace / "PWNED").exists(), "pdb3 runs the script it is given"
    (workspace / "PWNED").unlink()
    book = ApprovalBook(None)
    book.remember(shell("pdb3 --help"), "exec", Decision("session"), SESSION, workspace)
    assert run_commands(workspace, ["pdb3 -c continue evil.py < /dev/null"], gate=book) == ["ask"]
    assert not (workspace / "PWNED").exists()


def test_a_folder_the_sandbox_keeps_of_run_holds_an_approval_and_cannot_be_planted_in(workspace, canary, monkeypatch):
    """NixOS's /run/wrappers/bin is first on its PATH: counted as a temporary folder, no
    approval by name held for any command there (diff review). The sandbox now binds it
    read-only (RUN_KEPT), so an approval holds and nothing can be planted in it. Stood in for
    by a folder of our own under /run, kept the same way."""
    import thau_tui.engine.program_location as shell_command  # where RUN_KEPT is read
    import thau_tui.tools.sandbox as sandbox

    kept = Path(f"/run/thau-test-kept-{os.getpid()}")
    try:
        (kept / "bin").mkdir(parents=True)
    except PermissionError:
        pytest.fail("the test makes a folder under /run, as NixOS has /run/wrappers: run it as root")
    try:
        monkeypatch.setattr(sandbox, "RUN_KEPT", (*sandbox.RUN_KEPT, str(kept)))
        monkeypatch.setattr(shell_command, "RUN_KEPT", sandbox.RUN_KEPT)
        monkeypatch.setenv("PATH", f"{kept / 'bin'}{os.pathsep}{os.environ['PATH']}")
        (workspace / "notes.sh").write_text("#!/bin/sh\ntouch PWNED\n")
        (workspace / "notes.sh").chmod(0o755)
        book = ApprovalBook(None)
        for command in ("ls", "cp a b"):
            book.remember(shell(command), "exec", Decision("session"), SESSION, workspace)
        assert book.decide(shell("ls"), "exec", SESSION, workspace) == "auto"  # before: "ask", always
        run_commands(workspace, [f"cp notes.sh {kept}/bin/ls", "ls"], gate=book)
        assert not (kept / "bin" / "ls").exists() and not (workspace / "PWNED").exists()
        assert "/run/wrappers" in sandbox.RUN_KEPT  # NixOS's own, kept the same way
        # a kept folder the host lacks is not bound, so the sandbox's is writable: no approval holds
        missing = f"/run/thau-test-missing-{os.getpid()}/bin"
        monkeypatch.setattr(shell_command, "RUN_KEPT", (*sandbox.RUN_KEPT, str(Path(missing).parent)))
        monkeypatch.setenv("PATH", f"{missing}{os.pathsep}{os.environ['PATH']}")
        assert book.decide(shell("ls"), "exec", SESSION, workspace) == "ask"
    finally:
        shutil.rmtree(kept, ignore_errors=True)
