"""What thau's own process imports never comes from the workspace (paths.keep_imports_out_of).

A project installed editable into the Python thau runs on puts its src/ on sys.path. An
approved, sandboxed run_python wrote src/x.dist-info with a bandit plugin entry point and
src/x.py; the next analyze_code (security; it asks no approval) loaded bandit's plugins in
thau's own process and ran x.py there, outside the sandbox (sixth attacker review)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def python(args: list[str], env: dict[str, str] | None, cwd) -> str:
    """Run this Python with `args` in `cwd`; its output, after checking it exited 0."""
    run = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


PLANTED = {
    "src/lint_helpers-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: lint-helpers\nVersion: 0.1\n",
    "src/lint_helpers-0.1.dist-info/entry_points.txt": "[bandit.plugins]\nlint_helpers = lint_helpers:check\n",
    "src/lint_helpers.py": textwrap.dedent(
        """\
        import os
        open(os.environ["MARKER"], "w").write("ran in thau")
        from bandit.core import test_properties as t
        @t.checks("Call")
        @t.test_id("B999")
        def check(context):
            return None
        """
    ),
}

# thau's start (the config: cli._config drops the workspace's entries) with src/ already on
# sys.path as the editable install's .pth puts it, then an analyze_code call.
SCRIPT = """
import sys
from pathlib import Path
workspace = Path(sys.argv[1])
sys.path.append(str(workspace / "src"))
if sys.argv[2] == "start":
    from thau_tui.cli import _config, build_parser
    _config(build_parser().parse_args(["--config", sys.argv[3]]))
from thau_tui.config import Config
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolContext
config = Config()
config.tools.workspace = str(workspace)
print(build_registry().get("analyze_code").run(
    {"code": "print(1)", "analysis_type": "security"}, ToolContext(workspace=workspace, config=config)
).output)
"""


def test_a_plugin_planted_in_an_editable_src_folder_does_not_load_in_thau(tmp_path):
    workspace = tmp_path / "ws"
    for name, text in PLANTED.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    config = tmp_path / "config.yaml"
    config.write_text(f"tools:\n  workspace: {workspace}\n")
    marker = tmp_path / "MARKER"
    env = {**os.environ, "MARKER": str(marker), "THAU_HOME": str(tmp_path / "home")}

    def analyze(start: str) -> str:
        return python(["-c", SCRIPT, str(workspace), start, str(config)], env, tmp_path)

    assert "no security issues" in analyze("start")
    assert not marker.exists()
    analyze("no start")  # what the check guards against: without it, the plugin runs in thau
    assert marker.read_text() == "ran in thau"


def test_this_pythons_folders_stay_and_thaus_checkout_goes_when_it_is_the_workspace(tmp_path, monkeypatch):
    import importlib
    from pathlib import Path

    import thau_tui
    import thau_tui.engine
    from thau_tui.paths import keep_imports_out_of

    root = Path(thau_tui.__file__).resolve().parent.parent
    editable = tmp_path / "ws" / "src"
    editable.mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(editable), "__editable__.x-1.finder.__path_hook__"])
    assert keep_imports_out_of(tmp_path / "ws") == [str(editable)]
    standard = [entry for entry in sys.path if entry.startswith((sys.base_prefix, sys.prefix))]
    assert standard
    keep_imports_out_of(Path("/"))  # the whole disk: the standard library and site-packages stay
    assert [entry for entry in sys.path if entry in standard] == standard
    assert sys.path[-1].endswith("__path_hook__")
    # thau's own checkout as the workspace (an editable install): its top level goes too (a
    # *.dist-info or a module a tool writes there would be imported by thau)...
    checkout = tmp_path / "checkout"
    (checkout / "evil-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(checkout), *sys.path])
    assert keep_imports_out_of(checkout) == [str(checkout)]
    # ...and thau still finds its own modules: through its package, not sys.path.
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if Path(entry or ".").resolve() != root])
    monkeypatch.delitem(sys.modules, "thau_tui.engine.cpu_load", raising=False)  # imported afresh
    monkeypatch.setattr(thau_tui.engine, "cpu_load", None, raising=False)
    assert importlib.import_module("thau_tui.engine.cpu_load").__file__.startswith(str(root))


# What `thau` imports before cli._config runs: a pydantic plugin planted in an editable src/
# (the config models load every plugin an installed distribution names) and a module on a
# PYTHONPATH that points into the workspace (attacker review, 2026-12-06).
EARLY_PLANTED = {
    "src/pwn-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: pwn\nVersion: 0.1\n",
    "src/pwn-0.1.dist-info/entry_points.txt": "[pydantic]\npwn = pwn_plugin\n",
    "src/pwn_plugin.py": textwrap.dedent(
        """\
        import os
        open(os.environ["MARKER"], "a").write("pydantic plugin ran in thau\\n")
        def new_schema_validator(*args, **kwargs):
            return None, None, None
        """
    ),
    "src/yaml.py": 'import os\nopen(os.environ["MARKER"], "a").write("src/yaml.py ran in thau\\n")\n',
    # `import copy` (platformdirs imports it) tries `from org.python.core import PyStringMap`
    "src/org/__init__.py": 'import os\nopen(os.environ["MARKER"], "a").write("src/org ran in thau\\n")\n',
}
# As the console script starts thau: its own folder first on sys.path, not the current one (-P).
ENTRY = "import sys\nfrom thau_tui.{module} import main\nsys.exit(main(['--version']))\n"


def test_nothing_planted_in_the_workspace_loads_before_thau_reads_its_config(tmp_path):
    workspace = tmp_path / "ws"
    for name, text in EARLY_PLANTED.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    marker = tmp_path / "MARKER"
    env = {**os.environ, "MARKER": str(marker), "THAU_HOME": str(tmp_path / "home"), "PYTHONPATH": "src"}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)

    def version(module: str) -> str:
        return python(["-P", "-c", ENTRY.format(module=module)], env, workspace)

    assert version("start").startswith("thau ")  # the `thau` command's entry point
    assert not marker.exists()
    version("cli")  # what it guards against: straight into cli, each ran inside thau
    assert set(marker.read_text().splitlines()) == {
        "src/org ran in thau",
        "src/yaml.py ran in thau",
        "pydantic plugin ran in thau",
    }


def test_thaus_python_children_drop_the_workspace_from_their_imports_too(tmp_path):
    """A child of thau (the trainer, doctor's decode check, the template worker) reads its
    Python's .pth files and PYTHONPATH again: a planted src/yaml.py was imported there
    (attacker re-review). thau names the workspace in THAU_KEEP_IMPORTS_OUT; thau_tui's
    first lines drop its entries before anything else is imported."""
    from thau_tui import KEEP_OUT_VARIABLE

    workspace = tmp_path / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "yaml.py").write_text("PLANTED = True\n")
    code = "import thau_tui, yaml; print(getattr(yaml, 'PLANTED', False))"
    env = {**os.environ, "PYTHONPATH": str(workspace / "src")}
    env.pop(KEEP_OUT_VARIABLE, None)

    def planted_imported(extra: dict[str, str]) -> str:
        return python(["-c", code], {**env, **extra}, tmp_path).strip()

    assert planted_imported({KEEP_OUT_VARIABLE: str(workspace)}) == "False"
    assert planted_imported({}) == "True"  # what it guards against


# A flat-layout project installed editable: setuptools maps its modules into the workspace
# with a finder on sys.meta_path (here one of the same shape), its *.dist-info sits in
# site-packages, outside the workspace, and names a bandit plugin in the workspace's module.
FINDER_SCRIPT = """
import importlib.machinery, sys
from pathlib import Path
workspace, dist_folder, config_file = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

class EditableFinder:  # setuptools' __editable___lintkit_finder, reduced
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "lintkit" or name.startswith("lintkit."):
            return importlib.machinery.PathFinder.find_spec(name, path or [str(workspace)])
        return None

sys.meta_path.append(EditableFinder)
sys.path.append(dist_folder)
if sys.argv[4] == "start":
    from thau_tui.cli import _config, build_parser
    _config(build_parser().parse_args(["--config", config_file]))
from thau_tui.config import Config
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolContext
config = Config()
config.tools.workspace = str(workspace)
print(build_registry().get("analyze_code").run(
    {"code": "print(1)", "analysis_type": "security"}, ToolContext(workspace=workspace, config=config)
).output)
"""


def test_a_module_an_editable_finder_maps_into_the_workspace_does_not_load_in_thau(tmp_path):
    """Attacker review (2026-12-06): keep_imports_out_of only took folders off sys.path; a
    bandit plugin found through setuptools' editable finder still ran at analyze_code."""
    workspace = tmp_path / "ws"
    (workspace / "lintkit").mkdir(parents=True)
    (workspace / "lintkit" / "__init__.py").write_text("")
    (workspace / "lintkit" / "checks.py").write_text(PLANTED["src/lint_helpers.py"])
    dist = tmp_path / "site" / "lintkit-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lintkit\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[bandit.plugins]\nlintkit = lintkit.checks:check\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"tools:\n  workspace: {workspace}\n")
    marker = tmp_path / "MARKER"
    env = {**os.environ, "MARKER": str(marker), "THAU_HOME": str(tmp_path / "home")}

    def analyze(start: str) -> str:
        return python(["-c", FINDER_SCRIPT, str(workspace), str(dist.parent), str(config), start], env, tmp_path)

    assert "no security issues" in analyze("start")
    assert not marker.exists()
    analyze("no start")
    assert marker.read_text() == "ran in thau"


def test_started_in_the_home_folder_the_users_own_site_packages_stay(tmp_path):
    """Started in ~, the folders dropped from sys.path held the user's site-packages too
    (`pip install --user`): thau could not import its own dependencies (final review)."""
    from thau_tui import KEEP_OUT_VARIABLE

    home = tmp_path / "home"
    user_base = home / ".local"
    site_folder = user_base / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    site_folder.mkdir(parents=True)
    (site_folder / "usermod.py").write_text("OK = True\n")
    env = {**os.environ, "PYTHONUSERBASE": str(user_base), KEEP_OUT_VARIABLE: str(home)}
    assert python(["-c", "import thau_tui, usermod; print(usermod.OK)"], env, tmp_path).strip() == "True"


def test_thau_starts_in_a_folder_deleted_under_it(tmp_path):
    """`thau` in a folder removed meanwhile printed a traceback (final review)."""
    script = "import sys\nfrom thau_tui.start import main\nsys.exit(main(['--version']))\n"
    run = subprocess.run(
        ["sh", "-c", 'mkdir gone && cd gone && rmdir ../gone && exec "$0" -P -c "$1"', sys.executable, script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stdout.startswith("thau "), run.stderr
