"""Programs thau runs itself, outside the sandbox, are never found in the workspace.

bubblewrap was looked up on the user's PATH: a `bwrap` committed to a cloned repository
(PATH with an empty entry) or written to an activated .venv/bin by an approved, sandboxed
run ran as the "sandbox" at the next start or the next call that asks no approval, outside
it; an MCP server's `uvx` and the clipboard's `tmux` the same way (attacker review,
2026-12-06). thau_tui.host_programs looks them up without those folders."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from thau_tui.config import Config, MCPServerConfig
from thau_tui.tools import sandbox
from thau_tui.tools.mcp_connection import MCPConfigError, stdio_params

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap: Linux")


def plant(folder, name, marker, then: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\necho planted >> {marker}\n{then}\n")
    program.chmod(0o755)


@pytest.fixture
def fresh_probe(monkeypatch):
    monkeypatch.setattr(sandbox, "_probe_cache", {})


def test_a_bwrap_in_the_workspace_venv_never_runs_as_the_sandbox(workspace, canary, tmp_path, monkeypatch, fresh_probe):
    real = shutil.which("bwrap")
    assert real, "this test needs bubblewrap (.ci/run installs it)"
    marker = tmp_path / "MARKER"
    plant(workspace / ".venv" / "bin", "bwrap", marker, f'exec {real} "$@"')
    monkeypatch.setenv("PATH", f"{workspace / '.venv' / 'bin'}:{os.environ['PATH']}")
    config = Config()
    config.tools.workspace = str(workspace)
    assert sandbox.sandbox_kind(config)[0] == "bwrap"
    prefix = sandbox.sandbox_prefix(workspace, config)
    assert prefix[0] in (real, sys.executable) and real in prefix
    assert not marker.exists()


def test_a_bwrap_in_the_current_folder_never_runs_through_an_empty_path_entry(
    workspace, canary, tmp_path, monkeypatch, fresh_probe
):
    real = shutil.which("bwrap")
    assert real, "this test needs bubblewrap (.ci/run installs it)"
    marker = tmp_path / "MARKER"
    plant(workspace, "bwrap", marker, f'exec {real} "$@"')  # committed to the cloned repository
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("PATH", f":{os.environ['PATH']}")  # PATH=$EXTRA:$PATH, EXTRA unset
    assert "bubblewrap" in sandbox.sandbox_status(None)
    prefix = sandbox.sandbox_prefix(workspace, None)
    assert prefix[0] in (real, sys.executable) and real in prefix
    assert not marker.exists()


def test_only_a_bwrap_in_the_workspace_means_no_sandbox_and_says_why(workspace, tmp_path, monkeypatch, fresh_probe):
    marker = tmp_path / "MARKER"
    plant(workspace / "bin", "bwrap", marker)
    monkeypatch.setenv("PATH", f"{workspace / 'bin'}:/nonexistent")
    config = Config()
    config.tools.workspace = str(workspace)
    kind, why = sandbox.sandbox_kind(config)
    assert kind == "none" and "in the workspace" in why
    assert not marker.exists()


def test_an_mcp_server_command_found_only_in_the_workspace_is_not_started(workspace, tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    plant(workspace / ".venv" / "bin", "uvx", marker)
    monkeypatch.setenv("PATH", f"{workspace / '.venv' / 'bin'}:{os.environ['PATH']}")
    config = Config()
    config.tools.workspace = str(workspace)
    with pytest.raises(MCPConfigError, match="in the workspace"):
        stdio_params(MCPServerConfig(name="git", command="uvx", args=["mcp-server-git"]), workspace, config)
    # One outside the workspace runs by its full path; a path the user wrote stays as written.
    params = stdio_params(MCPServerConfig(name="echo", command="sh"), workspace, config)
    assert params.command == shutil.which("sh")
    planted = str(workspace / ".venv" / "bin" / "uvx")
    assert stdio_params(MCPServerConfig(name="mine", command=planted), workspace, config).command == planted


def test_the_clipboard_never_runs_a_tmux_planted_in_the_workspace(workspace, tmp_path, monkeypatch):
    from thau_tui.ui.clipboard import system_copy

    marker = tmp_path / "MARKER"
    plant(workspace / ".venv" / "bin", "tmux", marker)
    monkeypatch.setenv("PATH", f"{workspace / '.venv' / 'bin'}:/nonexistent")
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert system_copy("ls -l\n", workspace) is None
    assert not marker.exists()


def test_with_the_home_folder_as_workspace_its_own_bin_folders_still_serve(tmp_path, monkeypatch):
    """The sandbox keeps ~/.local/bin and the PATH folders under a home-folder workspace
    read-only, so a pipx `uvx` there is no planted program (attacker re-review)."""
    home = tmp_path / "home"
    plant(home / ".local" / "bin", "uvx", tmp_path / "MARKER")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{home / '.local' / 'bin'}:/usr/bin:/bin")
    monkeypatch.chdir(home)
    config = Config()
    config.tools.workspace = str(home)
    params = stdio_params(MCPServerConfig(name="git", command="uvx"), home, config)
    assert params.command == str(home / ".local" / "bin" / "uvx")


def test_without_a_sandbox_the_shell_is_never_a_bash_planted_in_the_workspace(workspace, tmp_path, monkeypatch):
    from thau_tui.tools.shell_spawn import ShellLaunch

    plant(workspace / ".venv" / "bin", "bash", tmp_path / "MARKER")
    monkeypatch.setenv("PATH", f"{workspace / '.venv' / 'bin'}:{os.environ['PATH']}")
    config = Config()
    config.tools.workspace = str(workspace)
    config.tools.shell.sandbox = "none"
    bash = ShellLaunch.plan(workspace, config).argv[0]
    assert bash == shutil.which("bash", path=os.environ["PATH"].split(":", 1)[1])


def test_started_in_the_home_folder_a_project_workspaces_bwrap_is_still_refused(tmp_path, monkeypatch, fresh_probe):
    """cd ~ with tools.workspace ~/proj: the home folder (the current folder) holds
    ~/proj/.venv/bin, yet the sandbox keeps only a home-folder workspace's PATH folders
    read-only, and ~/proj is the workspace: its planted bwrap ran (final review)."""
    real = shutil.which("bwrap")
    assert real, "this test needs bubblewrap (.ci/run installs it)"
    home = tmp_path / "home"
    project = home / "proj"
    marker = tmp_path / "MARKER"
    plant(project / ".venv" / "bin", "bwrap", marker, f'exec {real} "$@"')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{project / '.venv' / 'bin'}:{os.environ['PATH']}")
    monkeypatch.chdir(home)
    config = Config()
    config.tools.workspace = str(project)
    assert sandbox.sandbox_kind(config)[0] == "bwrap"
    prefix = sandbox.sandbox_prefix(project, config)
    assert prefix[0] in (real, sys.executable) and real in prefix
    assert not marker.exists()
