"""search_docs never runs the workspace's code, however an installed package reaches it.

search_docs runs without a card and documents a module by importing it in a sandboxed
child. These cases install packages the ways projects get installed (setuptools' editable
finder, an editable src/ in a .pth file, flit's symlinks) into a real virtual environment,
run search_docs with that environment's Python (its site-packages are the ones the lookup
sees) and look for the marker each piece of workspace code prints when it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import thau_tui

PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from thau_tui.config import Config
    from thau_tui.tools.base import ToolContext
    from thau_tui.tools.devtools import search_docs
    results = {}
    for query, memory_mb in json.loads(sys.argv[2]):
        config = Config()
        config.tools.shell.memory_mb = memory_mb
        result = search_docs({"query": query}, ToolContext(workspace=Path(sys.argv[1]), config=config))
        results[query] = [result.ok, result.output]
    print(json.dumps(results))
    """
)


def _marker(name: str) -> str:
    """Source that shows it ran: the sandbox keeps everything read-only, so it prints."""
    return f'"""The {name} module."""\nprint("{name.upper()} RAN")\n'


@pytest.fixture(scope="module")
def looked_up(tmp_path_factory) -> dict[str, tuple[bool, str]]:
    """Every query's (ok, output), from one search_docs child on one virtual environment."""
    from setuptools.command.editable_wheel import _finder_template  # what `pip install -e` writes

    root = tmp_path_factory.mktemp("docs")
    workspace, venv = root / "workspace", root / "venv"
    workspace.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # 1. A namespace package installed editable: setuptools' finder maps acme.docsprobe to
    #    the workspace; `acme` itself is found nowhere there.
    (workspace / "acme" / "docsprobe").mkdir(parents=True)
    (workspace / "acme" / "docsprobe" / "__init__.py").write_text(_marker("acme"))
    mapping = {"acme.docsprobe": str(workspace / "acme" / "docsprobe")}
    (site / "__editable___acme_finder.py").write_text(_finder_template("acme", mapping, {"acme": []}))
    (site / "__editable__.acme.pth").write_text("import __editable___acme_finder; __editable___acme_finder.install()\n")
    # 2. An editable src/ layout: the .pth file puts src/ on sys.path, and a sitecustomize.py
    #    there ran at the lookup's start, before any check.
    (workspace / "src").mkdir()
    (workspace / "src" / "sitecustomize.py").write_text(_marker("sitecustomize"))
    (site / "__editable__.proj.pth").write_text(f"{workspace / 'src'}\n")
    # 3. flit install --symlink: site-packages links into the workspace. A second part of a
    #    name (nsroot.probe: nsroot is a plain folder in site-packages) and a module an
    #    installed module imports (plainmod imports wslinked) both lead there.
    (workspace / "probe").mkdir()
    (workspace / "probe" / "__init__.py").write_text(_marker("probe"))
    (site / "nsroot").mkdir()
    os.symlink(workspace / "probe", site / "nsroot" / "probe")
    (workspace / "wslinked.py").write_text(_marker("wslinked"))
    os.symlink(workspace / "wslinked.py", site / "wslinked.py")
    (site / "plainmod.py").write_text('"""An installed module."""\nimport wslinked\n')
    # 4. Modules outside the workspace still load: one in this environment, one from the
    #    system site-packages it includes, and one that allocates past the memory cap.
    (site / "outsidemod.py").write_text(_marker("outsidemod"))
    (site / "hogmod.py").write_text(
        '"""Allocates at import."""\nimport resource\n'
        'print("DATA LIMIT", resource.getrlimit(resource.RLIMIT_DATA)[0])\n'
        "block = bytearray(512 * 1024 * 1024)\n"
    )
    queries = [
        ("acme.docsprobe", 4096),
        ("nsroot.probe", 4096),
        ("plainmod", 4096),
        ("json.dumps", 4096),
        ("outsidemod", 4096),
        ("pluggy.HookimplMarker", 4096),
        ("hogmod", 256),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(thau_tui.__file__).resolve().parent.parent)}
    done = subprocess.run(
        [str(python), "-c", PROBE, str(workspace), json.dumps(queries)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    return {query: (ok, output) for query, (ok, output) in json.loads(done.stdout.splitlines()[-1]).items()}


def test_a_namespace_package_installed_editable_is_not_imported(looked_up):
    """The check looked at `acme` only (found nowhere in the workspace), then pydoc imported
    acme.docsprobe through setuptools' editable finder: the workspace's code ran unasked."""
    _, output = looked_up["acme.docsprobe"]
    assert "ACME RAN" not in output, output
    assert "no Python object named 'acme.docsprobe'" in output  # the finder's .pth never ran


def test_a_sitecustomize_in_an_editable_src_does_not_run(looked_up):
    """The child processed the .pth files: src/ went on sys.path and its sitecustomize.py
    ran at start, on every lookup. The page is still shown."""
    ok, output = looked_up["json.dumps"]
    assert "SITECUSTOMIZE RAN" not in output
    assert ok and output.startswith("Python documentation for function dumps in module json")


def test_a_second_part_of_a_name_in_the_workspace_is_refused(looked_up):
    ok, output = looked_up["nsroot.probe"]
    assert "PROBE RAN" not in output and not ok, output
    assert "nsroot.probe is imported from the workspace" in output


def test_a_module_an_installed_module_imports_from_the_workspace_is_refused(looked_up):
    ok, output = looked_up["plainmod"]
    assert "WSLINKED RAN" not in output and not ok, output
    assert "wslinked is imported from the workspace" in output


def test_modules_outside_the_workspace_are_still_documented(looked_up):
    ok, output = looked_up["outsidemod"]
    assert ok and "OUTSIDEMOD RAN\nPython module outsidemod" in output
    ok, output = looked_up["pluggy.HookimplMarker"]
    assert ok and "class HookimplMarker" in output, output


def test_the_lookup_runs_under_the_shells_memory_cap(looked_up):
    """An import that allocates without end had the machine's memory: now tools.shell.memory_mb."""
    _, output = looked_up["hogmod"]
    assert f"DATA LIMIT {256 * 1024 * 1024}" in output
    assert "[importing hogmod failed: ErrorDuringImport: problem in hogmod - MemoryError" in output
