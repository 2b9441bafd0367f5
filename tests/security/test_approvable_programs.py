"""Approvals by name cover only the programs on a list of safe ones (approvable_programs.py).

Before, any program was approvable unless a table said it ran code, and every attacker
review found more launchers missing from the tables: on the machine where this was
written, 1,224 of the 1,479 programs on PATH were approvable, thau's own dependency
`watchfiles` among them (`watchfiles 'touch PWNED' .` runs its argument). These tests
failed before the list: each attack below ran without a card after an `a` on a harmless
use of the same program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from thau_tui.engine.approvable_programs import APPROVABLE_BY_NAME, BY_SCRIPT, approvable_by_name, set_added
from thau_tui.engine.approvals import ApprovalBook, describe_session_scope, programs_of
from thau_tui.engine.events import Decision
from thau_tui.engine.never_approved import NEVER_APPROVED, WORKSPACE_RUNNERS
from thau_tui.tools.base import ToolCall

SESSION = "s1"


def shell(command: str) -> ToolCall:
    return ToolCall("run_shell", {"command": command})


def allow_for_the_chat(book: ApprovalBook, command: str) -> list:
    """What `a` on the card of `command` remembered."""
    return book.remember(shell(command), "exec", Decision("session"), SESSION)


def test_watchfiles_runs_its_argument_and_an_approval_of_it_no_longer_covers_that(tmp_path):
    """watchfiles is installed with thau. An `a` on `watchfiles --version` allowed
    `watchfiles 'touch PWNED' .`, which runs the command (and then waits for changes)."""
    program = shutil.which("watchfiles")
    assert program is not None, "watchfiles is one of thau's dependencies"
    ungated, gated = tmp_path / "ungated", tmp_path / "gated"
    ungated.mkdir()
    gated.mkdir()
    attack = "watchfiles 'touch PWNED' ."
    with pytest.raises(subprocess.TimeoutExpired):  # it keeps watching after the first run
        subprocess.run(["bash", "-c", attack], cwd=ungated, capture_output=True, timeout=4, env=os.environ.copy())
    assert (ungated / "PWNED").exists(), "watchfiles runs the command it is given"

    book = ApprovalBook(None)
    assert allow_for_the_chat(book, "watchfiles --version") == []
    assert book.decide(shell(attack), "exec", SESSION) == "ask"
    assert not (gated / "PWNED").exists()
    scope = describe_session_scope(shell("watchfiles --version"))
    assert scope == (
        "this call only (once: watchfiles is not on thau's list of programs safe to allow by name"
        " (tools.shell.approvable_by_name in config.yaml))"
    ), scope


@pytest.mark.parametrize(
    ("allowed", "attack"),
    [
        ("dotenv list", "dotenv run -- touch PWNED"),
        ("typer --version", "typer evil.py run"),
        ("isympy --version", "isympy -c python"),
        ("torchrun --help", "torchrun evil.py"),
        ("accelerate-launch --help", "accelerate-launch evil.py"),
        ("pyenv-exec --help", "pyenv-exec touch PWNED"),
        ("xdg-open notes.txt", "xdg-open evil.desktop"),
        ("docker ps", "docker run -v /:/host alpine touch /host/PWNED"),
        ("scala -version", "scala evil.scala"),
        ("elixir --version", "elixir -e 'File.touch(\"PWNED\")'"),
        ("nu --version", "nu -c 'touch PWNED'"),
        ("swipl --version", "swipl evil.pl"),
        ("mono --version", "mono evil.exe"),
        ("sqlite-utils --version", "sqlite-utils memory --load-extension ./evil.so 'select 1'"),
        ("openssl version", "openssl req -config ./x.cnf -new"),
        ("some-new-tool --help", "some-new-tool --plugin ./evil.so"),
    ],
)
def test_a_program_off_the_list_is_allowed_once_only(allowed, attack):
    book = ApprovalBook(None)
    assert allow_for_the_chat(book, allowed) == [], f"{allowed}: `a` must remember nothing"
    assert book.decide(shell(allowed), "exec", SESSION) == "ask"
    assert book.decide(shell(attack), "exec", SESSION) == "ask"
    assert programs_of(allowed) is None


@pytest.mark.parametrize(
    ("command", "programs"),
    [
        ("ls -la", ["ls"]),
        ("cat notes.txt | grep -n TODO | wc -l", ["cat", "grep", "wc"]),
        ("cd src && ls", ["cd", "ls"]),
        ("gcc-12 -O2 -c main.c", ["gcc-12"]),
        ("x86_64-linux-gnu-gcc -c main.c", ["x86_64-linux-gnu-gcc"]),
        ("/usr/bin/head -3 notes.txt", ["/usr/bin/head"]),
        ("git status", ["git status"]),
        ("sha256sum notes.txt", ["sha256sum"]),
        ("jq .name package.json", ["jq"]),
    ],
)
def test_the_programs_on_the_list_are_still_allowed_for_the_chat(command, programs):
    book = ApprovalBook(None)
    assert allow_for_the_chat(book, command)
    assert book.decide(shell(command), "exec", SESSION) == "auto"
    assert programs_of(command) == programs


@pytest.mark.parametrize("name", ["cat-server", "lsx", "grep.py", "git-shell", "gitk", "cc1", "ls.exe", "tar2"])
def test_a_name_is_matched_whole_not_by_its_start(name):
    """`cat-server` is not cat; only a version (gcc-12) or a cross target is taken off."""
    assert not approvable_by_name(name)
    assert programs_of(f"{name} x") is None


def test_the_list_holds_no_interpreter_launcher_or_workspace_runner():
    assert not APPROVABLE_BY_NAME & NEVER_APPROVED
    assert not APPROVABLE_BY_NAME & set(WORKSPACE_RUNNERS)
    for name in ("python3", "bash", "env", "xargs", "sudo", "timeout", "awk", "sed", "make", "pytest"):
        assert programs_of(f"{name} --version") is None, name


def test_no_program_on_this_machine_is_approvable_unless_it_is_on_the_list():
    """Every program on PATH here: approvable by name only if the list has it."""
    names: set[str] = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if Path(folder).is_dir():
            names.update(entry.name for entry in Path(folder).iterdir())
    assert len(names) > 50
    approvable = sorted(name for name in names if programs_of(f"{name} x") is not None)
    assert approvable, "ls and cat at least are approvable"
    # sed is the one exception: approvable when its whole script only prints (BY_SCRIPT)
    assert [name for name in approvable if not approvable_by_name(name) and name not in BY_SCRIPT] == []


@pytest.fixture
def configured():
    """set_added as config.yaml's tools.shell.approvable_by_name calls it; the list as it
    was afterwards."""
    yield set_added
    set_added([])


def test_the_configuration_adds_a_program_and_taking_it_out_asks_again(configured):
    book = ApprovalBook(None)
    assert allow_for_the_chat(book, "hadolint check .") == []
    assert configured(["hadolint", "Yamllint"]) == []
    assert allow_for_the_chat(book, "hadolint check .")
    assert book.decide(shell("hadolint check src"), "exec", SESSION) == "auto"
    assert programs_of("yamllint x.yml") == ["yamllint"]  # case as macOS names ignore it
    configured([])
    assert book.decide(shell("hadolint check src"), "exec", SESSION) == "ask"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("python3", "python3 left out (it runs whatever code it is given: thau never allows it by name)"),
        ("xargs", "xargs left out (it runs whatever code it is given"),
        ("make", "make runs the Makefile's recipes, which a tool can rewrite"),
        ("pytest", "pytest runs the tests and their conftest.py"),
        ("docker", "docker left out (it runs whatever code it is given"),  # diff review: it was kept
        ("kubectl", "kubectl left out"),
        ("qemu-x86_64", "qemu-x86_64 left out"),
    ],
)
def test_the_configuration_never_makes_a_launcher_approvable(configured, name, said):
    problems = configured([name, "hadolint"])
    assert len(problems) == 1 and said in problems[0] and "tools.shell.approvable_by_name" in problems[0], problems
    assert programs_of(f"{name} --version") is None
    assert programs_of("hadolint --version") == ["hadolint"]


def test_sed_whose_whole_script_prints_is_approvable_and_its_other_forms_ask(tmp_path):
    """`sed -n 1,5p f`, the commonest way to show part of a file, asked every time (diff
    review of 2026-12-08). A sed that runs (e, s///e), writes (w, -i) or reads its script from
    a file still asks after an `a` on it."""
    book = ApprovalBook(None)
    assert [entry.program for entry in allow_for_the_chat(book, "sed -n 1,5p notes.txt")] == ["sed"]
    assert book.decide(shell("sed -n '/def /p' app.py"), "exec", SESSION) == "auto"
    # a bracket may hold a / in GNU sed: `/[/s/x]/` is one address, then `!e touch PWNED`
    # (third attacker review: it had read as the address /[/ and a harmless s///)
    bracket = "sed -n '/[/s/x]/!e touch PWNED #/g' f"
    for attack in (
        "sed -i s/a/b/ conftest.py",
        "sed -n '1e touch PWNED' f",
        "sed 's/x/id/e' f",
        "sed 'w out' f",
        bracket,
    ):
        assert book.decide(shell(attack), "exec", SESSION) == "ask", attack
    (tmp_path / "f").write_text("a\n")
    subprocess.run(["bash", "-c", bracket], cwd=tmp_path, capture_output=True, timeout=10)
    assert (tmp_path / "PWNED").exists(), "GNU sed reads the bracket's / as part of the address"
    (tmp_path / "PWNED").unlink()
    (tmp_path / "f").write_text("x\n")
    ran = subprocess.run(["sed", "s/x/touch PWNED/e", "f"], cwd=tmp_path, capture_output=True, timeout=10)
    assert ran.returncode == 0 and (tmp_path / "PWNED").exists(), "GNU sed's e flag runs the line"
