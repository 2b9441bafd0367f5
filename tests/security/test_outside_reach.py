"""Ways around the workspace that do not go through a path: programs thau starts, files
it loads at its next start and workspaces that are thau's own folders or the whole disk.
Each test failed before its fix (a helper's attacker review, 2026-12-04)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from thau_tui.config import Config, MCPServerConfig
from thau_tui.tools import build_registry
from thau_tui.tools.base import ToolContext
from thau_tui.tools.mcp_client import MCPManager


def test_an_mcp_server_does_not_start_in_the_workspace(tmp_path):
    """A command server (sandbox: false) ran as the user with the workspace as its working
    folder: `python -m mcp_server_time` imported an mcp_server_time.py that write_file had
    put there (an .npmrc works the same on npx). It now starts in thau's own folder; `.`
    and `{workspace}` in its arguments still name the workspace."""
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    marker = outside / "PLANTED_MODULE_RAN"
    planted = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n"
    written = (
        build_registry()
        .get("write_file")
        .run({"path": "mcp_server_time.py", "content": planted}, ToolContext(workspace=workspace, config=Config()))
    )
    assert written.ok, written.output
    # a stand-in server (outside the workspace) that notes where it started and its arguments
    seen = outside / "seen.json"
    (outside / "probe.py").write_text(
        f"import json, os, sys; open({str(seen)!r}, 'w').write(json.dumps([os.getcwd(), sys.argv[1:]]))\n"
    )
    configs = [
        MCPServerConfig(name="time", command=sys.executable, args=["-m", "mcp_server_time"], startup_timeout=10),
        MCPServerConfig(
            name="probe",
            command=sys.executable,
            args=[str(outside / "probe.py"), "--repository", ".", "--root={workspace}/src"],
            startup_timeout=10,
        ),
    ]
    manager = MCPManager(configs, build_registry(), workspace=workspace, log_dir=tmp_path / "logs").start()
    try:
        manager.wait_ready(20)
    finally:
        manager.stop()
    assert not marker.exists()  # before: the planted module ran, as the user, unsandboxed
    cwd, argv = json.loads(seen.read_text())
    assert Path(cwd).resolve() != workspace.resolve()
    assert argv == ["--repository", str(workspace), f"--root={workspace}/src"]


def test_an_installed_thau_loads_no_adapter_or_model_from_the_workspace(tmp_path, monkeypatch):
    """An installed thau (no checkout beside the package) looked for models/ in the current
    folder, which is the workspace: a file write_file put at models/thau-smollm2-135m-tools.lora.gguf
    was loaded by `lora_path: auto` at the next start, and planted models were offered."""
    from thau_tui import paths
    from thau_tui.engine.models import find_adapters, find_models

    installed = tmp_path / "site-packages" / "thau_tui"
    installed.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(installed / "paths.py"))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    write = build_registry().get("write_file")
    context = ToolContext(workspace=workspace, config=Config())
    for name in ("thau-smollm2-135m-tools.lora.gguf", "Planted-7B-Q4_K_M.gguf"):
        assert write.run({"path": f"models/{name}", "content": "GGUF planted"}, context).ok
    offered = [*find_models(), *find_adapters()]
    assert paths.bundled_adapter() is None or not paths.bundled_adapter().is_relative_to(workspace)
    assert not [p for p in offered if p.resolve().is_relative_to(workspace.resolve())], offered
    assert paths.repo_models_dir() == paths.data_dir() / "models"


def test_a_workspace_inside_thaus_config_folder_gets_no_file_tools(thau_home):
    """Started in its own config folder (cd ~/.config/thau && thau), thau stopped hiding that
    folder from the tools: write_file rewrote approvals.json and config.yaml, so the next
    start auto-ran the shell, without a sandbox, and started a new MCP command."""
    from thau_tui.paths import approvals_path, config_dir

    workspace = config_dir()
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "config.yaml").write_text("generation:\n  temperature: 0.5\n")
    registry, context = build_registry(), ToolContext(workspace=workspace, config=Config())
    for name, arguments in (
        ("write_file", {"path": approvals_path().name, "content": '{"run_shell": "auto"}'}),
        ("write_file", {"path": "config.yaml", "content": "tools:\n  shell:\n    sandbox: none\n"}),
        ("read_file", {"path": "config.yaml"}),
    ):
        result = registry.get(name).run(arguments, context)
        assert not result.ok and "inside thau's own config folder" in result.output, result.output
    assert not approvals_path().exists()
    assert (workspace / "config.yaml").read_text() == "generation:\n  temperature: 0.5\n"
    nested = workspace / "project"
    nested.mkdir()
    written = registry.get("write_file").run({"path": "a.txt", "content": "x"}, ToolContext(workspace=nested))
    assert not written.ok and not (nested / "a.txt").exists()


def test_a_workspace_of_the_whole_disk_gets_no_file_tools():
    """With the workspace at /, the shell was refused but read_file returned /etc/shadow."""
    context = ToolContext(workspace=Path("/"), config=Config())
    for path in ("etc/hostname", "/etc/passwd"):
        result = build_registry().get("read_file").run({"path": path}, context)
        assert not result.ok and "the whole file system" in result.output, result.output


def test_a_plugin_file_linked_into_the_workspace_is_not_loaded(tmp_path):
    """Dotfiles kept with stow: ~/.config/thau/tools/x.py -> ~/dotfiles/thau/x.py, thau started
    in ~/dotfiles. Only the folder was checked: write_file rewrote the file and its code ran
    inside thau at the next start."""
    from thau_tui.tools.plugins import PluginLoader

    workspace = tmp_path / "dotfiles"
    (workspace / "thau").mkdir(parents=True)
    marker = tmp_path / "outside" / "PLUGIN_RAN"
    plugin = (
        f"import pathlib; pathlib.Path({str(marker.parent)!r}).mkdir(exist_ok=True); "
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        'NAME = "word_count"\nDESCRIPTION = "count words"\n'
        'PARAMETERS = {"type": "object", "properties": {}}\n\ndef run(arguments):\n    return "0"\n'
    )
    config = Config()
    config.tools.workspace = str(workspace)
    written = (
        build_registry()
        .get("write_file")
        .run({"path": "thau/word_count.py", "content": plugin}, ToolContext(workspace=workspace, config=config))
    )
    assert written.ok
    folder = tmp_path / "config" / "tools"
    folder.mkdir(parents=True)
    (folder / "word_count.py").symlink_to(workspace / "thau" / "word_count.py")
    registry = build_registry()
    errors = PluginLoader(registry, folder, config).load_all()
    assert not marker.exists() and registry.get("word_count") is None
    (message,) = errors.values()
    assert "in the workspace" in message and "not loaded" in message


def test_the_python_thau_runs_on_is_read_only_when_the_workspace_holds_it(tmp_path, monkeypatch):
    """thau run from the project's own .venv: write_file (and the sandboxed shell) could add
    a .pth file to its site-packages, which ran inside thau at its next start."""
    from thau_tui.tools import sandbox

    workspace = tmp_path / "project"
    venv = workspace / ".venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    monkeypatch.setattr(sandbox, "interpreter_folders", lambda: [venv.resolve()])
    config = Config()
    config.tools.workspace = str(workspace)
    context = ToolContext(workspace=workspace, config=config)
    registry = build_registry()
    written = registry.get("write_file").run(
        {"path": ".venv/lib/site-packages/zz_thau.pth", "content": "import os; os.system('touch PWNED')\n"}, context
    )
    assert not written.ok and "the Python environment thau runs on" in written.output
    assert not (venv / "lib" / "site-packages" / "zz_thau.pth").exists()
    assert registry.get("write_file").run({"path": "src/app.py", "content": "print(1)\n"}, context).ok
    if sandbox.sandbox_kind(config)[0] == "bwrap":
        flags = sandbox.sandbox_prefix(workspace.resolve(), config)
        assert any(
            flags[i : i + 3] == ["--ro-bind", str(venv.resolve()), str(venv.resolve())] for i in range(len(flags))
        )
        shell = registry.get("run_shell").run({"command": "touch .venv/lib/site-packages/x.pth; ls src"}, context)
        context.resources["shell"].close()
        assert "Read-only file system" in shell.output and "app.py" in shell.output
        assert not (venv / "lib" / "site-packages" / "x.pth").exists()


def test_the_python_thau_runs_on_is_found_by_identity_not_by_its_name(tmp_path, monkeypatch):
    """On a case-insensitive disk (macOS) '.VENV/lib' is the .venv thau runs on, but the names
    differ, and the check compared names. Here the same folder goes by another name
    ('tools/../.venv', as Python reports it unresolved), and a write into it is refused."""
    from thau_tui.tools import sandbox

    workspace = tmp_path / "project"
    venv = workspace / ".venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    (workspace / "tools").mkdir()
    monkeypatch.setattr(sandbox, "interpreter_folders", lambda: [workspace.resolve() / "tools" / ".." / ".venv"])
    config = Config()
    config.tools.workspace = str(workspace)
    context = ToolContext(workspace=workspace, config=config)
    write = build_registry().get("write_file")
    written = write.run({"path": ".venv/lib/site-packages/zz_thau.pth", "content": "import os\n"}, context)
    assert not written.ok and "the Python environment thau runs on (.venv)" in written.output
    assert not (venv / "lib" / "site-packages" / "zz_thau.pth").exists()
    assert write.run({"path": "tools/helper.py", "content": "print(1)\n"}, context).ok


def _plant(workspace: Path, marker: Path) -> None:
    """A yaml.py and a thau_tui/ package, as an approved write or a cloned repository leaves them."""
    planted = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n"
    (workspace / "yaml.py").write_text(planted)
    (workspace / "thau_tui").mkdir()
    (workspace / "thau_tui" / "__init__.py").write_text(planted)


async def test_training_children_do_not_import_modules_from_the_workspace(tmp_path, monkeypatch):
    """The training screen and `thau train` started `python -m thau_tui.train...` in the
    current folder, the workspace: `-m` puts it first on sys.path, so a yaml.py or a
    thau_tui/ there ran as the user, outside the sandbox (third attacker review)."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from thau_tui.train import cli as train_cli
    from thau_tui.train.runs import data_command, trainer_command
    from thau_tui.train.training_run import RunState, TrainingRun

    workspace, marker = tmp_path / "ws", tmp_path / "PLANTED_MODULE_RAN"
    workspace.mkdir()
    _plant(workspace, marker)
    monkeypatch.chdir(workspace)
    recipe = Path("recipe.yaml")  # relative, as a user types it: the child must still find it
    recipe.write_text("name: [not a recipe\n")
    run = TrainingRun(recipe, "run", commands=[data_command(recipe), trainer_command(recipe, "run")])
    await run.start()
    await run.wait()
    assert run.status == "failed"
    assert "recipe.yaml" in "\n".join(run.log)  # the child read the recipe it was given, and said why it failed
    state = RunState("run")
    with Progress(console=Console(file=io.StringIO())) as progress:
        code, _ = train_cli._run_child(data_command(recipe), state, train_cli._ProgressView(progress, progress.console))
    assert code != 0
    assert not marker.exists()


def test_doctors_decode_check_does_not_import_modules_from_the_workspace(tmp_path, monkeypatch):
    from thau_tui import cli
    from thau_tui.engine import models

    workspace, marker = tmp_path / "ws", tmp_path / "PLANTED_MODULE_RAN"
    workspace.mkdir()
    _plant(workspace, marker)
    monkeypatch.chdir(workspace)
    monkeypatch.setattr(models, "resolve_model", lambda config: (tmp_path / "none.gguf", None))
    said, model_failed = cli._decode_check(None)
    assert model_failed, said  # no such model file: the real thau_tui said so
    assert "on the bundled model" in said  # then the build was checked on the bundled one
    assert not marker.exists()


def test_thaus_folders_are_private_to_the_user(tmp_path, monkeypatch):
    """The chats (what read_file read), the approvals and the logs were in 0755 folders,
    sessions.sqlite3 0644: every local user could read them (third attacker review)."""
    import os
    import stat

    from thau_tui import paths
    from thau_tui.engine.store import Store

    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    old = os.umask(0o022)
    try:
        (tmp_path / "home" / "config").mkdir(parents=True, mode=0o755)  # left by an older thau
        folders = [paths.config_dir(), paths.data_dir(), paths.cache_dir()]
        Store(paths.database_path()).close()
    finally:
        os.umask(old)
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_relative_model_settings_are_never_looked_up_in_the_workspace(tmp_path, monkeypatch):
    """images.model: models/sd-turbo (thau's own example), model.path and model.lora_path were
    looked up in the current folder (the workspace) first: a folder or GGUF of that name a tool
    or a cloned repository left was loaded into thau itself, on an approved generate_image
    (whose card does not show the model) or at the next start."""
    from thau_tui import paths
    from thau_tui.engine.models import resolve_model as chat_model
    from thau_tui.tools.imaging.pipeline import ImageModelError
    from thau_tui.tools.imaging.pipeline import resolve_model as image_model

    workspace = tmp_path / "workspace"
    (workspace / "models" / "sd-turbo").mkdir(parents=True)
    (workspace / "models" / "sd-turbo" / "model_index.json").write_text("{}")
    (workspace / "models" / "chat.gguf").write_bytes(b"GGUF")
    (workspace / "models" / "x.lora.gguf").write_bytes(b"GGUF")
    monkeypatch.chdir(workspace)
    with pytest.raises(ImageModelError, match="nothing is there") as error:
        image_model("models/sd-turbo")
    assert str(workspace) not in str(error.value)
    config = Config()
    config.model.path, config.model.lora_path = "models/chat.gguf", "models/x.lora.gguf"
    model, lora = chat_model(config)
    assert model.is_absolute() and lora is not None and lora.is_absolute()
    assert workspace not in model.parents and workspace not in lora.parents
    # thau's own models folder is where a relative name is found, with or without "models/".
    own = tmp_path / "thau-data" / "models" / "sd-turbo"
    own.mkdir(parents=True)
    monkeypatch.setattr(paths, "repo_models_dir", lambda: own.parent)
    assert image_model("sd-turbo") == own.resolve() == image_model("models/sd-turbo")


def test_thau_run_in_its_own_checkout_keeps_its_code_out_of_the_tools_reach(monkeypatch):
    """Started in its own source checkout (the developers' setup), the workspace held thau's
    own package: a module write_file or a sandboxed command put there ran inside thau itself
    at its next import. It is refused like the .venv thau runs on, and read-only in the sandbox."""
    import thau_tui
    from thau_tui.tools import sandbox

    package = Path(thau_tui.__file__).resolve().parent
    workspace = package.parent  # the checkout (site-packages where thau is installed)
    config = Config()
    config.tools.workspace = str(workspace)
    context = ToolContext(workspace=workspace, config=config)
    planted = package / "zz_planted_by_a_tool.py"
    try:
        written = (
            build_registry()
            .get("write_file")
            .run({"path": f"{package.name}/{planted.name}", "content": "x\n"}, context)
        )
        assert not written.ok and "thau's own code" in written.output and not planted.exists()
    finally:
        planted.unlink(missing_ok=True)  # a failing run must not leave it in the package
    if sandbox.sandbox_kind(config)[0] == "bwrap":
        flags = sandbox.sandbox_prefix(workspace, config)
        assert any(flags[i : i + 3] == ["--ro-bind", str(package), str(package)] for i in range(len(flags)))


def test_the_trainer_children_import_only_thau_from_their_pythonpath(tmp_path, monkeypatch):
    """trainer_env put the checkout root on PYTHONPATH, ahead of the standard library: a yaml.py
    at the top of a checkout that is the workspace was imported by the (unsandboxed) trainer.
    Each folder it adds now holds thau_tui alone, and a child started so imports this thau."""
    import subprocess
    import sys

    import thau_tui
    from thau_tui.paths import start_folder
    from thau_tui.train.runs import trainer_env

    monkeypatch.setenv("PYTHONPATH", "")
    env = trainer_env()
    folders = [Path(p) for p in env["PYTHONPATH"].split(os.pathsep) if p]
    assert folders and all(sorted(p.name for p in folder.iterdir()) == ["thau_tui"] for folder in folders)
    probe = "import thau_tui, pathlib; print(pathlib.Path(thau_tui.__file__).resolve())"
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=start_folder(), capture_output=True, text=True)
    assert done.stdout.strip() == str(Path(thau_tui.__file__).resolve())


def test_thau_s_training_runs_and_data_in_its_checkout_are_out_of_the_tools_reach(tmp_path, monkeypatch):
    """From the training review, in thau's own checkout as the workspace: train/runs is not
    in a fresh clone, and a folder that did not exist was not protected, so write_file made
    train/runs/evil-.../recipe.yaml, which `thau train --resume latest` then took (its own
    base_model and data_dir); train/data, which the shipped recipes train on, was never
    protected. Both are made at once and refused like thau's code."""
    from thau_tui import paths

    workspace = tmp_path / "checkout"
    workspace.mkdir()
    monkeypatch.setattr(paths, "runs_dir", lambda configured="train/runs": workspace / "train" / "runs")
    monkeypatch.setattr(paths, "train_data_dir", lambda: workspace / "train" / "data")
    config = Config()
    config.tools.workspace = str(workspace)
    context = ToolContext(workspace=workspace, config=config)
    write = build_registry().get("write_file")
    for target, what in (
        ("train/runs/evil-20991231-000000/recipe.yaml", "thau's training runs"),
        ("train/data/train.jsonl", "thau's training data"),
        # shipped recipes train on other folders there too, which did not exist yet (third review)
        ("train/data-90min/train.jsonl", "thau's training data"),
        ("train/data-diverse36/eval.jsonl", "thau's training data"),
    ):
        written = write.run({"path": target, "content": "name: planted\n"}, context)
        assert not written.ok and what in written.output, written.output  # before: written
        assert not (workspace / target).exists()
