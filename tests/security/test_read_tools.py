"""Tools that run without approval (read risk), fed hostile arguments and hostile files.

A model steered by a file it read can call them at will, so none may run code that writes,
hang the app, read what the workspace keeps off, or show what its card does not say.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thau_tui.config import Config
from thau_tui.tools import file_search
from thau_tui.tools.base import ToolContext, ToolError
from thau_tui.tools.devtools import search_docs
from thau_tui.tools.python import run_process


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("query", ["venv.__main__", "json.__main__", "os._exit", "antigravity", "idlelib.idle"])
def test_search_docs_refuses_names_whose_import_acts(query, workspace, config, canary):
    """`venv.__main__` made three virtualenvs in the workspace (named from sys.argv) without
    the user being asked: importing a name runs that module's code."""
    before = _files(workspace)
    with pytest.raises(ToolError, match="public names only"):
        search_docs({"query": query}, ToolContext(workspace=workspace, config=config))
    assert _files(workspace) == before


def test_search_docs_still_shows_public_pages(workspace, config):
    result = search_docs({"query": "venv.EnvBuilder"}, ToolContext(workspace=workspace, config=config))
    assert result.ok and "class EnvBuilder" in result.output
    assert _files(workspace) == []


def test_the_docs_lookup_runs_with_the_workspace_read_only(workspace, config, canary):
    """What a module does when imported cannot write the workspace: the lookup's sandbox
    keeps it read-only (a file there would run at the user's next pytest or make)."""
    ctx = ToolContext(workspace=workspace, config=config)
    code = "open('conftest.py', 'w').write('import os')"
    done = run_process([sys.executable, "-c", code], ctx, timeout=20, stream=False, writable=False)
    assert done.exit_status != 0 and "Read-only file system" in done.output
    assert not (workspace / "conftest.py").exists()
    wrote = run_process([sys.executable, "-c", code], ctx, timeout=20, stream=False)  # a tool that asked first
    assert wrote.exit_status == 0 and (workspace / "conftest.py").exists()


def test_the_docs_lookup_leaves_no_arguments_for_a_module_to_act_on(workspace, config):
    from thau_tui.tools import docs_lookup

    probe = "import sys, os; print('ARGV', sys.argv, 'CWD', os.getcwd())"
    script = docs_lookup._DOCS_SCRIPT.split("start = time.monotonic()")[0] + probe
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, "json", "100", "5", str(workspace)],
        capture_output=True,
        text=True,
        cwd=workspace,
    )
    assert "ARGV ['-c'] CWD" in done.stdout
    assert str(workspace) not in done.stdout.split("CWD", 1)[1]


# search_code with a pattern that backtracks forever, in a child process (the old search held
# the GIL, so in-process it would have frozen the test run too), a thread ticking meanwhile.
SLOW_PATTERN = """
import sys, threading, time
from pathlib import Path
from thau_tui.config import Config
from thau_tui.tools import file_search
from thau_tui.tools.base import ToolContext
file_search.SEARCH_SECONDS = 1.0
workspace = Path(sys.argv[1])
(workspace / "slow.txt").write_text("a" * 40 + "!\\n")
gaps, last, done = [], [time.monotonic()], threading.Event()
def tick():
    while not done.is_set():
        time.sleep(0.01); now = time.monotonic(); gaps.append(now - last[0]); last[0] = now
threading.Thread(target=tick, daemon=True).start()
result = file_search.search_code({"pattern": sys.argv[2]}, ToolContext(workspace=workspace, config=Config()))
done.set()
print(result.output)
print("MAX_GAP", max(gaps, default=0.0))
"""


@pytest.mark.parametrize(
    "pattern, outcome",
    [("(a+)+$", "no matches for"), ("(a|aa)+$", "stopped after 1 s")],  # regex sees through the first
)
def test_a_pattern_that_backtracks_forever_stops_and_leaves_the_app_running(workspace, pattern, outcome):
    """`(a+)+$` on a line of 40 a's: Python's re never returned and held the GIL, so the
    whole app froze and Esc did nothing. Now a search stops at its time limit, and other
    threads (the UI) run all along."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", SLOW_PATTERN, str(workspace), pattern], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("search_code was still matching after 60 s")
    assert done.returncode == 0, done.stderr
    assert outcome in done.stdout
    gap = float(done.stdout.rsplit("MAX_GAP", 1)[1])
    assert gap < 0.5, f"another thread waited {gap:.2f} s for the search"


BIG_PATTERN = """
import resource, sys, time
from pathlib import Path
from thau_tui.config import Config
from thau_tui.tools.base import ToolContext, ToolError
from thau_tui.tools import file_search
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB: the size of thau with a model, roughly
start = time.monotonic()
try:
    file_search.search_code({"pattern": sys.argv[2]}, ToolContext(workspace=Path(sys.argv[1]), config=Config()))
    print("SEARCHED")
except ToolError as exc:
    print("REFUSED", exc)
print("SECONDS", time.monotonic() - start)
"""


@pytest.mark.parametrize(
    "pattern",
    [
        "x{10000000}",
        "(?:x{400}){400}",
        "(?x)x{1 # a comment\n0000000}",
        "(?x)x{2#}\n000000}",
        "[ab]{900}" * 200,
        "(?x)[#]x{1#}\n0000000}",  # a # in a class is no comment: read as x{1} here, x{10000000} by regex
        "(?ix:[#](?:x{3#}\n000}[#]{0}){1#}\n000})",
        "(?V1x)[#]x{1#}\n0000000}",  # regex's version flag before the x
        # Within the product's cap, but a long body: 1.9 GB and a 2.9 s stall (attacker review)
        "(?:(?:" + "|".join([r"\p{L}x", r"[^a-z]y", r"\w\dz", r"q\s\S", r"(?i:kk)", r"\bmm"] * 6) + "){100}){1000}",
    ],
    ids=[
        "one count",
        "nested",
        "verbose",
        "a brace in a comment",
        "200 in a row",
        "a # in a class",
        "scoped flag",
        "version flag",
        "a long body",
    ],
)
def test_a_pattern_with_huge_repeat_counts_is_refused_before_it_is_compiled(workspace, pattern):
    """Compiling unrolls repeat counts inside thau, before the search's time limit applies:
    `x{10000000}` (11 characters, no card: search_code only reads) took 2.6 GB and held the
    GIL for seconds, and nested counts multiply. Such a pattern is refused now; before, this
    process (held to 1 GB) died of MemoryError."""
    done = subprocess.run(
        [sys.executable, "-c", BIG_PATTERN, str(workspace), pattern], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert (
        "REFUSED the pattern repeats too much" in done.stdout or "REFUSED the pattern turns on verbose" in done.stdout
    )
    assert "REFUSED" in done.stdout, done.stdout
    assert float(done.stdout.rsplit("SECONDS", 1)[1]) < 1


def test_small_repeat_counts_still_search(workspace, config):
    (workspace / "log.txt").write_text("released 2026-12-06\n" + "x" * 400 + "\n")
    found = file_search.search_code({"pattern": r"\d{4}-\d{2}-\d{2}"}, ToolContext(workspace=workspace, config=config))
    assert "log.txt:1: released 2026-12-06" in found.output
    # One count of 400 is under both caps; each count was read twice (with and without
    # comments), so its square ran over the product's cap and it was refused.
    long_run = file_search.search_code({"pattern": "x{400}"}, ToolContext(workspace=workspace, config=config))
    assert long_run.ok and "log.txt:2:" in long_run.output


def test_search_code_in_a_subfolder_keeps_off_what_the_workspace_keeps_off(workspace, config, monkeypatch):
    """In a home-folder workspace, read_file refuses ~/dotfiles/bashrc (the target of ~/.bashrc);
    search_code from '.' skipped it, but from 'dotfiles' printed the token in it."""
    from thau_tui.tools.file_search import search_code

    monkeypatch.setenv("HOME", str(workspace))
    monkeypatch.setenv("THAU_HOME", str(workspace / ".thau"))
    (workspace / "dotfiles").mkdir()
    (workspace / "dotfiles" / "bashrc").write_text("export GITHUB_TOKEN=ghp_SECRET123\n")
    (workspace / ".bashrc").symlink_to(workspace / "dotfiles" / "bashrc")
    ctx = ToolContext(workspace=workspace, config=config)
    for path in (".", "dotfiles"):
        found = search_code({"pattern": "TOKEN", "path": path}, ctx)
        assert "ghp_SECRET123" not in found.output, path


def test_list_directory_does_not_look_through_links(workspace, config, canary):
    """A link in a cloned repo to ~/.ssh/id_ed25519 (or a folder outside): the listing
    followed it and told the file's size, and a linked folder was listed as a folder."""
    from thau_tui.tools.files import list_directory

    (workspace / "key").symlink_to(canary)
    (workspace / "out").symlink_to(canary.parent)
    (workspace / "gone").symlink_to(workspace / "nothing-here")
    (workspace / "real.txt").write_text("12345")
    listing = list_directory({"path": "."}, ToolContext(workspace=workspace, config=config)).output
    size = f"({canary.stat().st_size} B)"
    assert "key  (link)" in listing and "out  (link)" in listing and "gone  (link)" in listing
    assert size not in listing and "out/" not in listing
    assert "real.txt  (5 B)" in listing


def test_search_docs_never_imports_a_project_installed_editable_from_the_workspace(tmp_path, workspace, canary):
    """pip install -e puts the workspace's source on sys.path through a .pth file, so
    documenting that package imported code a tool or a cloned repository wrote there, with
    no card (and with no sandbox where bubblewrap cannot run). A package the same .pth
    finds outside the workspace is still documented, so the lookup itself works."""
    import sysconfig
    import textwrap

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert site != sysconfig.get_paths()["purelib"]
    elsewhere = venv / "shared-src"  # outside the workspace, and visible in the sandbox
    for folder, name in ((workspace / "src", "wsdocs"), (elsewhere, "otherdocs")):
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f'"""The {name} package."""\nprint("{name.upper()} IMPORTED")\n')
    (Path(site) / "__editable__.wsdocs.pth").write_text(f"{workspace / 'src'}\n{elsewhere}\n")
    probe = textwrap.dedent(
        f"""
        from pathlib import Path
        from thau_tui.config import Config
        from thau_tui.tools.base import ToolContext
        from thau_tui.tools.devtools import search_docs
        ctx = ToolContext(workspace=Path({str(workspace)!r}), config=Config())
        for name in ("wsdocs", "otherdocs"):
            result = search_docs({{"query": name}}, ctx)
            print(name, result.ok, result.output.replace("\\n", " | "))
        """
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120)
    lines = {
        line.split(" ", 1)[0]: line for line in done.stdout.splitlines() if line.startswith(("wsdocs", "otherdocs"))
    }
    assert done.returncode == 0, done.stderr
    assert lines["wsdocs"].startswith("wsdocs False") and "imported from the workspace" in lines["wsdocs"]
    assert "WSDOCS IMPORTED" not in done.stdout
    assert lines["otherdocs"].startswith("otherdocs True") and "OTHERDOCS IMPORTED" in done.stdout


def _docs_agent(tmp_path, sandbox: str):
    import json as _json

    from scripted import ScriptedBackend

    from thau_tui.engine.agent import Agent
    from thau_tui.engine.approvals import ApprovalBook
    from thau_tui.engine.store import Store
    from thau_tui.tools import ToolRegistry
    from thau_tui.tools.devtools import TOOLS

    config = Config()
    config.tools.shell.sandbox = sandbox
    call = "<tool_call>" + _json.dumps({"name": "search_docs", "arguments": {"query": "json.dumps"}}) + "</tool_call>"
    backend = ScriptedBackend([call, "done"])
    registry = ToolRegistry([t for t in TOOLS if t.name == "search_docs"])
    book = ApprovalBook(tmp_path / "approvals.json", {})
    return Agent(
        config, registry, approvals=book, store=Store(tmp_path / "db.sqlite3"), backend=backend, workspace=tmp_path
    )


async def _asked(agent) -> list:
    from thau_tui.engine.events import ApprovalRequested, Decision, ToolFinished

    asked, finished = [], []
    async for event in agent.run_turn(agent.new_session(), "how do I use json.dumps?"):
        if isinstance(event, ApprovalRequested):
            asked.append(event)
            event.future.set_result(Decision("once"))
        if isinstance(event, ToolFinished):
            finished.append(event)
    assert finished and finished[0].result.ok and "dumps" in finished[0].result.output
    return asked


async def test_search_docs_asks_first_where_no_sandbox_holds_the_import(tmp_path):
    """Showing a page imports the module, which runs its code. Inside the sandbox that code
    cannot write (the lookup's workspace is read-only too), so search_docs runs without a
    card; with the sandbox off (or none found: no bubblewrap) the same import ran unconfined
    and unasked. It now shows a card that says why."""
    asked = await _asked(_docs_agent(tmp_path, "none"))
    assert len(asked) == 1 and asked[0].risk == "exec"
    assert "no sandbox" in asked[0].note and "search_docs runs code outside one" in asked[0].note


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap (.ci/run installs it)")
async def test_search_docs_still_runs_unasked_inside_the_sandbox(tmp_path):
    assert await _asked(_docs_agent(tmp_path, "auto")) == []


def test_what_runs_without_a_card_has_no_network_even_when_the_shell_has(workspace):
    """search_docs runs unasked in the sandbox (workspace read-only); with tools.shell.network
    on, it had the network too, so what an import did could leave the machine unasked.
    A read-only run now keeps the network off; the shell's commands keep theirs."""
    networked = Config.model_validate({"tools": {"shell": {"network": True}}})
    ctx = ToolContext(workspace=workspace, config=networked)
    interfaces = ["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"]
    unasked = run_process(interfaces, ctx, timeout=20, stream=False, writable=False)
    assert unasked.output.split() == ["lo"], unasked.output  # before: eth0 and the rest too
    asked = run_process(interfaces, ctx, timeout=20, stream=False)
    host = sorted(line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:])
    assert asked.output.split()[: len(host)] == host, asked.output  # the shell's network: the host's
